"""The events panel: the newest events, newest first, each as a short coloured phrase."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.panel import Panel
from rich.text import Text

from chaoslab.algorithms.spec import AlgorithmSpec

from .snapshot import fmt_ago, num
from .style import BAD, DIM, WARN, role_text, term_text
from .widgets import framed, table

__all__ = ["describe_event", "events_panel"]


def _who(event: Mapping[str, Any]) -> str:
    for key in ("node", "target"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return value
    nodes_ = event.get("nodes")
    if isinstance(nodes_, list) and nodes_:
        return ",".join(str(n) for n in nodes_)
    return str(event.get("source") or "?")


_KNOWN_KEYS = {"time", "source", "kind", "node", "target", "nodes"}


def describe_event(event: Mapping[str, Any], spec: AlgorithmSpec | None = None) -> Text:
    """One event as a short coloured phrase; unknown kinds as ``kind key=value ...``.

    ``spec`` (the algorithm's) colours the roles in ``role`` events."""
    kind = str(event.get("kind") or "?")
    term = num(event, "term", default=-1)

    unit = spec.term_name if spec is not None else "term"
    word = next((r for r, k in spec.roles.items() if k == "lead"), "leader") if spec is not None else "leader"

    def with_term(out: Text) -> Text:
        if term >= 0 and "term" in event:
            out.append(f" · {unit} ")
            out.append_text(term_text(term))
        return out

    if kind == "role":
        role = str(event.get("role") or "?")
        return with_term(Text("became ").append_text(role_text(role, spec, glyph=False)))
    if kind == "term":
        out = Text(f"{unit} → ")
        out.append_text(term_text(max(term, 0)))
        return out
    if kind == "vote":
        return with_term(Text(f"voted for {event.get('candidate') or '?'}"))
    if kind == "leader":
        leader = event.get("leader") or ""
        if leader and leader == event.get("source"):  # the node that emitted it
            return with_term(Text(f"is {word} itself"))
        return with_term(Text(f"follows {word} {leader}" if leader else f"lost its {word}"))
    if kind == "leaders":  # the supervisor saw who leads change: several at once is a split brain
        found = [str(n) for n in event.get("leaders") or []]
        count = len(found)
        label = f"{count} {word}{'s' if count != 1 else ''}" if count else f"no {word}"
        return Text(label + (": " + " ".join(found) if found else ""), style=BAD if count > 1 else ("" if count else WARN))
    if kind == "spawn":
        pid = event.get("pid")
        return Text("spawned" + (f" (pid {pid})" if pid else ""), style="green")
    if kind == "crash":
        return Text("crashed", style=BAD)
    if kind == "restart":
        return Text("restarted", style="green")
    if kind == "pause":
        return Text("paused", style="magenta")
    if kind == "resume":
        return Text("resumed", style="green")
    if kind == "exit":
        code = event.get("code")
        return Text(f"exited (code {code})", style=BAD if code not in (0, "0") else DIM)
    if kind == "fault":
        action = event.get("action") or "change"
        label = event.get("label") or ""
        out = Text(f"fault {action}", style=WARN)
        if label:
            out.append(f": {label}")
        return out
    if kind == "up":
        return Text("cluster up", style="green")
    if kind == "down":
        return Text("cluster down", style=BAD)
    out = Text(kind, style="italic")
    extras = [f"{k}={v}" for k, v in event.items() if k not in _KNOWN_KEYS]
    if extras:
        out.append(" " + " ".join(extras), style=DIM)
    return out


def events_panel(events: Sequence[Mapping[str, Any]], *, now: float, limit: int = 8,
                 expand: bool = True, spec: AlgorithmSpec | None = None) -> Panel:
    """The newest ``limit`` events, newest first, with times relative to ``now``."""
    recent = sorted(
        (e for e in events if isinstance(e, Mapping)),
        key=lambda e: num(e, "time"),
        reverse=True,
    )[: max(0, limit)]
    if not recent:
        return framed(Text("no events yet", style=DIM), "Events", expand=expand)
    grid = table(header=False)
    grid.add_column("when", justify="right", no_wrap=True, style=DIM)
    grid.add_column("who", no_wrap=True, style="bold")
    grid.add_column("what", ratio=1)  # the one column that gives way on narrow terminals
    for event in recent:
        when = fmt_ago(num(event, "time"), now) if "time" in event else "?"
        what = describe_event(event, spec)
        what.no_wrap, what.overflow = True, "ellipsis"
        grid.add_row(when, _who(event), what)
    total = len(events)
    subtitle = f"{len(recent)} of {total}" if total > len(recent) else None
    return framed(grid, "Events", subtitle=subtitle, expand=expand)

"""The header line: cluster, algorithm, size, seed, uptime; on the right, who leads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from chaoslab.algorithms.spec import AlgorithmSpec

from .algorithm import lead_role, leaders, spec_for
from .snapshot import fmt_duration, get, node_state, node_status, nodes, num, text
from .style import BAD, PRE, WARN, role_kind, term_text

__all__ = ["header"]

Snapshot = Mapping[str, Any]

STALE_AFTER_S = 2.0  # a snapshot this old is marked stale


def header(snapshot: Snapshot, *, now: float, snapshot_age: float | None = None,
           spec: AlgorithmSpec | None = None) -> RenderableType:
    """One line: cluster, algorithm, size, seed, uptime; on the right, who leads.

    ``spec`` is the algorithm's (default: the one the snapshot names).
    """
    spec = spec or spec_for(snapshot)
    left = Text()
    left.append(text(snapshot, "cluster", default="?"), style="bold cyan")
    left.append(f" · {text(snapshot, 'algorithm', default='?')} ×{len(nodes(snapshot))}")
    if get(snapshot, "seed") is not None:
        left.append(f" · seed {num(snapshot, 'seed')}")
    started = num(snapshot, "started_at")
    if started:
        left.append(f" · up {fmt_duration(now - started)}")

    right = Text(justify="right")
    if snapshot_age is not None and snapshot_age >= STALE_AFTER_S:
        right.append(f"! stale {fmt_duration(snapshot_age)}", style=WARN)
        right.append("  ")
    right.append_text(leader_summary(snapshot, spec))

    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True)
    grid.add_row(left, right)
    return grid


def leader_summary(snapshot: Snapshot, spec: AlgorithmSpec | None) -> Text:
    """``leader n1 · term 3``; ``no leader · electing: ...``; several leaders (``✕ 2 leaders: ...``)
    in red, saying so when two share a term.

    The words are the spec's: its first leading role, its ``term_name``. An algorithm none of
    whose roles leads (a Maelstrom program, the Two Generals) gets how many nodes are up instead:
    "no leader" would read as a fault."""
    if spec is not None and not any(spec.leads(role) for role in spec.roles):
        listed = nodes(snapshot)
        up = sum(1 for node in listed if node_state(node) == "up")
        return Text(f"{up} of {len(listed)} up", style="green" if up == len(listed) else WARN)
    word = lead_role(spec)
    unit = spec.term_name if spec is not None else "term"
    found = leaders(snapshot, spec)
    if not found:
        out = Text(f"no {word}", style=WARN)
        electing = _electing(snapshot, spec, unit)
        if electing:
            out.append(" · electing: ", style=WARN)
            out.append(", ".join(electing))
        return out
    per_term = Counter(term for term, _ in found)
    clash = [t for t, c in per_term.items() if c > 1]
    if clash:
        ids = " ".join(i for t, i in found if t == clash[0])
        return Text(f"✕ {per_term[clash[0]]} {word}s in {unit} {clash[0]}: {ids}", style=BAD)
    term, lead = found[0]
    if len(found) > 1:
        # Several nodes each believe they lead (a split brain, or an old leader cut off in a
        # minority that has not noticed yet): say how many, newest first, each with its term.
        out = Text(f"✕ {len(found)} {word}s: ", style=BAD)
        out.append(f"{lead} · {unit} ", style="bold")
        out.append_text(term_text(term))
        out.append(", " + ", ".join(f"{i} ({unit[:1]}{t})" for t, i in found[1:]), style=WARN)
        return out
    out = Text(f"{word} {lead}", style="bold green")
    out.append(f" · {unit} ")
    out.append_text(term_text(term))
    return out


def _electing(snapshot: Snapshot, spec: AlgorithmSpec | None, unit: str) -> list[str]:
    """``n3 (term 4, 2 votes)`` for every node campaigning right now (not a ``pre_`` step), highest term first.

    The vote count comes from the algorithm's detail when it has a ``votes`` field.
    """
    found = []
    for node in nodes(snapshot):
        status = node_status(node)
        role = text(status, "role") if status is not None else ""
        if status is None or role.startswith(PRE) or role_kind(role, spec) != "campaign":
            continue
        term = num(status, "term")
        extra = ""
        if spec is not None and get(status, spec.detail, "votes") is not None:
            votes = num(status, spec.detail, "votes")
            extra = f", {votes} vote{'s' if votes != 1 else ''}"
        found.append((term, f"{text(node, 'id', default='?')} ({unit} {term}{extra})"))
    return [label for _, label in sorted(found, key=lambda x: -x[0])]

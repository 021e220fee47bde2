"""The network panel: the n×n matrix of directed links, the partition, and the fault rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from .snapshot import fmt_duration, fmt_rate, get, node_ids, num, text
from .style import DIM, LINK_GLYPH, LINK_STYLE
from .widgets import dash, framed, table

__all__ = ["link_states", "network_panel"]

Snapshot = Mapping[str, Any]


def _matches(rule: Mapping[str, Any], src: str, dst: str) -> bool:
    srcs = get(rule, "src", default=[]) or []
    dsts = get(rule, "dst", default=[]) or []
    return (not srcs or src in srcs) and (not dsts or dst in dsts)


def link_states(rules: Iterable[Mapping[str, Any]], src: str, dst: str) -> list[str]:
    """The states of the directed link src→dst under the given rules, worst first; ``["ok"]`` if none."""
    found: set[str] = set()
    for rule in rules:
        if not _matches(rule, src, dst):
            continue
        if get(rule, "blackhole", default=False):
            found.add("blackholed")
        if num(rule, "drop") > 0:
            found.add("lossy")
        if num(rule, "delay_ms") > 0 or num(rule, "jitter_ms") > 0:
            found.add("slow")
        if num(rule, "duplicate") > 0:
            found.add("duplicating")
        if num(rule, "reorder") > 0:
            found.add("reordering")
    order = ["blackholed", "lossy", "slow", "duplicating", "reordering"]
    return [s for s in order if s in found] or ["ok"]


def _group_names(groups: Sequence[str]) -> list[tuple[str, list[str]]]:
    named = []
    for i, group in enumerate(groups):
        members = [m.strip() for m in str(group).replace(" ", ",").split(",") if m.strip()]
        named.append((chr(ord("A") + i) if i < 26 else f"G{i}", members))
    return named


def _describe_rule(rule: Mapping[str, Any], now: float) -> Text:
    rid = text(rule, "id", default="?")
    out = Text(f"{rid} ", style="bold")
    label = text(rule, "label")
    if label:
        out.append(label)
    else:
        srcs = ",".join(get(rule, "src", default=[]) or []) or "*"
        dsts = ",".join(get(rule, "dst", default=[]) or []) or "*"
        parts = []
        if get(rule, "blackhole", default=False):
            parts.append("blackhole")
        if num(rule, "drop") > 0:
            parts.append(f"drop {num(rule, 'drop') * 100:.0f}%")
        if num(rule, "delay_ms") > 0 or num(rule, "jitter_ms") > 0:
            jitter = num(rule, "jitter_ms")
            parts.append(f"delay {num(rule, 'delay_ms'):g}" + (f"±{jitter:g}" if jitter else "") + "ms")
        if num(rule, "duplicate") > 0:
            parts.append(f"dup {num(rule, 'duplicate') * 100:.0f}%")
        if num(rule, "reorder") > 0:
            parts.append(f"reorder {num(rule, 'reorder') * 100:.0f}%")
        out.append(f"{' '.join(parts) or text(rule, 'kind', default='rule')} {srcs}→{dsts}")
    expires = num(rule, "expires_at")
    if expires:
        out.append(f" (ends in {fmt_duration(expires - now)})" if expires > now else " (expired)", style=DIM)
    return out


def network_panel(snapshot: Snapshot, *, now: float, width: int = 80, expand: bool = True,
                  compact: bool = False) -> Panel:
    """The n×n directed link matrix (row → column): each link's fault state and delivered
    msg/s, the active partition as named groups, and the rules in force (one line in all
    when ``compact``)."""
    ids = node_ids(snapshot)
    faults = get(snapshot, "faults")
    faults = faults if isinstance(faults, Mapping) else {}
    rules = [r for r in get(faults, "rules", default=[]) or [] if isinstance(r, Mapping)]
    counters = {
        (text(c, "src"), text(c, "dst")): c
        for c in get(faults, "links", default=[]) or []
        if isinstance(c, Mapping)
    }
    groups = _group_names(get(faults, "partition_groups", default=[]) or [])
    group_of = {m: name for name, members in groups for m in members}

    grid = table()
    grid.add_column("→", no_wrap=True, header_style=DIM)
    for nid in ids:
        grid.add_column(nid, justify="right", no_wrap=True)
    seen: set[str] = set()
    for src in ids:
        label = Text(src, style="bold")
        if group_of:
            label.append(f" {group_of.get(src, '-')}", style="cyan")
        cells: list[RenderableType] = [label]
        for dst in ids:
            if src == dst:
                cells.append(dash())
                continue
            states = link_states(rules, src, dst)
            seen.update(states)
            cell = Text()
            for s in states if states[0] != "blackholed" else states[:1]:
                cell.append(LINK_GLYPH[s], style=LINK_STYLE[s])
            counter = counters.get((src, dst))
            if counter is not None:
                cell.append(" ")
                cell.append(fmt_rate(num(counter, "rate")), style=DIM if states == ["ok"] else LINK_STYLE[states[0]])
            cells.append(cell)
        grid.add_row(*cells)

    lines: list[RenderableType] = [grid] if len(ids) > 1 else [Text("single node: no links", style=DIM)]
    if groups:
        part = Text("partition ", style="bold")
        for i, (name, members) in enumerate(groups):
            if i:
                part.append(" │ ", style=DIM)
            part.append(f"{name}: ", style="cyan")
            part.append(" ".join(members))
        lines.append(part)
    if rules and compact:
        kinds: dict[str, list[str]] = {}
        for rule in rules:
            kind = text(rule, "kind") or ("partition" if get(rule, "blackhole", default=False) else "rule")
            kinds.setdefault(kind, []).append(text(rule, "id", default="?"))
        summary = Text("rules: ", style="bold")
        summary.append(" · ".join(f"{','.join(ids)} {kind}" for kind, ids in kinds.items()))
        summary.no_wrap, summary.overflow = True, "ellipsis"
        lines.append(summary)
    elif rules:
        for rule in rules:
            line = _describe_rule(rule, now)
            line.no_wrap, line.overflow = True, "ellipsis"
            lines.append(line)
    else:
        lines.append(Text("no faults", style=DIM))
    legend = Text(style=DIM)
    for s in ("ok", "blackholed", "lossy", "slow", "duplicating", "reordering"):
        if s == "ok" or s in seen:
            legend.append(LINK_GLYPH[s], style=LINK_STYLE[s])
            legend.append(f" {s}  ")
    legend.append("n = msg/s" if counters else "(no link counters)")
    lines.append(legend)
    return framed(Group(*lines), "Network", expand=expand)

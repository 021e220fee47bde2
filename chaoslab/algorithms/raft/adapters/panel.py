"""Raft's dashboard panel: RaftScope's view of the replicated log.

Each node's log tail aligned by index, boxes coloured by term, committed entries
solid, and the leader's match/next index for every follower. The dashboard loads
:func:`raft_panel` through ``SPEC.panel``; it never imports this module by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import RenderableType
from rich.panel import Panel
from rich.text import Text

from chaoslab.algorithms.raft.spec import SPEC
from chaoslab.dashboard.algorithm import leaders
from chaoslab.dashboard.snapshot import detail, get, node_status, nodes, num, text
from chaoslab.dashboard.style import DIM, WARN, role_style, role_text, term_colour
from chaoslab.dashboard.widgets import dash, framed, no_status_text, table

__all__ = ["raft_panel"]

Snapshot = Mapping[str, Any]


def raft_panel(snapshot: Snapshot, *, width: int = 80) -> Panel:
    """RaftScope's view: each node's log tail aligned by index, boxes coloured by term,
    committed entries solid, and the leader's match/next index for every follower."""
    members = nodes(snapshot)
    lead = leaders(snapshot, SPEC)
    leader_id = lead[0][1] if lead else ""
    leader_term = lead[0][0] if lead else 0
    progress: dict[str, Mapping[str, Any]] = {}
    leader_last = 0
    for node in members:
        if text(node, "id") == leader_id:
            r = detail(node, SPEC.detail)
            leader_last = num(r, "last_index")
            for p in get(r, "progress", default=[]) or []:
                if isinstance(p, Mapping):
                    progress[text(p, "peer")] = p

    tails: dict[str, dict[int, Mapping[str, Any]]] = {}
    hi, first_known, max_term = 0, None, 1
    for node in members:
        r = detail(node, SPEC.detail)
        entries = {num(e, "index"): e for e in get(r, "log_tail", default=[]) or [] if isinstance(e, Mapping)}
        tails[text(node, "id")] = entries
        if node_status(node) is None:
            continue
        last = max([num(r, "last_index"), *entries])
        hi = max(hi, last)
        start = min(entries) if entries else num(r, "snapshot_index") + 1
        if last:
            first_known = start if first_known is None else min(first_known, start)
        max_term = max([max_term, *(num(e, "term") for e in entries.values())])

    id_w = max([len(i) for i in tails] or [2])
    cell_w = len(str(max_term)) + 2
    show_progress = bool(progress)
    inner = width - 4  # panel border and padding
    avail = inner - (id_w + 2) - 1 - ((6 + 5) if show_progress else 0)
    capacity = max(1, avail // cell_w)
    if hi == 0:
        count, lo = 0, 1
    else:
        known = hi - (first_known or 1) + 1
        count = max(1, min(capacity, known))
        lo = hi - count + 1

    grid = table()
    grid.add_column("node", no_wrap=True)
    grid.add_column(_ruler(lo, count, cell_w) if count else Text("log empty", style=DIM),
                     no_wrap=True, overflow="crop", header_style=DIM)
    if show_progress:
        grid.add_column("match", justify="right", no_wrap=True)
        grid.add_column("next", justify="right", no_wrap=True)

    for node in members:
        nid = text(node, "id", default="?")
        status = node_status(node)
        role = text(status, "role") if status else ""
        label = Text(nid, style="bold")
        if role:
            label.append(" ")
            label.append(role_text(role, SPEC).plain[0], style=role_style(role, SPEC))
        if status is None:
            cells = no_status_text(node)
        else:
            r = detail(node, SPEC.detail)
            cells = _log_cells(tails.get(nid, {}), lo, count, cell_w, num(r, "commit_index"),
                               num(r, "snapshot_index"), num(r, "last_index"))
        row: list[RenderableType] = [label, cells]
        if show_progress:
            row += _progress_cells(progress.get(nid), nid == leader_id, leader_last)
        grid.add_row(*row)

    subtitle = "[t] committed  (t) not yet  colour = term"
    title = "Raft log"
    if show_progress:
        title += f" · match/next as leader {leader_id} (term {leader_term}) sees them"
    return framed(grid, title, subtitle=subtitle)


def _ruler(lo: int, count: int, cell_w: int) -> Text:
    """Index labels above the log cells: the first index, then every multiple of 5 that fits."""
    chars = [" "] * (count * cell_w)
    free_from = 0
    for j in range(count):
        idx = lo + j
        if j and idx % 5:
            continue
        label = str(idx)
        pos = j * cell_w
        if pos < free_from or pos + len(label) > len(chars):
            continue
        chars[pos:pos + len(label)] = label
        free_from = pos + len(label) + 1
    return Text("".join(chars).rstrip() or " ")


def _log_cells(entries: Mapping[int, Mapping[str, Any]], lo: int, count: int, cell_w: int,
               commit: int, snap_index: int, last: int) -> Text:
    if count and last < lo:
        return Text(f"… log ends at {last}" if last else "empty log", style=DIM)
    out = Text(no_wrap=True, overflow="crop")
    for idx in range(lo, lo + count):
        entry = entries.get(idx)
        if entry is not None:
            term = num(entry, "term")
            colour = term_colour(term)
            if idx <= commit:
                out.append(f"[{term}]".center(cell_w), style=f"bold black on {colour}")
            else:
                out.append(f"({term})".center(cell_w), style=colour)
        elif idx <= snap_index:
            out.append("▒" * cell_w, style=DIM)
        elif idx <= last:
            out.append(" ? ".center(cell_w), style=DIM)
        else:
            out.append(" " * cell_w)
    return out


def _progress_cells(p: Mapping[str, Any] | None, is_leader: bool, leader_last: int) -> list[RenderableType]:
    if is_leader:
        return [Text("lead", style="green"), dash()]
    if p is None:
        return [dash(), dash()]
    match, nxt = num(p, "match_index"), num(p, "next_index")
    active = bool(get(p, "recent_active", default=True))
    mstyle = "green" if match >= leader_last and leader_last else ""
    if not active:
        mstyle = DIM
    nstyle = WARN if text(p, "state") == "probe" else ""
    return [Text(str(match), style=mstyle), Text(str(nxt), style=nstyle if active else DIM)]

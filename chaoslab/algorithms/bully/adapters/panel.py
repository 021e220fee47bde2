"""The Bully algorithm's dashboard panel: who each node believes is coordinator.

Only the panel is here so far; the Bully core and its spec arrive later. Until
then nothing loads this panel from a spec; its tests call :func:`bully_panel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from chaoslab.dashboard.snapshot import detail, get, node_status, nodes, num, text
from chaoslab.dashboard.style import BAD, DIM, WARN
from chaoslab.dashboard.widgets import dash, framed, no_status_text, table

__all__ = ["bully_panel"]

Snapshot = Mapping[str, Any]

DETAIL = "bully"  # the key of the Bully detail in a node's status


def bully_panel(snapshot: Snapshot, *, width: int = 80) -> Panel:
    """Who each node believes is coordinator, and whether the live nodes agree on the
    highest-priority live node (the Bully algorithm's promise)."""
    members = nodes(snapshot)
    grid = table()
    grid.add_column("node", no_wrap=True, style="bold")
    grid.add_column("believes", no_wrap=True)
    grid.add_column("prio", justify="right", no_wrap=True)
    grid.add_column("electing", no_wrap=True)
    grid.add_column("elections", justify="right", no_wrap=True)

    beliefs: dict[str, list[str]] = {}
    live_prio: list[tuple[int, str]] = []
    for node in members:
        nid = text(node, "id", default="?")
        status = node_status(node)
        if status is None:
            grid.add_row(nid, no_status_text(node), dash(), dash(), dash(), style=DIM)
            continue
        b = detail(node, DETAIL)
        coord = text(b, "coordinator") or text(status, "leader")
        prio = num(b, "priority")
        live_prio.append((prio, nid))
        beliefs.setdefault(coord, []).append(nid)
        electing = bool(get(b, "electing", default=False))
        grid.add_row(
            nid,
            Text(coord or "none", style="green" if coord and coord == nid else ("" if coord else WARN)),
            str(prio),
            Text("◆ yes", style="bold yellow") if electing else Text("no", style=DIM),
            str(num(b, "elections_started")),
        )

    summary = Text()
    if live_prio:
        top = max(live_prio)[1]
        if len(beliefs) == 1 and "" not in beliefs:
            (coord,) = beliefs
            ok = coord == top
            summary.append("✓ " if ok else "✕ ", style="green" if ok else BAD)
            summary.append(f"all {len(live_prio)} live nodes agree: coordinator {coord}")
            if not ok:
                summary.append(f" (highest live priority is {top})", style=BAD)
        else:
            summary.append("… ", style=WARN)
            summary.append("beliefs differ: ", style=WARN)
            summary.append(" │ ".join(f"{c or 'none'} ← {' '.join(ids)}" for c, ids in sorted(beliefs.items())))
            summary.append(f"  (highest live priority: {top})", style=DIM)
    else:
        summary.append("no live nodes", style=BAD)
    return framed(Group(grid, summary), "Bully")

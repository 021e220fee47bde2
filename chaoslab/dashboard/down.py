"""The panel shown instead of a frame when the supervisor does not answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.panel import Panel
from rich.text import Text

from .snapshot import fmt_ago, node_ids, text
from .style import BAD, DIM
from .widgets import framed

__all__ = ["down_panel"]

Snapshot = Mapping[str, Any]


def down_panel(name: str | None, reason: str | None, *, now: float, last_seen: float | None = None,
               last_snapshot: Snapshot | None = None, connecting: bool = False) -> Panel:
    """What the dashboard shows when it has no live status: never a traceback."""
    cluster = name or text(last_snapshot, "cluster") or "?"
    body = Text()
    if connecting:
        body.append(f"◌ connecting to cluster '{cluster}'…", style="bold yellow")
        return framed(body, "Cluster", border="yellow")
    body.append("✕ supervisor not reachable", style=BAD)
    body.append(f" — cluster '{cluster}' is down\n", style="bold")
    if reason:
        body.append("reason: ", style=DIM)
        body.append(f"{reason}\n")
    if last_seen is not None:
        body.append("last status: ", style=DIM)
        body.append(fmt_ago(last_seen, now))
        ids = node_ids(last_snapshot) if last_snapshot else []
        if ids:
            body.append(f" ({len(ids)} nodes: {' '.join(ids)})", style=DIM)
        body.append("\n")
    body.append("retrying… Ctrl-C quits the dashboard only", style=DIM)
    return framed(body, "Cluster", border="red")

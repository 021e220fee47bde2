"""Echo's dashboard panel: who each node hears, and how many echoes came back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.panel import Panel
from rich.table import Table


def echo_panel(snapshot: Mapping[str, Any], *, width: int = 80) -> Panel:
    table = Table(box=box.SIMPLE, pad_edge=False, expand=False)
    table.add_column("node")
    table.add_column("pings", justify="right")
    table.add_column("hears")
    for node in snapshot.get("nodes", []):
        detail = (node.get("status") or {}).get("echo")
        if detail is None:
            table.add_row(node["id"], "-", "-")
            continue
        table.add_row(node["id"], str(detail.get("pings", 0)), " ".join(detail.get("alive", [])) or "nobody")
    return Panel(table, title="echo", title_align="left", width=min(width, 60))

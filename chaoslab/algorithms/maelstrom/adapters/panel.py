"""The Maelstrom dashboard panel: each node's traffic by message type, since its roles are unknown to us."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.panel import Panel
from rich.table import Table

MAX_TYPES = 6  # per node, the busiest first
MAX_NEIGHBOURS = 6  # shown of a node's topology (a total topology of 64 nodes would not fit)


def maelstrom_panel(snapshot: Mapping[str, Any], *, width: int = 80) -> Panel:
    table = Table(box=box.SIMPLE, pad_edge=False, expand=False)
    table.add_column("node")
    table.add_column("type")
    table.add_column("out/s", justify="right")
    table.add_column("in/s", justify="right")
    table.add_column("sent", justify="right")
    table.add_column("recv", justify="right")
    for node in snapshot.get("nodes", []):
        detail = (node.get("status") or {}).get("maelstrom")
        if not detail:
            table.add_row(node["id"], "-", "", "", "", "")
            continue
        rate_out, rate_in = detail.get("rate_out", {}), detail.get("rate_in", {})
        sent, recv = detail.get("sent_by_type", {}), detail.get("received_by_type", {})
        kinds = sorted(set(sent) | set(recv), key=lambda k: (-(rate_out.get(k, 0) + rate_in.get(k, 0)), k))
        if not kinds:
            table.add_row(node["id"], "(no peer messages)", "", "", "", "")
        for i, kind in enumerate(kinds[:MAX_TYPES]):
            table.add_row(node["id"] if i == 0 else "", kind, f"{rate_out.get(kind, 0):.1f}", f"{rate_in.get(kind, 0):.1f}",
                          str(sent.get(kind, 0)), str(recv.get(kind, 0)))
        if detail.get("topology") is not None:
            table.add_row("", f"[dim]{neighbours_text(detail['topology'])}[/]", "", "", "", "")
        if detail.get("errors"):
            table.add_row("", f"[red]{detail['errors']} protocol errors[/]", "", "", "", "")
    return Panel(table, title="messages by type", title_align="left", width=min(width, 72))


def neighbours_text(neighbours: list[str]) -> str:
    """A node's topology in one short cell: ``topology n2 n4``, long lists cut with a count."""
    shown = " ".join(neighbours[:MAX_NEIGHBOURS]) or "(none)"
    more = len(neighbours) - MAX_NEIGHBOURS
    return f"topology {shown}" + (f" +{more}" if more > 0 else "")

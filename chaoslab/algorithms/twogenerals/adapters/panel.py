"""The Two Generals' dashboard panel: each general's attempt, messengers, acknowledgements, decision."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

_STATE_STYLE = {"attacking": "bold red", "holding": "yellow", "waiting": "cyan", "idle": "dim"}


def generals_panel(snapshot: Mapping[str, Any], *, width: int = 80) -> Panel:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False, collapse_padding=True)
    for header in ("general", "attempt", "state", "sent", "acks", "needs", "in", "attacked", "held"):
        table.add_column(header, justify="left" if header in ("general", "state") else "right", no_wrap=True)
    for node in snapshot.get("nodes", []):
        detail = (node.get("status") or {}).get("twogenerals")
        if detail is None:
            table.add_row(node["id"], "-", Text(node.get("state", "?"), style="dim"), *["-"] * 6)
            continue
        state = detail.get("state", "idle")
        attack_in = detail.get("attack_in_s", 0.0)
        table.add_row(
            node["id"], str(detail.get("attempt", 0)), Text(state, style=_STATE_STYLE.get(state, "")),
            str(detail.get("messengers", 0)), str(detail.get("acks", 0)), str(detail.get("needs", 0)),
            f"{attack_in:.1f}s" if state == "waiting" else "-",
            str(detail.get("attacked", 0)), str(detail.get("held", 0)),
        )
    return Panel(table, title="two generals · at the attack time: attack iff acks ≥ needs", title_align="left",
                 width=min(width, 80))

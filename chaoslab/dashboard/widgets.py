"""Small pieces every panel is built from: the bordered box, the borderless table, the dash.

Algorithm panels (``chaoslab/algorithms/<name>/adapters/panel.py``) use them too,
so that every panel of a frame looks alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .snapshot import node_state
from .style import DIM, STATE_GLYPH, STATE_STYLE

__all__ = ["NARROW", "WIDE", "count", "dash", "framed", "no_status_text", "table"]

WIDE = 110  # from this width on, panels show their optional columns
NARROW = 72  # below this width, panels drop their least useful columns


def dash() -> Text:
    """The cell of a value nobody knows."""
    return Text("–", style=DIM)


def framed(body: RenderableType, title: str, *, border: str = "bright_black", subtitle: str | None = None,
           expand: bool = True) -> Panel:
    """A panel of the dashboard: rounded border, bold title on the left, dim subtitle on the right."""
    return Panel(
        body,
        title=Text(title, style="bold"),
        title_align="left",
        subtitle=Text(subtitle, style=DIM) if subtitle else None,
        subtitle_align="right",
        border_style=border,
        box=box.ROUNDED,
        padding=(0, 1),
        expand=expand,
    )


def table(*, header: bool = True) -> Table:
    """A borderless table with bold headers and one space between columns."""
    return Table(
        box=None,
        show_header=header,
        header_style="bold",
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
        show_edge=False,
    )


def no_status_text(node: Mapping[str, Any]) -> Text:
    """What stands in for a node's status when it gave none: ``✕ crashed``, ``? no answer``..."""
    state = node_state(node)
    return Text(f"{STATE_GLYPH.get(state, '?')} {state}", style=STATE_STYLE.get(state, DIM))


def count(value: int) -> str:
    """A message count in at most five cells: ``930``, ``1.9k``, ``42k``, ``1.2M``."""
    if value < 1000:
        return str(value)
    if value < 999_500:
        return f"{value / 1000:.1f}k" if value < 9950 else f"{value / 1000:.0f}k"
    return f"{value / 1e6:.1f}M"

"""The nodes panel: a row per node with its process state, role, term and leader, plus the
algorithm's own columns (``AlgorithmSpec.status_columns``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from chaoslab.algorithms.spec import AlgorithmSpec, StatusColumn

from .algorithm import leads, spec_for
from .snapshot import fmt_duration, node_state, node_status, nodes, num, text
from .style import DIM, WARN, role_text, state_text, term_text
from .widgets import NARROW, WIDE, count, dash, framed, no_status_text, table

__all__ = ["HEARD_WARN_S", "nodes_panel"]

HEARD_WARN_S = 0.5  # a follower silent this long is close to starting an election


def _columns(spec: AlgorithmSpec | None, narrow: bool) -> list[StatusColumn]:
    columns = list(spec.status_columns) if spec is not None else []
    return [c for c in columns if not (narrow and c.optional)]


def _cell(status: Mapping[str, Any], column: StatusColumn) -> RenderableType:
    """A status column's value: numbers as numbers (warned while below ``warn_below``), lists joined."""
    value = column.value(status)
    if value is None:
        return dash()
    if isinstance(value, (list, tuple)):
        return Text(" ".join(str(v) for v in value)) if value else dash()
    number = num({"v": value}, "v", default=None) if isinstance(value, (int, float, str)) else None
    if number is None or isinstance(value, bool):
        return Text(str(value))
    floor = num(status, *column.warn_below.split("."), default=None) if column.warn_below else None
    return Text(str(number), style=WARN if floor is not None and number < floor else "")


def nodes_panel(snapshot: Mapping[str, Any], *, width: int = 80, spec: AlgorithmSpec | None = None) -> Panel:
    """Each node: id, pid, process state, role, term (``spec.term_name``), whom it follows, the algorithm's columns
    (log indexes for Raft), last heard; uptime and message counts on wide terminals.

    ``spec`` is the algorithm's (default: the one the snapshot names).
    """
    spec = spec or spec_for(snapshot)
    wide = width >= WIDE
    narrow = width < NARROW  # below this, pid and optional columns make way
    columns = _columns(spec, narrow)

    grid = table()
    grid.add_column("node", no_wrap=True, style="bold")
    if not narrow:
        grid.add_column("pid", justify="right", no_wrap=True)
    grid.add_column("state", no_wrap=True)
    grid.add_column("role", no_wrap=True)
    grid.add_column(spec.term_name if spec is not None else "term", justify="right", no_wrap=True)
    grid.add_column("leader", no_wrap=True)
    for column in columns:
        grid.add_column(column.label or column.header, justify="right", no_wrap=True)
    grid.add_column("heard", justify="right", no_wrap=True)
    if wide:
        grid.add_column("uptime", justify="right", no_wrap=True)
        grid.add_column("msgs in/out", justify="right", no_wrap=True)

    notes: list[Text] = []
    for node in nodes(snapshot):
        nid = text(node, "id", default="?")
        status = node_status(node)
        state = node_state(node)
        pid = num(node, "pid") or (num(status, "pid") if status else 0)
        st = state_text(text(node, "state", default="?"))  # "no answer" shows in the role column
        restarts = num(node, "restarts")
        if restarts:
            st.append(f" ↻{restarts}", style=DIM)
        row: list[RenderableType] = [nid] + ([] if narrow else [str(pid) if pid else dash()]) + [st]
        if status is None:
            missing = no_status_text(node) if state == "no answer" else dash()
            row += [missing, dash(), dash()]
            row += [dash() for _ in columns]
            row.append(dash())
            if wide:
                row += [dash(), dash()]
            if state == "no answer" or (state not in ("crashed", "paused") and text(node, "error")):
                notes.append(Text(f"{nid}: {text(node, 'error', default='no status')}", style=WARN))
        else:
            role = text(status, "role")
            row += [role_text(role, spec), term_text(num(status, "term")), _follows(status, nid, spec)]
            row += [_cell(status, column) for column in columns]
            row.append(_heard(status, spec))
            if wide:
                row.append(fmt_duration(num(status, "uptime_s")))
                row.append(f"{count(num(status, 'messages_in'))}/{count(num(status, 'messages_out'))}")
        grid.add_row(*row, style=DIM if state in ("crashed", "paused") else "")

    if not nodes(snapshot):
        return framed(Text("no nodes", style=DIM), "Nodes")
    body: RenderableType = grid
    if notes:
        for note in notes:
            note.no_wrap = True
            note.overflow = "ellipsis"
        body = Group(grid, *notes)
    return framed(body, "Nodes")


def _follows(status: Mapping[str, Any], nid: str, spec: AlgorithmSpec | None) -> Text:
    leader = text(status, "leader")
    if not leader:
        return Text("none", style=DIM if leads(spec, text(status, "role")) else WARN)
    if leader == nid:
        return Text("self", style="green")
    return Text(leader)


def _heard(status: Mapping[str, Any], spec: AlgorithmSpec | None) -> Text:
    if leads(spec, text(status, "role")):
        return Text("–", style=DIM)
    heard = num(status, "last_heard_s", default=-1)
    if heard < 0:
        return Text("never", style=DIM)
    return Text(fmt_duration(heard), style=WARN if heard >= HEARD_WARN_S else "")

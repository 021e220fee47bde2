"""The whole frame for a terminal width (and optionally height).

Narrow terminals (< :data:`~chaoslab.dashboard.widgets.WIDE` columns) stack the
panels vertically; wide ones (and narrow ones too short for the stack) put the
network matrix and the events side by side. When a height is given the events
panel shrinks (down to three rows) so the frame fits; whatever still does not
fit is cropped at the bottom by the live view.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table

from chaoslab.algorithms.spec import AlgorithmSpec

from .algorithm import algorithm_panel, spec_for
from .down import down_panel
from .events import events_panel
from .header import header
from .network import network_panel
from .nodes import nodes_panel
from .widgets import WIDE

if TYPE_CHECKING:
    from .poller import DashboardState

__all__ = ["DEFAULT_EVENTS", "frame_for_state", "render_frame"]

DEFAULT_EVENTS = 8
MIN_EVENTS = 3
MAX_EVENTS = 50


class _Rendered:
    """A renderable already rendered to lines at a fixed width.

    Fitting a frame to a height means knowing each panel's height, which means
    rendering it; keeping those lines avoids rendering every panel twice.
    """

    def __init__(self, renderable: RenderableType, width: int) -> None:
        console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False,
                          legacy_windows=False, _environ={})
        self.lines = console.render_lines(renderable, console.options.update(width=width), pad=False)
        self.width = max((Segment.get_line_length(line) for line in self.lines), default=0)

    def __len__(self) -> int:
        return len(self.lines)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        new_line = Segment.line()
        for line in self.lines:
            yield from line
            yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)


def _side(width: int) -> int:
    """The most columns the network panel may take beside the events."""
    return max(30, width // 2)


def _beside(left: RenderableType, right: RenderableType, width: int) -> Table:
    row = Table.grid(expand=True, padding=(0, 1))
    row.add_column(max_width=_side(width))
    row.add_column(ratio=1)
    row.add_row(left, right)
    return row


def render_frame(
    snapshot: Mapping[str, Any] | None,
    events: Sequence[Mapping[str, Any]] = (),
    *,
    now: float,
    width: int = 80,
    height: int | None = None,
    down: str | None = None,
    name: str | None = None,
    snapshot_age: float | None = None,
    spec: AlgorithmSpec | None = None,
) -> RenderableType:
    """One dashboard frame. Pure: the same arguments give the same frame.

    ``snapshot`` None or ``down`` set (the reason) renders the "supervisor not
    reachable" frame, using ``snapshot`` (if any) as the last one seen
    ``snapshot_age`` seconds ago. ``name`` names the cluster when no snapshot does.
    With ``height`` the frame is fitted to it (and comes pre-rendered for ``width``).
    ``spec`` is the algorithm's (default: the spec of the algorithm the snapshot names;
    for one that cannot be found the frame simply has no algorithm panel).
    """
    width = max(20, int(width))
    spec = spec or spec_for(snapshot)
    if snapshot is None or down is not None:
        last_seen = now - snapshot_age if (snapshot is not None and snapshot_age is not None) else None
        top: list[RenderableType] = [
            down_panel(name, down, now=now, last_seen=last_seen, last_snapshot=snapshot,
                              connecting=snapshot is None and down is None)
        ]
        network = None
    else:
        top = [
            header(snapshot, now=now, snapshot_age=snapshot_age, spec=spec),
            nodes_panel(snapshot, width=width, spec=spec),
        ]
        own = algorithm_panel(snapshot, spec, width=width)
        if own is not None:
            top.append(own)
        network = network_panel(snapshot, now=now, width=width, expand=width < WIDE)

    if height is None:
        ev = events_panel(events, now=now, spec=spec, limit=DEFAULT_EVENTS)
        if network is None:
            return Group(*top, ev)
        if width < WIDE:
            return Group(*top, network, ev)
        return Group(*top, _beside(network, ev, width))

    rendered = [_Rendered(p, width) for p in top]
    used = sum(len(r) for r in rendered)
    if network is None:
        return Group(*rendered, events_panel(events, now=now, spec=spec, limit=max(MIN_EVENTS, height - used - 2)))
    if width < WIDE:
        # Stacked is the most readable narrow layout; on a short terminal the network
        # matrix moves beside the events instead, as on wide terminals.
        stacked = _Rendered(network, width)
        if used + len(stacked) + MIN_EVENTS + 2 <= height:
            ev = events_panel(events, now=now, spec=spec, limit=height - used - len(stacked) - 2)
            return Group(*rendered, stacked, ev)
        network = network_panel(snapshot, now=now, width=width // 2, expand=False)
    side = _Rendered(network, _side(width))
    if used + len(side) > height:
        network = network_panel(snapshot, now=now, width=width // 2, expand=False, compact=True)
        side = _Rendered(network, _side(width))
    # The events may grow to the network panel's height for free.
    limit = max(MIN_EVENTS, min(max(len(side), height - used) - 2, MAX_EVENTS))
    ev = events_panel(events, now=now, spec=spec, limit=limit)
    return Group(*rendered, _beside(side, ev, width))


def frame_for_state(
    state: DashboardState,
    *,
    now: float,
    width: int = 80,
    height: int | None = None,
    name: str | None = None,
    down_after: int = 2,
) -> RenderableType:
    """The frame for a poller state: the last snapshot while polls succeed (one failed poll
    is tolerated and shown as staleness), the "down" frame after ``down_after`` failures."""
    age = None if state.snapshot_time is None else max(0.0, now - state.snapshot_time)
    failing = state.error is not None and (state.snapshot is None or state.failures >= down_after)
    if state.snapshot is None and state.polls == 0:
        return render_frame(None, state.events, now=now, width=width, height=height, name=name)
    return render_frame(
        state.snapshot,
        state.events,
        now=now,
        width=width,
        height=height,
        down=(state.error or "no status") if failing or state.snapshot is None else None,
        name=name,
        snapshot_age=age,
    )

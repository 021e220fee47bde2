"""The live dashboard: pure render functions, a poller, and a ``rich.live`` runner.

- :mod:`.snapshot` reads a snapshot (``cluster_to_dict`` of a ``ClusterStatus``);
- :mod:`.style` holds colours and glyphs (roles styled by kind: :func:`~.style.role_text`);
- :mod:`.widgets` holds the pieces panels share (box, table, dash);
- one module per panel, each a pure function: :mod:`.header`, :mod:`.nodes`,
  :mod:`.network`, :mod:`.events`, :mod:`.down`;
- :mod:`.algorithm` finds the algorithm's spec, which says which roles lead and
  names the algorithm's own panel (in ``chaoslab/algorithms/<name>/adapters/``);
- :mod:`.layout` assembles the frame for a terminal width (and height);
- :mod:`.poller` fetches status and tails ``events.jsonl`` off the render thread;
- :mod:`.app` runs it: ``run_dashboard(fetch_status, events_path, ...)``.
"""

from .app import STATUS_LOG_TAIL, run_dashboard, state_record
from .layout import frame_for_state, render_frame
from .poller import DashboardState, Poller, read_events
from .snapshot import to_snapshot

__all__ = [
    "STATUS_LOG_TAIL",
    "DashboardState",
    "Poller",
    "frame_for_state",
    "read_events",
    "render_frame",
    "run_dashboard",
    "state_record",
    "to_snapshot",
]

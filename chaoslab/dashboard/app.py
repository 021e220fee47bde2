"""The dashboard runner: a poller thread feeding ``rich.live.Live``, ``--once`` and ``--json``.

Wiring from the CLI. The status call needs a short deadline (the poller makes
one per refresh, and the supervisor one per node), the log tail the frame
shows, and the faults::

    from chaoslab.dashboard import STATUS_LOG_TAIL, run_dashboard
    from chaoslab.lab.cluster import status_to_dict

    def fetch():
        return status_to_dict(cluster.status(log_tail=STATUS_LOG_TAIL, timeout=0.5, faults=True))

    code = run_dashboard(fetch, cluster.run.events, refresh_hz=5.0, once=once, as_json=as_json,
                         console=out, name=cluster.name)

``fetch`` may equally return the ``ClusterStatus`` message itself: it is then
converted by the same function (``chaoslab.wire.status.cluster_to_dict``), so the
``--json`` lines carry what ``chaoslab status --json`` prints either way.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from .layout import frame_for_state
from .poller import DashboardState, FetchStatus, Poller, describe_error
from .snapshot import text

__all__ = ["STATUS_LOG_TAIL", "run_dashboard", "state_record"]

STATUS_LOG_TAIL = 32  # log entries per node worth asking for: about what a 120-column frame shows


def state_record(state: DashboardState, *, now: float, name: str | None = None) -> dict[str, Any]:
    """One ``--json`` line: the snapshot a frame would render, plus the events new since the last line.

    ``{"time", "cluster", "ok", "error", "snapshot", "events"}``; ``snapshot`` is
    the latest good one (or null), ``ok`` is false when the latest poll failed.
    """
    snapshot = state.snapshot
    return {
        "time": now,
        "cluster": name or text(snapshot, "cluster") or None,
        "ok": state.error is None and snapshot is not None,
        "error": state.error,
        "snapshot": snapshot,
        "events": list(state.new_events),
    }


def _write_line(console: Console, record: dict[str, Any]) -> None:
    console.file.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")
    console.file.flush()


def _silence_stdout() -> None:
    """After a broken pipe (``| head``), keep Python's exit-time flush from complaining."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run_dashboard(
    fetch_status: FetchStatus,
    events_path: str | os.PathLike[str] | None,
    refresh_hz: float = 5.0,
    once: bool = False,
    as_json: bool = False,
    console: Console | None = None,
    *,
    name: str | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.time,
) -> int:
    """Show the live dashboard until Ctrl-C (or ``stop`` is set); return the exit code.

    - default: a ``Live`` view in the terminal's alternate screen, refreshed
      ``refresh_hz`` times a second; status is fetched on a background thread.
      Ctrl-C restores the terminal, leaves the cluster alone and returns 0.
    - ``once``: one poll, one frame (or one JSON line); returns 0, or 2 when
      the supervisor did not answer (the frame says so).
    - ``as_json``: one JSON line per refresh (see :func:`state_record`) instead of frames.

    ``fetch_status`` returns a ``ClusterStatus`` (or its snapshot dict), or
    None/raises when the supervisor is gone; ``events_path`` is the cluster's
    ``events.jsonl`` (None: no events panel content). ``name`` labels the
    cluster before its first status arrives.
    """
    if not refresh_hz > 0:
        raise ValueError("refresh_hz must be positive")
    console = console or Console()
    stop = stop or threading.Event()
    period = 1.0 / refresh_hz
    poller = Poller.for_events_file(fetch_status, events_path, interval=period, clock=clock)

    try:
        if once:
            state = poller.poll_once()
            if as_json:
                _write_line(console, state_record(state, now=clock(), name=name))
            else:
                console.print(frame_for_state(state, now=clock(), width=console.width, name=name, down_after=1))
            return 0 if state.error is None else 2

        if as_json:
            while True:
                started = time.monotonic()
                state = poller.poll_once()
                _write_line(console, state_record(state, now=clock(), name=name))
                if stop.wait(max(0.0, period - (time.monotonic() - started))):
                    return 0

        screen = console.is_terminal and not console.is_dumb_terminal

        def render() -> RenderableType:
            try:
                return frame_for_state(
                    poller.state,
                    now=clock(),
                    width=console.width,
                    height=console.height if screen else None,
                    name=name,
                )
            except Exception as exc:  # noqa: BLE001 - a render bug must not kill the view
                return Panel(Text(f"dashboard could not render this frame: {describe_error(exc)}",
                                  style="red"), title="dashboard", border_style="red")

        poller.start()
        with Live(
            get_renderable=render,
            console=console,
            screen=screen,
            refresh_per_second=refresh_hz,
            redirect_stdout=False,
            redirect_stderr=False,
        ):
            while not stop.wait(0.1):
                pass
        return 0
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        _silence_stdout()
        return 0
    finally:
        poller.stop()

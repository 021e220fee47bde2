"""Background polling: the latest snapshot and events, fetched off the render thread.

The poller needs no cluster, only two callables:

``fetch_status() -> ClusterStatus | dict | None``
    One supervisor ``Status`` call (which itself makes one short-deadline call
    per node). Return the proto message or its snapshot dict; return ``None``
    or raise when the supervisor is gone. The poller calls it once per
    interval, never concurrently, and never lets an exception out.

``fetch_events(offset: int) -> (list[dict], int)``
    Events appended since ``offset``, and the offset to pass next time. The
    first call gets ``-1``: "start wherever recent history begins". For the
    cluster's ``events.jsonl`` use ``functools.partial(read_events, path)``.

:class:`Poller` keeps the newest :class:`DashboardState`, an immutable value
the render thread reads without locks.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chaoslab.events import read_events as _read_events

from .snapshot import to_snapshot

__all__ = [
    "DashboardState",
    "FetchEvents",
    "FetchStatus",
    "Poller",
    "describe_error",
    "read_events",
]

FetchStatus = Callable[[], Any]
FetchEvents = Callable[[int], tuple[list[dict[str, Any]], int]]

BACKLOG_BYTES = 64 * 1024  # how much event history a fresh dashboard reads
MAX_READ_BYTES = 1024 * 1024  # per poll, so a burst of events cannot stall a refresh


@dataclass(frozen=True)
class DashboardState:
    """What the poller knows after its latest poll."""

    snapshot: dict[str, Any] | None = None  # the latest status fetched successfully
    snapshot_time: float | None = None  # clock() when it was fetched
    error: str | None = None  # why the latest fetch failed; None if it succeeded
    failures: int = 0  # consecutive failed fetches
    polls: int = 0  # polls completed so far
    events: tuple[dict[str, Any], ...] = ()  # recent events, oldest first (bounded)
    new_events: tuple[dict[str, Any], ...] = field(default=())  # those the latest poll added


def describe_error(exc: BaseException) -> str:
    """A one-line reason: ``UNAVAILABLE: failed to connect`` for gRPC errors, ``Type: message``
    for built-in exceptions, the bare message for others (``LabError`` is written for people)."""
    code, details = getattr(exc, "code", None), getattr(exc, "details", None)
    if callable(code) and callable(details):
        try:
            c = code()
            msg = f"{getattr(c, 'name', c)}: {details()}"
        except Exception:  # noqa: BLE001 - a half-built RpcError must not break the poller
            msg = str(exc)
    elif not str(exc):
        msg = type(exc).__name__
    elif type(exc).__module__ == "builtins":
        msg = f"{type(exc).__name__}: {exc}"  # "ConnectionRefusedError: ..." says more than the message
    else:
        msg = str(exc)  # our own errors (LabError) are already written for people
    msg = " ".join(msg.split())
    return msg if len(msg) <= 240 else msg[:239] + "…"


def read_events(path: str | os.PathLike[str], offset: int = -1, *,
                backlog: int = BACKLOG_BYTES) -> tuple[list[dict[str, Any]], int]:
    """:func:`chaoslab.events.read_events` as the dashboard wants it: a fresh view starts
    with the recent backlog (``offset=-1``), and no poll reads more than MAX_READ_BYTES."""
    return _read_events(path, offset, backlog=backlog, max_bytes=MAX_READ_BYTES)


class Poller:
    """Polls ``fetch_status`` (and ``fetch_events``) every ``interval`` seconds on a daemon thread.

    ``poll_once()`` does one poll synchronously (for ``--once``, ``--json`` and
    tests); ``start()``/``stop()`` (or ``with``) run the thread. Neither ever
    raises because a fetch failed: failures land in :attr:`state`.
    """

    def __init__(
        self,
        fetch_status: FetchStatus,
        fetch_events: FetchEvents | None = None,
        *,
        interval: float = 0.2,
        clock: Callable[[], float] = time.time,
        max_events: int = 500,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._fetch_status = fetch_status
        self._fetch_events = fetch_events
        self.interval = interval
        self._clock = clock
        self._events: deque[dict[str, Any]] = deque(maxlen=max_events)
        self._offset = -1
        self._state = DashboardState()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_events_file(cls, fetch_status: FetchStatus, events_path: str | os.PathLike[str] | None,
                        **kwargs: Any) -> Poller:
        """A poller that tails ``events_path`` (None: no events)."""
        if events_path is None:
            return cls(fetch_status, None, **kwargs)
        path = Path(events_path)
        return cls(fetch_status, lambda offset: read_events(path, offset), **kwargs)

    @property
    def state(self) -> DashboardState:
        return self._state

    def poll_once(self) -> DashboardState:
        with self._lock:
            prev = self._state
            new_events: list[dict[str, Any]] = []
            if self._fetch_events is not None:
                try:
                    new_events, self._offset = self._fetch_events(self._offset)
                except Exception:  # noqa: BLE001 - events are best effort; keep the offset
                    new_events = []
                self._events.extend(e for e in new_events if isinstance(e, Mapping))
            try:
                raw = self._fetch_status()
                snapshot = None if raw is None else to_snapshot(raw)
                error = None if snapshot is not None else "no status (supervisor not reachable)"
            except Exception as exc:  # noqa: BLE001 - the dashboard shows it instead
                snapshot, error = None, describe_error(exc)
            now = self._clock()
            if snapshot is not None:
                state = replace(prev, snapshot=snapshot, snapshot_time=now, error=None, failures=0)
            else:
                state = replace(prev, error=error, failures=prev.failures + 1)
            self._state = replace(state, polls=prev.polls + 1, events=tuple(self._events),
                                  new_events=tuple(new_events))
            return self._state

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.poll_once()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def start(self) -> Poller:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="chaoslab-dashboard-poller", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread; a fetch in flight finishes (or is abandoned: the thread is a daemon)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Poller:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

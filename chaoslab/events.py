"""The cluster's event log: one JSON object a line in ``<run dir>/events.jsonl``.

Every process of a cluster (supervisor, proxy, nodes) appends to the same file
with ``O_APPEND`` and one ``write`` per line, which the kernel keeps whole for
lines this short, so no process has to funnel events through another. A line:
``{"time": <unix seconds>, "source": "n1" | "lab" | "proxy", "kind": "role", ...}``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class EventLog:
    """Appends events for one source."""

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.source = source
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def emit(self, kind: str, **data: Any) -> dict[str, Any]:
        record = {"time": round(time.time(), 6), "source": self.source, "kind": kind, **data}
        os.write(self._fd, (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode())
        return record

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def read_events(path: Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete lines from byte ``offset`` on, and the offset to continue from.

    A line still being written (no newline yet) is left for the next call.
    """
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events = []
    for raw in data[:end].splitlines():
        try:
            events.append(json.loads(raw))
        except ValueError:
            continue  # a torn line from a process killed mid-write
    return events, offset + end


def follow_events(path: Path, poll: float = 0.2, stop: Any = None) -> Iterator[dict[str, Any]]:
    """Yield events as they are appended, until ``stop()`` returns true."""
    offset = 0
    while True:
        events, offset = read_events(path, offset)
        yield from events
        if stop is not None and stop():
            return
        time.sleep(poll)

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
from collections.abc import Callable, Iterator
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


def _read_complete(path: str | os.PathLike[str], offset: int, backlog: int = 64 * 1024,
                   max_bytes: int = -1) -> tuple[bytes, int]:
    """The complete lines of ``path`` after byte ``offset`` as bytes, and the offset after them.

    The offset rules of :func:`read_events` (a negative offset, a missing or
    replaced file, a partial last line) live here, for events and plain logs alike.
    """
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if offset < 0:
                offset = max(0, size - backlog)
                if offset:
                    f.seek(offset - 1)
                    if f.read(1) != b"\n":
                        f.readline()  # drop the partial first line
                    offset = f.tell()
            elif offset > size:
                offset = 0
            f.seek(offset)
            chunk = f.read(max_bytes)
    except FileNotFoundError:
        return b"", 0
    except OSError:
        return b"", offset
    end = chunk.rfind(b"\n")
    if end < 0:
        return b"", offset
    return chunk[: end + 1], offset + end + 1


def parse_event(line: str | bytes) -> dict[str, Any] | None:
    """One line of ``events.jsonl`` as an event, or None when it is not a JSON object."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def read_events(path: str | os.PathLike[str], offset: int = 0, *, backlog: int = 64 * 1024,
                max_bytes: int = -1) -> tuple[list[dict[str, Any]], int]:
    """Complete JSON lines of ``path`` after byte ``offset``, and the offset after the last one.

    ``offset < 0`` starts at the first line boundary within the last ``backlog``
    bytes. A missing file gives no events (offset 0, so a file created later
    is read from its start); a file shorter than ``offset`` was replaced and is
    read again from 0. A partial last line waits for its newline (so does a
    line torn by a killed process, until the next one ends it); lines that are
    not JSON objects are skipped. ``max_bytes`` caps one read (-1: no cap).
    """
    chunk, offset = _read_complete(path, offset, backlog, max_bytes)
    events = []
    for line in chunk.splitlines():
        line = line.strip()
        if line and (event := parse_event(line)) is not None:
            events.append(event)
    return events, offset


def read_lines(path: str | os.PathLike[str], offset: int = 0) -> tuple[list[str], int]:
    """Complete lines of any text file (a log) after byte ``offset``, and the offset after them.

    The same offset rules as :func:`read_events`; undecodable bytes are replaced.
    """
    chunk, offset = _read_complete(path, offset)
    return chunk.decode(errors="replace").splitlines(), offset


def follow_lines(path: str | os.PathLike[str], *, follow: bool = False,
                 alive: Callable[[], bool] = lambda: True, poll_s: float = 0.2) -> Iterator[str]:
    """Every complete line of ``path`` from its start; with ``follow``, then each new one as it is written.

    Following polls every ``poll_s`` seconds and ends once ``alive()`` is false
    (say, the cluster's supervisor is gone), after one last read, so nothing
    written before the end is missed. ``chaoslab logs -f`` and ``events -f``
    both follow through here; stop early by closing the generator or leaving
    the loop (Ctrl-C in the CLI).
    """
    offset = 0
    while True:
        more = follow and alive()
        lines, offset = read_lines(path, offset)
        yield from lines
        if not more:
            return
        time.sleep(poll_s)


def follow_events(path: str | os.PathLike[str], *, follow: bool = False,
                  alive: Callable[[], bool] = lambda: True, poll_s: float = 0.2) -> Iterator[dict[str, Any]]:
    """:func:`follow_lines` of an ``events.jsonl``, as events; lines that are not JSON objects are skipped."""
    for line in follow_lines(path, follow=follow, alive=alive, poll_s=poll_s):
        if (event := parse_event(line)) is not None:
            yield event

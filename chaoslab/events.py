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
        return [], 0
    except OSError:
        return [], offset
    end = chunk.rfind(b"\n")
    if end < 0:
        return [], offset
    events: list[dict[str, Any]] = []
    for line in chunk[: end + 1].splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            events.append(value)
    return events, offset + end + 1

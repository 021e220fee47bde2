"""``history.jsonl`` as a run happens: one Jepsen-shaped line per invoke and per completion.

Many client threads share one :class:`HistoryRecorder`. A line is written (and
flushed) while its lock is held, so the file's order is the order in which the
calls happened: a client calls :meth:`~HistoryRecorder.invoke` before it sends
and :meth:`~HistoryRecorder.complete` after the answer, which is all the
checker needs for real-time order (it reads positions, not clocks). Lines are
on disk as they happen, so a run that dies midway still leaves a history to
check, and an operation with no completion reads as ``info``.

    {"process": 3, "type": "invoke", "f": "write", "key": "k1", "value": "p3-7", "time": 1200345}
    {"process": 3, "type": "ok", "f": "write", "key": "k1", "value": "p3-7", "time": 1904112, "node": "n2"}

``time`` is nanoseconds since the run's ``t0`` (``time.time_ns()`` when the
workload started), so ``events.jsonl``'s unix seconds line up with it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslab.chaos.clients import READ_ONLY

__all__ = ["COMPLETIONS", "HistoryRecorder"]

#: How an operation may end: it took effect (``ok``), surely did not (``fail``), nobody knows (``info``).
COMPLETIONS = ("ok", "fail", "info")


@dataclass(slots=True)
class _Open:
    process: int
    f: str
    key: str
    value: Any
    line: int


class HistoryRecorder:
    """Thread-safe writer of one run's ``history.jsonl``; see the module docstring."""

    def __init__(self, path: Path, t0_ns: int) -> None:
        self.path = Path(path)
        self.t0_ns = t0_ns
        self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._lock = threading.Lock()
        self._next = 0
        self._open: dict[int, _Open] = {}
        self._busy: dict[int, int] = {}  # process -> its open handle: one operation at a time
        self._lines = 0
        self._counts = {"invoke": 0, "ok": 0, "fail": 0, "info": 0}

    def invoke(self, process: int, f: str, key: str, value: Any) -> int:
        """Record that ``process`` starts ``f`` on ``key``; returns the handle to complete it with.

        ``value``: None for a read, the string written, ``[expected, new]`` for a cas.
        ``ValueError`` if the process still has an operation open (the checker would
        refuse the history), or once the recorder is closed.
        """
        with self._lock:
            if self._file.closed:
                raise ValueError("the history is closed")
            if process in self._busy:
                raise ValueError(f"process {process} invokes {f} while its operation "
                                 f"(line {self._open[self._busy[process]].line}) is still open")
            line = self._write({"process": process, "type": "invoke", "f": f, "key": key, "value": value})
            self._next += 1
            handle = self._next
            self._open[handle] = _Open(process, f, key, value, line)
            self._busy[process] = handle
            self._counts["invoke"] += 1
            return handle

    def complete(self, handle: int, type: str, value: Any = None, *, node: str = "", error: str = "") -> None:
        """Record how the operation ``handle`` ended: ``ok``, ``fail`` or ``info``.

        ``value``: what a read returned (None: absent), what an echo brought back; for a
        write or cas it may be left out, and the invoke's value is repeated. Completing an operation that is no longer
        open (already completed, say as ``info`` by :meth:`close`) does nothing: a client
        thread that outlived the run must not write a second completion.
        """
        if type not in COMPLETIONS:
            raise ValueError(f"a completion is one of {', '.join(COMPLETIONS)}, not {type!r}")
        with self._lock:
            op = self._open.pop(handle, None)
            if op is None or self._file.closed:
                return
            del self._busy[op.process]
            if value is None and op.f not in READ_ONLY:
                value = op.value
            extra = {}
            if node:
                extra["node"] = node
            if error:
                extra["error"] = error
            self._write({"process": op.process, "type": type, "f": op.f, "key": op.key, "value": value}, extra)
            self._counts[type] += 1

    def invoke_line(self, handle: int) -> int | None:
        """The line (1-based) of an open operation's invoke; None once it completed."""
        with self._lock:
            op = self._open.get(handle)
            return None if op is None else op.line

    def counts(self) -> dict[str, int]:
        """Lines written so far by type: ``{"invoke", "ok", "fail", "info"}``."""
        with self._lock:
            return dict(self._counts)

    def close(self, reason: str = "run ended") -> None:
        """Complete every open operation as ``info`` (its outcome is unknown) and close the file."""
        with self._lock:
            if self._file.closed:
                return
            for handle in list(self._open):
                op = self._open.pop(handle)
                self._write({"process": op.process, "type": "info", "f": op.f, "key": op.key,
                             "value": None if op.f in READ_ONLY else op.value}, {"error": reason})
                self._counts["info"] += 1
            self._busy.clear()
            self._file.close()

    def __enter__(self) -> HistoryRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, record: dict[str, Any], extra: dict[str, str] | None = None) -> int:
        """One line, its time taken under the lock so times never go back down the file."""
        record["time"] = time.time_ns() - self.t0_ns
        if extra:
            record.update(extra)
        self._file.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
        self._file.flush()
        self._lines += 1
        return self._lines

"""``check_history``: a verdict for a whole history, one partition at a time.

The model splits the history into independent partitions (per key for
``kv``: P-compositionality, so a 100,000-operation history over 1,000 keys is
1,000 small searches, not one huge one). Each is searched on its own; the
history is linearizable iff every partition is. The first invalid partition
decides (as in Porcupine, the rest are not searched), and is then explained:
the shortest prefix of it that cannot be linearized is found by bisection
(linearizability is prefix-closed, so the failing prefixes are an upward-closed
set), and its last operation, with the operations around it, is the window
the report shows.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chaoslab.check.history import HistoryError, Operation, from_dicts, read_history
from chaoslab.check.models import Model, ModelError, get_model
from chaoslab.check.search import SearchResult, Timeout, linearize

VALID, INVALID, UNKNOWN = "valid", "invalid", "unknown"
EXIT_CODES = {VALID: 0, INVALID: 1, UNKNOWN: 2}


@dataclass
class Failure:
    """Why a partition is not linearizable."""

    key: Any
    culprit: Operation  # the first operation whose completion cannot be explained
    window: list[Operation]  # the culprit and the operations around it, in invoke order
    partial: list[Operation]  # the longest linearization found of the failing prefix
    states: list[Any]  # the model state after each operation of ``partial``
    prefix_ops: int  # how many operations the failing prefix holds
    explained: bool = True  # false when explaining ran out of time (then window is the search's view)


@dataclass
class PartitionResult:
    key: Any
    ops: int  # operations searched (after pruning)
    verdict: str
    steps: int = 0
    seconds: float = 0.0
    linearization: list[Operation] = field(default_factory=list)  # valid: the order found
    states: list[Any] = field(default_factory=list)  # the model state after each of those


@dataclass
class CheckResult:
    """The verdict on one history, and what backs it."""

    verdict: str  # valid | invalid | unknown
    model: str
    source: str
    operations: list[Operation]
    partitions: list[PartitionResult]
    seconds: float
    failure: Failure | None = None
    reason: str = ""  # unknown: why (timeout)

    @property
    def valid(self) -> bool:
        return self.verdict == VALID

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "fail": 0, "info": 0}
        for op in self.operations:
            out[op.status] += 1
        return out


def load(history: str | Path | Iterable[Any], source: str | None = None) -> tuple[list[Operation], str]:
    """Operations from a path, :class:`Operation`\\ s, or records (dicts or objects with ``as_dict``)."""
    if isinstance(history, (str, Path)):
        return read_history(history), source or str(history)
    items = list(history)
    source = source or "<history>"
    if items and isinstance(items[0], Operation):
        return items, source
    return from_dicts((i.as_dict() if hasattr(i, "as_dict") else i for i in items), source), source


def check_history(
    history: str | Path | Iterable[Any],
    model: str | Model = "kv",
    *,
    timeout: float | None = None,
    explain: bool = True,
    source: str | None = None,
) -> CheckResult:
    """Check a history for linearizability against ``model``.

    ``history`` is a file (JSON lines, Jepsen EDN or a ``jepsen.util`` log),
    a list of :class:`Operation`, or records shaped like the JSON lines (e.g.
    the simulator's ``Workload.history``). ``timeout`` (seconds) bounds the
    whole check: past it the verdict is ``unknown``. Raises
    :class:`~chaoslab.check.history.HistoryError` for input it cannot read.
    """
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    m = get_model(model)
    ops, source = load(history, source)
    for op in ops:
        try:
            m.validate(op)
        except ModelError as e:
            line = op.call_line
            raise HistoryError(f"{source}:{line}: {e}" if line else f"{source}: {e}") from None

    parts: list[PartitionResult] = []
    failure: Failure | None = None
    verdict, reason = VALID, ""
    searched = [op for op in ops if op.status != "fail"]  # a failed operation never took effect
    for group in m.partition(searched):
        key = group[0].key if group else None
        group = m.prune(group)
        t0 = time.monotonic()
        try:
            found = linearize(group, m, deadline)
        except (TypeError, ValueError, ArithmeticError) as e:
            # A value the model cannot work with (a counter adding a string, ...): bad input, one line.
            raise HistoryError(f"{source}: model {m.name} cannot apply an operation: {e}") from None
        except Timeout:
            parts.append(PartitionResult(key, len(group), UNKNOWN, seconds=time.monotonic() - t0))
            verdict, reason = UNKNOWN, f"timed out after {timeout:g}s" if timeout is not None else "timed out"
            break
        part = PartitionResult(key, len(group), VALID if found.ok else INVALID, found.steps, time.monotonic() - t0,
                               found.linearization if found.ok else [], found.states if found.ok else [])
        parts.append(part)
        if not found.ok:
            verdict = INVALID
            failure = _explain(group, m, found, key, deadline) if explain else _from_search(group, found, key)
            break
    return CheckResult(verdict, m.name, source, ops, parts, time.monotonic() - start, failure, reason)


def _cut(ops: Sequence[Operation], at: int) -> list[Operation]:
    """The history as it stood at position ``at``: later invokes gone, later completions unknown."""
    out = []
    for op in ops:
        if op.call > at:
            continue
        if op.ret is not None and op.ret > at:
            op = replace(op, status="info", ret=None, output=None)
        out.append(op)
    return out


def _explain(ops: Sequence[Operation], model: Model, found: SearchResult, key: Any,
             deadline: float | None) -> Failure:
    """The shortest failing prefix (by bisection over completions) and the window at its end."""
    ends = sorted(op.ret for op in ops if op.ret is not None)
    lo, hi = 0, len(ends) - 1  # ends[hi] fails (the whole partition did)
    best = found
    try:
        while lo < hi:
            mid = (lo + hi) // 2
            attempt = linearize(model.prune(_cut(ops, ends[mid])), model, deadline)
            if attempt.ok:
                lo = mid + 1
            else:
                hi, best = mid, attempt
    except Timeout:
        return _from_search(ops, found, key, explained=False)
    if hi < len(ends) - 1 and best is found:
        best = linearize(model.prune(_cut(ops, ends[hi])), model, deadline)
    at = ends[hi]
    culprit = next(op for op in ops if op.ret == at)
    prefix = [op for op in ops if op.call <= at]
    # The window: the culprit, everything that overlaps it, and what completed since the last
    # completion before it was invoked (that one too: it fixed the state the culprit saw).
    before = [op.ret for op in prefix if op.ret is not None and op.ret < culprit.call]
    since = max(before) if before else -1
    window = [op for op in prefix if op.ret is None or op.ret >= since]
    return Failure(key, culprit, window, best.linearization, best.states, len(prefix))


def _from_search(ops: Sequence[Operation], found: SearchResult, key: Any, explained: bool = True) -> Failure:
    culprit = found.stuck_at or ops[-1]
    window = [op for op in ops if op.call <= (culprit.ret or culprit.call) and (op.ret is None or op.ret >= culprit.call)]
    return Failure(key, culprit, window, found.linearization, found.states, len(ops), explained)


__all__ = [
    "CheckResult",
    "Failure",
    "PartitionResult",
    "VALID",
    "INVALID",
    "UNKNOWN",
    "check_history",
    "load",
]

"""What a run found: one :class:`Verdict` per property, computed from what the run left behind.

Each function reads one kind of evidence: the history (``history.jsonl``), the
cluster's events (``events.jsonl``, read by the caller), final node statuses, or
Byzantine agreement reports. None talks to a cluster, so each can be tested on
hand-written evidence and re-run on an old run directory.

A verdict is ``valid``, ``invalid``, ``unknown`` (the evidence cannot decide:
a check that timed out, a key never read back) or ``skipped`` (not asked
for). :func:`overall` folds them into the run's verdict and exit code.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaoslab.check.checker import INVALID, UNKNOWN, check_history
from chaoslab.check.history import HistoryError, Operation, _show, read_history
from chaoslab.check.report import to_dict as check_dict
from chaoslab.errors import LabError

if TYPE_CHECKING:
    from chaoslab.algorithms.byzantine.adapters.agreement import AgreementReport
    from chaoslab.algorithms.spec import AlgorithmSpec

__all__ = [
    "STATUSES", "Verdict", "agreement", "all_delivered", "availability", "counter_sum", "echoes_match",
    "election_safety", "leader_within", "linearizable", "no_lost_writes", "one_coordinator", "overall",
]

VALID, SKIPPED = "valid", "skipped"
STATUSES = (VALID, INVALID, UNKNOWN, SKIPPED)
_MAX_OPS = 1000  # line numbers kept for highlighting: enough for any report, bounded for a huge run
_READS = ("read", "get")
_PARTIAL_KEPT = 20  # operations of the longest linearization kept in an invalid verdict's details
_LOST_KEPT = 100  # lost writes described one by one in no_lost_writes' details (all are counted)


@dataclass
class Verdict:
    name: str  # "linearizable", "no_lost_writes", "election_safety", ...
    status: str  # valid | invalid | unknown | skipped
    summary: str  # one line
    details: dict[str, Any] = field(default_factory=dict)  # JSON-able
    ops: list[int] = field(default_factory=list)  # history.jsonl lines (1-based) of the invokes involved

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"a verdict is one of {', '.join(STATUSES)}, not {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def skipped(cls, name: str, why: str) -> Verdict:
        return cls(name, SKIPPED, why)


# ---------------------------------------------------------------- the history


def _operations(name: str, history: Path) -> list[Operation] | Verdict:
    """The history's operations, or the ``unknown`` verdict ``name`` gives a history it cannot read."""
    try:
        return read_history(history)
    except HistoryError as exc:
        return Verdict(name, UNKNOWN, f"cannot read the history: {exc}")


def linearizable(history: Path, timeout: float = 60.0) -> Verdict:
    """Is the history linearizable under the key-value model? (``chaoslab.check``, per key.)

    Invalid: ``ops`` are the lines of the failure's window, and the summary names
    the operation no order can explain. Unknown when the search outlasts ``timeout``.
    """
    name = "linearizable"
    try:
        result = check_history(history, "kv", timeout=timeout)
    except HistoryError as exc:
        return Verdict(name, UNKNOWN, f"cannot check the history: {exc}")
    counts = result.counts()
    details = check_dict(result)
    partial = details.get("failure", {}).get("partial")
    if partial and len(partial) > _PARTIAL_KEPT:
        # The longest linearization can hold a whole key's history: its end is where it got stuck.
        details["failure"]["partial"] = partial[-_PARTIAL_KEPT:]
        details["failure"]["partial_length"] = len(partial)
    keys = len({op.key for op in result.operations})
    what = f"{len(result.operations):,} operations ({counts['info']:,} unknown), {keys} keys"
    if result.verdict == UNKNOWN:
        return Verdict(name, UNKNOWN, f"undecided: {result.reason} ({what})", details)
    failure = result.failure
    if failure is None:
        return Verdict(name, VALID, f"linearizable: {what}, checked in {result.seconds:.2f} s", details)
    key = "" if failure.key is None else f"key {_show(failure.key)}: "
    summary = (f"not linearizable: {key}no order of the operations explains "
               f"{failure.culprit.describe()} (line {failure.culprit.call_line})")
    return Verdict(name, INVALID, summary, details, sorted({op.call_line for op in failure.window}))


def no_lost_writes(history: Path) -> Verdict:
    """Every acknowledged write is in the final reads, or was superseded by a write that may follow it.

    For each key the final read is its last ``ok`` read, invoked after every write
    of the key completed (the workload's :meth:`final_reads`). An acknowledged
    write W (a ``write``, or a ``cas`` that succeeded) is lost when that read
    returns nothing, or a value whose write completed before W was invoked: every
    order of the operations puts that write before W, so W's value (or a later
    one) should be there. A value written concurrently with W, or after it, may
    have superseded it. Values must be unique per write (the workload's are).
    """
    name = "no_lost_writes"
    ops = _operations(name, history)
    if isinstance(ops, Verdict):
        return ops
    by_key: dict[Any, list[Operation]] = {}
    for op in ops:
        by_key.setdefault(op.key, []).append(op)
    lost: list[dict[str, Any]] = []
    unread: list[str] = []
    finals: dict[str, Any] = {}
    acked = 0
    for key, key_ops in by_key.items():
        writes = [op for op in key_ops if op.f not in _READS and op.status == "ok"]
        acked += len(writes)
        final = _final_read(key_ops)
        if final is None:
            if writes:
                unread.append(str(key))
            continue
        finals[str(key)] = final.output
        lost.extend(_lost(key_ops, writes, final))
    details: dict[str, Any] = {"acknowledged": acked, "final": finals, "lost": lost[:_LOST_KEPT],
                               "lost_count": len(lost), "unread": unread}
    if lost:
        first = lost[0]
        more = f" (and {len(lost) - 1} more)" if len(lost) > 1 else ""
        summary = (f"{len(lost)} acknowledged write{'s' if len(lost) > 1 else ''} lost: {first['op']} "
                   f"(line {first['line']}), but the final read returned {_show(first['final'])}{more}")
        lines = sorted({line for item in lost for line in (item["line"], item["final_line"])})
        return Verdict(name, INVALID, summary, details, lines[:_MAX_OPS])
    if unread:
        return Verdict(name, UNKNOWN, f"no final read of {', '.join(unread)}: its acknowledged writes are unchecked",
                       details)
    return Verdict(name, VALID, f"all {acked:,} acknowledged writes survive in the final reads of {len(finals)} keys",
                   details)


def _final_read(key_ops: Sequence[Operation]) -> Operation | None:
    """The key's last ok read, if it began after every other operation on the key had ended."""
    reads = [op for op in key_ops if op.f in _READS and op.status == "ok"]
    if not reads:
        return None
    final = reads[-1]
    for op in key_ops:
        if op is not final and op.f not in _READS and (op.done is None or op.done > final.call):
            return None  # a write still open (or ending) when it was read: not a final read
    return final


def _lost(key_ops: Sequence[Operation], writes: Sequence[Operation], final: Operation) -> list[dict[str, Any]]:
    """The acknowledged ``writes`` the ``final`` read cannot have come after.

    W is lost when every operation that could have left the value read (a write or
    cas of it, a delete for "absent"; failed ones never took effect) ended before W
    began: none of them can be ordered after W.
    """
    value = final.output
    sources = [op for op in key_ops if op.f not in _READS and op.status != "fail" and _written(op) == value]
    out = []
    for w in writes:
        if any(x is w or x.ret is None or x.ret > w.call for x in sources):
            continue
        if sources:
            x = sources[-1]
            why = f"written by {x.describe()} (line {x.call_line}), which ended before this write began"
        else:
            why = "the key is absent" if value is None else "a value no operation wrote"
        out.append({"key": str(w.key), "line": w.call_line, "op": w.describe(), "value": _written(w),
                    "final": value, "final_line": final.call_line, "why": why})
    return out


def _written(op: Operation) -> Any:
    """The value a write or cas leaves behind (None for a delete)."""
    if op.f == "cas":
        return op.value[1] if isinstance(op.value, (list, tuple)) and len(op.value) == 2 else None
    return None if op.f == "delete" else op.value


def availability(history: Path, windows: Sequence[tuple[str, float, float, float]]) -> Verdict:
    """Per window ``(label, start_s, end_s, min)``: the share of operations invoked in it that succeeded.

    Times are seconds since the run's t0 (the history's ``time``). Every
    operation invoked in [start, end) counts: ``ok`` over ``ok + fail + info``.
    A window in which nothing was invoked is unknown.
    """
    name = "availability"
    ops = _operations(name, history)
    if isinstance(ops, Verdict):
        return ops
    results, below, empty, lines = [], [], [], []
    for label, start, end, minimum in windows:
        inside = [op for op in ops if op.call_time is not None and start * 1e9 <= op.call_time < end * 1e9]
        ok = sum(1 for op in inside if op.status == "ok")
        ratio = ok / len(inside) if inside else None
        results.append({"label": label, "start": start, "end": end, "min": minimum, "ops": len(inside),
                        "ok": ok, "ratio": ratio})
        if ratio is None:
            empty.append(label)
        elif ratio < minimum:
            below.append(f"{label}: {ratio:.0%} of {len(inside)} ops ok, under {minimum:.0%}")
            lines.extend(op.call_line for op in inside if op.status != "ok")
    details = {"windows": results}
    if below:
        return Verdict(name, INVALID, "; ".join(below), details, sorted(lines)[:_MAX_OPS])
    if empty:
        return Verdict(name, UNKNOWN, f"no operation was invoked during {', '.join(empty)}", details)
    shown = ", ".join(f"{r['label']} {r['ratio']:.0%}" for r in results)
    return Verdict(name, VALID, f"available: {shown}" if results else "no window to check", details)


# ---------------------------------------------------------------- Maelstrom's workloads


def echoes_match(history: Path) -> Verdict:
    """Every answered echo (``f="echo"``) came back with exactly the string sent.

    Unanswered echoes (``fail``/``info``) are counted, not judged: a node that is down
    cannot echo. Unknown when no echo was answered at all.
    """
    name = "echoes_match"
    ops = _operations(name, history)
    if isinstance(ops, Verdict):
        return ops
    ops = [op for op in ops if op.f == "echo"]
    answered = [op for op in ops if op.status == "ok"]
    wrong = [op for op in answered if op.output != op.value]
    details: dict[str, Any] = {
        "echoes": len(ops), "answered": len(answered), "unanswered": len(ops) - len(answered),
        "wrong": [{"line": op.call_line, "sent": op.value, "returned": op.output, "op": op.describe()}
                  for op in wrong[:_LOST_KEPT]],
        "wrong_count": len(wrong)}
    if wrong:
        first = wrong[0]
        more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
        return Verdict(name, INVALID, f"{len(wrong)} of {len(answered)} answered echoes came back wrong: "
                       f"sent {_show(first.value)}, got {_show(first.output)} (line {first.call_line}){more}",
                       details, [op.call_line for op in wrong][:_MAX_OPS])
    if not answered:
        return Verdict(name, UNKNOWN, f"no echo was answered ({len(ops)} sent)", details)
    unanswered = f" ({len(ops) - len(answered)} unanswered)" if len(ops) > len(answered) else ""
    return Verdict(name, VALID, f"all {len(answered):,} answered echoes came back as sent{unanswered}", details)


def _node_reads(ops: Sequence[Operation]) -> dict[str, list[Operation]]:
    """Reads by the node they read (``key``), every node read at all (a failed read names one too)."""
    out: dict[str, list[Operation]] = {}
    for op in ops:
        if op.f == "read":
            out.setdefault(str(op.key), []).append(op)
    return dict(sorted(out.items()))


def _final_reads(reads: Mapping[str, Sequence[Operation]], writes: Sequence[Operation]) -> dict[str, Operation]:
    """Each node's last ok read, if it began after every one of ``writes`` had ended."""
    ends = [op.done for op in writes]
    last_end = -1 if not ends else (None if None in ends else max(e for e in ends if e is not None))
    out = {}
    for node, node_ops in reads.items():
        ok = [op for op in node_ops if op.status == "ok"]
        if ok and last_end is not None and ok[-1].call > last_end:
            out[node] = ok[-1]
    return out


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def all_delivered(history: Path) -> Verdict:
    """Every acknowledged broadcast is in every node's final read, and no read holds a phantom.

    A node's final read is its last ok ``read`` (``key`` the node) that began after every
    broadcast ended. Lost: an acknowledged message missing from a final read (listed per
    node). Phantom: a message a read returned that no broadcast sent, or that a read
    returned before its broadcast began. Latency of a message on a node: from its
    broadcast's invoke to the completion of the first read of that node after which every
    read of it holds the message; a message's latency is the largest over the nodes (only
    acknowledged messages every final read holds). Unknown when a node has no final read.
    """
    name = "all_delivered"
    ops = _operations(name, history)
    if isinstance(ops, Verdict):
        return ops
    sends = [op for op in ops if op.f == "broadcast"]
    sent = {op.value: op for op in sends}
    acked = {op.value for op in sends if op.status == "ok"}
    reads = _node_reads(ops)
    malformed, phantom = [], []
    for node, node_ops in reads.items():
        for op in node_ops:
            if op.status != "ok":
                continue
            if not isinstance(op.output, tuple):
                malformed.append({"node": node, "line": op.call_line, "returned": op.output})
                continue
            for m in op.output:
                source = sent.get(m)
                if source is None or op.ret is not None and op.ret < source.call:
                    phantom.append({"node": node, "line": op.call_line, "message": m,
                                    "why": "never broadcast" if source is None else
                                    f"read before its broadcast began (line {source.call_line})"})
    finals = _final_reads(reads, sends)
    lost = {node: sorted(acked - set(op.output)) for node, op in finals.items() if isinstance(op.output, tuple)}
    lost = {node: missing for node, missing in lost.items() if missing}
    unread = [node for node in reads if node not in finals]
    latencies = _delivery_latencies(reads, sent, acked, finals)
    figures = sorted(latencies.values())
    latency = {"count": len(figures)}
    if figures:
        latency.update(p50_ms=round(_percentile(figures, 0.5) * 1000, 1),
                       p95_ms=round(_percentile(figures, 0.95) * 1000, 1), max_ms=round(figures[-1] * 1000, 1))
    details: dict[str, Any] = {
        "broadcasts": len(sends), "acknowledged": len(acked),
        "unknown": sum(1 for op in sends if op.status == "info"), "nodes": list(reads),
        "final": {node: len(op.output) if isinstance(op.output, tuple) else None for node, op in finals.items()},
        "lost": {node: missing[:_LOST_KEPT] for node, missing in lost.items()},
        "lost_count": sum(len(missing) for missing in lost.values()),
        "phantom": phantom[:_LOST_KEPT], "phantom_count": len(phantom), "malformed": malformed[:_LOST_KEPT],
        "unread": unread, "latency": latency}
    if lost or phantom or malformed:
        problems, lines = [], []
        if lost:
            shown = ", ".join(f"{node} lacks {len(missing)}" for node, missing in lost.items())
            node, missing = next(iter(lost.items()))
            problems.append(f"{_many(details['lost_count'], 'acknowledged message')} lost ({shown}; "
                            f"e.g. {missing[0]}, broadcast on line {sent[missing[0]].call_line}, "
                            f"not in {node}'s final read on line {finals[node].call_line})")
            lines += [sent[m].call_line for missing in lost.values() for m in missing]
            lines += [finals[node].call_line for node in lost]
        if phantom:
            problems.append(f"{_many(len(phantom), 'phantom message')} (e.g. {phantom[0]['message']} read from "
                            f"{phantom[0]['node']} on line {phantom[0]['line']}: {phantom[0]['why']})")
            lines += [item["line"] for item in phantom]
        if malformed:
            problems.append(f"{_many(len(malformed), 'read')} returned no list of messages (e.g. "
                            f"{_show(malformed[0]['returned'])} from {malformed[0]['node']} on line "
                            f"{malformed[0]['line']})")
            lines += [item["line"] for item in malformed]
        return Verdict(name, INVALID, "; ".join(problems), details, sorted(set(lines))[:_MAX_OPS])
    if unread or not reads:
        which = ", ".join(unread) if unread else "any node"
        return Verdict(name, UNKNOWN, f"no final read of {which}: its delivery is unchecked", details)
    return Verdict(name, VALID, f"all {len(acked):,} acknowledged messages reached all {len(finals)} nodes"
                   f"{_latency_text(latency)}", details)


def _latency_text(latency: Mapping[str, Any]) -> str:
    if not latency.get("count"):
        return ""
    return (f"; delivery latency p50 {_seconds(latency['p50_ms'] / 1000)}, p95 {_seconds(latency['p95_ms'] / 1000)}, "
            f"max {_seconds(latency['max_ms'] / 1000)} over {latency['count']:,} messages")


def _delivery_latencies(reads: Mapping[str, Sequence[Operation]], sent: Mapping[Any, Operation], acked: set[Any],
                        finals: Mapping[str, Operation]) -> dict[Any, float]:
    """Seconds from each acknowledged message's broadcast to its being read for good on every node."""
    delivered = set(acked)
    for op in finals.values():
        delivered &= set(op.output) if isinstance(op.output, tuple) else set()
    if len(finals) < len(reads):
        return {}
    settled: dict[Any, float] = {}  # message -> the latest, over nodes, of its first read for good
    for node_ops in reads.values():
        ok = sorted((op for op in node_ops if op.status == "ok" and isinstance(op.output, tuple)),
                    key=lambda op: op.ret)
        # Walking back from the last read, a message is held for good from the earliest read of
        # the unbroken run of reads that hold it.
        held = set(delivered)
        since: dict[Any, Operation] = {}
        for op in reversed(ok):
            held &= set(op.output)
            if not held:
                break
            for m in held:
                since[m] = op
        for m, op in since.items():
            t = (op.ret_time or 0) / 1e9
            settled[m] = max(settled.get(m, t), t)
    return {m: max(0.0, t - (sent[m].call_time or 0) / 1e9) for m, t in settled.items()}


def counter_sum(history: Path) -> Verdict:
    """A grow-only counter's reads: final ones within the adds' bounds, none ever too high.

    With A the sum of acknowledged adds' deltas and U that of adds whose outcome is unknown
    (failed adds count for nothing), each node's final read (its last ok ``read`` that
    began after every add ended) lies in [A, A + U]; and no read at any time returns more
    than the deltas of the adds (failed ones aside) invoked before that read ended. Unknown
    when a node has no final read.
    """
    name = "counter_sum"
    ops = _operations(name, history)
    if isinstance(ops, Verdict):
        return ops
    adds = [op for op in ops if op.f == "add"]
    bad_adds = [op for op in adds if not _count(op.value)]
    low = sum(op.value for op in adds if op.status == "ok" and _count(op.value))
    high = low + sum(op.value for op in adds if op.status == "info" and _count(op.value))
    reads = _node_reads(ops)
    # the most any read can return: the deltas of the adds (not failed) invoked before it ended
    starts, totals, total = [], [], 0
    for op in sorted((op for op in adds if op.status != "fail" and _count(op.value)), key=lambda op: op.call):
        total += op.value
        starts.append(op.call)
        totals.append(total)
    too_high, malformed = [], []
    for node, node_ops in reads.items():
        for op in node_ops:
            if op.status != "ok":
                continue
            if not _count(op.output):
                malformed.append({"node": node, "line": op.call_line, "returned": op.output})
                continue
            end = op.ret if op.ret is not None else len(ops) * 2
            i = bisect.bisect_left(starts, end)
            most = totals[i - 1] if i else 0
            if op.output > most:
                too_high.append({"node": node, "line": op.call_line, "value": op.output, "most": most})
    finals = _final_reads(reads, adds)
    final_values = {node: op.output for node, op in finals.items()}
    outside = [{"node": node, "line": op.call_line, "value": op.output} for node, op in finals.items()
               if _count(op.output) and not low <= op.output <= high]
    unread = [node for node in reads if node not in finals]
    details: dict[str, Any] = {
        "adds": len(adds), "acknowledged_sum": low, "unknown_sum": high - low,
        "failed_adds": sum(1 for op in adds if op.status == "fail"), "bounds": [low, high],
        "final": final_values, "agree": len(set(map(str, final_values.values()))) <= 1,
        "outside": outside, "too_high": too_high[:_LOST_KEPT], "too_high_count": len(too_high),
        "malformed": malformed[:_LOST_KEPT], "bad_adds": [op.call_line for op in bad_adds][:_LOST_KEPT],
        "unread": unread}
    if high > low:
        bounds = f"within [{low}, {high}] (the acknowledged adds' sum, plus the unknown adds')"
        target = bounds
    else:
        bounds, target = "the acknowledged adds' sum", f"{low} (the acknowledged adds' sum)"
    if outside or too_high or malformed:
        problems, lines = [], []
        if outside:
            shown = ", ".join(f"{item['node']} read {item['value']}" for item in outside)
            problems.append(f"final reads not {target}: {shown}")
            lines += [item["line"] for item in outside]
        if too_high:
            first = too_high[0]
            problems.append(f"{_many(len(too_high), 'read')} above every add invoked before them (e.g. {first['node']} read "
                            f"{first['value']} on line {first['line']}, when at most {first['most']} was added)")
            lines += [item["line"] for item in too_high]
        if malformed:
            problems.append(f"{_many(len(malformed), 'read')} returned no count (e.g. {_show(malformed[0]['returned'])} from "
                            f"{malformed[0]['node']} on line {malformed[0]['line']})")
            lines += [item["line"] for item in malformed]
        return Verdict(name, INVALID, "; ".join(problems), details, sorted(set(lines))[:_MAX_OPS])
    if bad_adds:
        return Verdict(name, UNKNOWN, f"{_many(len(bad_adds), 'add')} without a whole, non-negative delta (line "
                       f"{bad_adds[0].call_line}): the sum is unknown", details)
    if unread or not reads:
        which = ", ".join(unread) if unread else "any node"
        return Verdict(name, UNKNOWN, f"no final read of {which}: the sum is unchecked", details)
    agreed = f"all {len(finals)} nodes read {next(iter(final_values.values()))}" if details["agree"] else \
        "final reads " + ", ".join(f"{node} {value}" for node, value in final_values.items())
    return Verdict(name, VALID, f"{agreed}, {bounds} ({len(adds):,} adds); no read above the adds before it",
                   details)


def _many(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def _count(value: Any) -> bool:
    """A counter's value or an add's delta: a whole number, not negative."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# ---------------------------------------------------------------- the events


def _leading(events: Sequence[Mapping[str, Any]], spec: AlgorithmSpec) -> list[Mapping[str, Any]]:
    """The ``role`` events in which a node took a leading role."""
    return [e for e in events if e.get("kind") == "role" and spec.leads(str(e.get("role", "")))]


def election_safety(events: Sequence[Mapping[str, Any]], spec: AlgorithmSpec) -> Verdict:
    """At most one node takes a leading role in any one term (Raft's Election Safety)."""
    name = "election_safety"
    by_term: dict[Any, list[str]] = {}
    for e in _leading(events, spec):
        nodes = by_term.setdefault(e.get("term"), [])
        if e.get("source") not in nodes:
            nodes.append(str(e.get("source")))
    term = spec.term_name
    split = {t: nodes for t, nodes in by_term.items() if len(nodes) > 1}
    details: dict[str, Any] = {"terms": {str(t): nodes for t, nodes in sorted(by_term.items(), key=_term_order)},
                               "violations": [{"term": t, "nodes": nodes} for t, nodes in split.items()]}
    if split:
        t, nodes = next(iter(split.items()))
        more = f" (and {len(split) - 1} more {term}s)" if len(split) > 1 else ""
        return Verdict(name, INVALID, f"{len(nodes)} nodes led in {term} {t}: {', '.join(nodes)}{more}", details)
    return Verdict(name, VALID, f"one leader per {term} over {len(by_term)} {term}s", details)


def _term_order(item: tuple[Any, Any]) -> tuple[int, Any]:
    t = item[0]
    return (0, t) if isinstance(t, int) else (1, str(t))


def leader_within(events: Sequence[Mapping[str, Any]], spec: AlgorithmSpec, since: float, bound: float) -> Verdict:
    """Some node leads within ``bound`` seconds of ``since`` (unix seconds, e.g. the last heal).

    A node that takes a leading role after ``since`` counts from that moment; failing
    that, one that led before ``since`` and did not stop (no later role event of its
    own, no crash or pause) until ``since + bound`` counts from ``since`` (delay 0).
    """
    name = "leader_within"
    details: dict[str, Any] = {"since": since, "bound": bound}
    after = sorted((e for e in _leading(events, spec) if float(e.get("time", 0)) >= since),
                   key=lambda e: float(e["time"]))
    first = after[0] if after else None
    delay = float(first["time"]) - since if first is not None else None
    if first is not None and delay is not None and delay <= bound:
        details.update(node=first.get("source"), term=first.get("term"), delay=round(delay, 6))
        return Verdict(name, VALID, f"{first.get('source')} led {delay:.2f} s after the mark (bound {bound:g} s)",
                       details)
    still = _still_leading(events, spec, since, since + bound)
    if still:
        details.update(node=still, delay=0.0)
        return Verdict(name, VALID, f"{still} led throughout (bound {bound:g} s)", details)
    details.update(node=None, delay=None if delay is None else round(delay, 6))
    if first is not None and delay is not None:
        return Verdict(name, INVALID, f"no leader within {bound:g} s: the first came after {delay:.2f} s "
                       f"({first.get('source')})", details)
    return Verdict(name, INVALID, f"no leader within {bound:g} s, nor since", details)


def _still_leading(events: Sequence[Mapping[str, Any]], spec: AlgorithmSpec, since: float, until: float) -> str | None:
    """A node whose last role event before ``since`` was a leading one and that kept it until ``until``."""
    leading: dict[str, bool] = {}
    for e in sorted(events, key=lambda e: float(e.get("time", 0))):
        t = float(e.get("time", 0))
        if t > until:
            break
        kind = e.get("kind")
        if kind == "role":
            source = str(e.get("source"))
            if t < since:
                leading[source] = spec.leads(str(e.get("role", "")))
            elif not spec.leads(str(e.get("role", ""))):
                leading[source] = False
        elif kind in ("crash", "pause", "exit") and e.get("node"):
            leading[str(e["node"])] = False  # the lab's events: a stopped node leads nobody
    return next((node for node, leads in leading.items() if leads), None)


# ---------------------------------------------------------------- statuses and reports


def one_coordinator(statuses: Mapping[str, Mapping[str, Any]], spec: AlgorithmSpec) -> Verdict:
    """Exactly one live node leads, and every live node names it as its leader.

    ``statuses``: ``{node id: status dict}`` of the nodes that answered
    (:func:`chaoslab.wire.status.node_statuses`); entries shaped like
    ``cluster_to_dict``'s nodes (``state``, ``status``) are read too, and only
    nodes ``up`` with a status count as live.
    """
    name = "one_coordinator"
    live = {node: s for node, s in ((n, _status(v)) for n, v in statuses.items()) if s is not None}
    word = next((r for r, kind in spec.roles.items() if kind == "lead"), "leader")
    leaders = sorted(spec.leaders(live))
    named = {node: s.get("leader") or None for node, s in live.items()}
    details: dict[str, Any] = {"live": sorted(live), word + "s": leaders, "leaders_named": named}
    if not live:
        return Verdict(name, UNKNOWN, "no node answered", details)
    if len(leaders) != 1:
        found = ", ".join(leaders) if leaders else "none"
        return Verdict(name, INVALID, f"{len(leaders)} {word}s among the live nodes: {found}", details)
    leader = leaders[0]
    disagree = {node: other for node, other in named.items() if other != leader}
    if disagree:
        shown = ", ".join(f"{node} follows {other or 'nobody'}" for node, other in sorted(disagree.items()))
        return Verdict(name, INVALID, f"{leader} is {word} but {shown}", details)
    return Verdict(name, VALID, f"{leader} is the one {word}, and all {len(live)} live nodes agree", details)


def _status(value: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if "state" in value and "status" in value:  # a cluster_to_dict node entry
        status = value.get("status")
        return status if value.get("state") == "up" and status else None
    return value


def agreement(reports: Sequence[AgreementReport]) -> Verdict:
    """Every agreement kept IC1 (loyal lieutenants agree) and IC2 (they obey a loyal commander)."""
    name = "agreement"
    orders = [{"instance": r.instance, "order": r.order, "commander": r.commander, "ic1": r.ic1, "ic2": r.ic2,
               "decisions": r.decisions, "undecided": r.undecided, "traitors": r.traitors} for r in reports]
    details: dict[str, Any] = {"orders": orders}
    if not reports:
        return Verdict(name, UNKNOWN, "no agreement was run", details)
    broken = [r for r in reports if not r.ok]
    if broken:
        r = broken[0]
        which = " and ".join(ic for ic, held in (("IC1", r.ic1), ("IC2", r.ic2)) if not held)
        decided = ", ".join(f"{n} {v}" for n, v in sorted(r.decisions.items()))
        more = f" (and {len(broken) - 1} more agreements)" if len(broken) > 1 else ""
        undecided = f"; undecided {', '.join(r.undecided)}" if r.undecided else ""
        return Verdict(name, INVALID, f"{which} violated in {r.instance} ({r.commander} ordered {r.order}: "
                       f"{decided}{undecided}){more}", details)
    return Verdict(name, VALID, f"IC1 and IC2 held in all {len(reports)} agreements", details)


# ---------------------------------------------------------------- the run


def overall(verdicts: Sequence[Verdict], expect: str) -> tuple[str, int]:
    """The run's verdict and exit code, honouring ``expect``.

    ``expect="valid"``: any invalid verdict -> ("invalid", 1); else any unknown ->
    ("unknown", 2); else ("valid", 0). ``expect="violation"`` (a demonstration
    that a bug is caught): an invalid verdict -> ("invalid", 0); none but some
    unknown -> ("unknown", 2); none at all -> ("valid", 1), the violation was
    missed. Skipped verdicts do not count; a run with nothing checked is unknown.
    """
    if expect not in ("valid", "violation"):
        raise LabError(f"expect must be 'valid' or 'violation', got {expect!r}")
    counted = [v.status for v in verdicts if v.status != SKIPPED]
    if INVALID in counted:
        return INVALID, 0 if expect == "violation" else 1
    if UNKNOWN in counted or not counted:
        return UNKNOWN, 2
    return VALID, 1 if expect == "violation" else 0

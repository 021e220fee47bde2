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
    "STATUSES", "Verdict", "agreement", "availability", "election_safety", "leader_within",
    "linearizable", "no_lost_writes", "one_coordinator", "overall",
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
    try:
        ops = read_history(history)
    except HistoryError as exc:
        return Verdict(name, UNKNOWN, f"cannot read the history: {exc}")
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
    try:
        ops = read_history(history)
    except HistoryError as exc:
        return Verdict(name, UNKNOWN, f"cannot read the history: {exc}")
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

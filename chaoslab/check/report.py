"""A verdict as people read it (text) and as programs read it (plain data for JSON)."""

from __future__ import annotations

from typing import Any

from chaoslab.check.checker import INVALID, UNKNOWN, CheckResult
from chaoslab.check.history import Operation, _show

_PARTIAL_SHOWN = 6  # the tail of the longest linearization: where it got stuck is what matters


def _lines(op: Operation) -> str:
    if op.ret_line and op.ret_line != op.call_line:
        return f"{op.call_line}-{op.ret_line}"
    return str(op.call_line or "")


def summary(result: CheckResult) -> str:
    """``FILE: valid (kv; 1,234 operations: 1,100 ok, 34 failed, 100 unknown; 4 keys) in 0.12 s``."""
    c = result.counts()
    total = len(result.operations)
    keys = len(result.partitions)
    what = (f"{result.model}; {total:,} operations: {c['ok']:,} ok, {c['fail']:,} failed, {c['info']:,} unknown; "
            f"{keys:,} {'partition' if keys == 1 else 'partitions'} checked")
    verdict = result.verdict.upper() if result.verdict == INVALID else result.verdict
    tail = f", {result.reason}" if result.verdict == UNKNOWN and result.reason else ""
    return f"{result.source}: {verdict} ({what}) in {result.seconds:.3f} s{tail}"


def render_text(result: CheckResult) -> str:
    """The summary line; for an invalid history, the window of operations that cannot be linearized."""
    out = [summary(result)]
    failure = result.failure
    if failure is None:
        return "\n".join(out)
    key = "" if failure.key is None else f"key {_show(failure.key)}: "
    out.append(f"  {key}no order of these operations explains what they returned "
               f"(the first {failure.prefix_ops:,}, up to the marked one, are not linearizable):")
    width = max(len(_lines(op)) for op in failure.window)
    for op in failure.window:
        mark = "   <- cannot be placed" if op is failure.culprit else ""
        out.append(f"    line {_lines(op):>{width}}  {op.describe()}{mark}")
    if failure.partial:
        shown = list(zip(failure.partial, failure.states))[-_PARTIAL_SHOWN:]
        tail = f", its last {len(shown)}" if len(shown) < len(failure.partial) else ""
        out.append(f"  the longest linearization found ({len(failure.partial):,} operations{tail}):")
        for op, state in shown:
            out.append(f"    {op.describe():<40} -> state {_show(state)}")
    else:
        out.append("  no operation of it could be linearized first")
    if not failure.explained:
        out.append("  (explaining ran out of time: the window is what the first search saw)")
    return "\n".join(out)


def op_dict(op: Operation) -> dict[str, Any]:
    d: dict[str, Any] = {"process": op.process, "f": op.f}
    if op.key is not None:
        d["key"] = op.key
    d["value"] = op.value
    if op.status == "ok" and op.f in ("read", "get"):
        d["output"] = op.output
    d["status"] = op.status
    d["lines"] = [op.call_line, op.ret_line or None]
    return d


def to_dict(result: CheckResult) -> dict[str, Any]:
    """One JSON object for one file: verdict, counts, time, and the failure's window if any."""
    d: dict[str, Any] = {
        "file": result.source,
        "verdict": result.verdict,
        "model": result.model,
        "seconds": round(result.seconds, 6),
        "operations": result.counts(),
        "partitions": len(result.partitions),
    }
    if result.reason:
        d["reason"] = result.reason
    f = result.failure
    if f is not None:
        d["failure"] = {
            "key": f.key,
            "culprit": op_dict(f.culprit),
            "window": [op_dict(op) for op in f.window],
            "partial": [dict(op_dict(op), state=state) for op, state in zip(f.partial, f.states)],
            "explained": f.explained,
        }
    return d

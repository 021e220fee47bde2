"""Reading snapshots: the one place that knows how a ClusterStatus looks as a dict.

A *snapshot* is :func:`chaoslab.wire.status.cluster_to_dict` of a ``ClusterStatus``,
the same dict ``chaoslab status --json`` prints (:func:`to_snapshot` is that call;
the poller, the CLI and the tests all build snapshots with it). Two quirks are
absorbed here so the panels never see them:

- numbers may arrive as strings (a dict from ``MessageToDict`` or an older
  ``--json`` line has ``"term": "3"``): :func:`num` reads any number, string
  or not, with a default for missing or malformed values.
- Message fields with presence (a node's ``status``, the cluster's ``faults``,
  the algorithm detail) are simply absent when unset: :func:`get` walks a
  path and stops at the first missing step.

The formatting helpers (durations, rates) live here too, so that every panel
says "1.2s" the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf.message import Message

from chaoslab.wire.status import cluster_to_dict

__all__ = [
    "detail",
    "fmt_ago",
    "fmt_duration",
    "fmt_rate",
    "get",
    "node_ids",
    "node_state",
    "node_status",
    "nodes",
    "num",
    "text",
    "to_snapshot",
]

_EMPTY: Mapping[str, Any] = {}


def to_snapshot(status: Message | Mapping[str, Any]) -> dict[str, Any]:
    """A ``ClusterStatus`` message as the dashboard's snapshot dict (dicts pass through)."""
    if isinstance(status, Mapping):
        return dict(status)
    return cluster_to_dict(status)


def get(data: Any, *path: str | int, default: Any = None) -> Any:
    """``data[p0][p1]...``, or ``default`` as soon as a step is missing or of the wrong type."""
    cur = data
    for step in path:
        if type(step) is int:
            if type(cur) is not list and (not isinstance(cur, Sequence) or isinstance(cur, str)):
                return default
            if not -len(cur) <= step < len(cur):
                return default
            cur = cur[step]
        else:
            if type(cur) is not dict and not isinstance(cur, Mapping):
                return default
            if step not in cur:
                return default
            cur = cur[step]
    return cur


def num(data: Any, *path: str | int, default: float = 0) -> Any:
    """The number at ``path`` as an int (or a float when it has a fraction).

    Accepts JSON's 64-bit-integers-as-strings; missing, ``None``, booleans and
    garbage give ``default``.
    """
    value = get(data, *path)
    kind = type(value)
    if kind is int:
        return value
    if value is None or kind is bool:
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                f = float(value)
            except ValueError:
                return default
            return int(f) if f.is_integer() else f
    return default


def text(data: Any, *path: str | int, default: str = "") -> str:
    """The string at ``path``; ``default`` when it is missing or empty."""
    value = get(data, *path)
    if value is None or value == "":
        return default
    return str(value)


def nodes(snapshot: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The cluster's nodes, in the order the supervisor lists them."""
    value = get(snapshot, "nodes", default=[])
    return [n for n in value if isinstance(n, Mapping)] if isinstance(value, Sequence) else []


def node_ids(snapshot: Mapping[str, Any] | None) -> list[str]:
    """The ids of the cluster's nodes, in order (``?`` for a node without one)."""
    return [text(n, "id", default="?") for n in nodes(snapshot)]


def node_status(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The node's own status (what it answered), or None when it did not answer."""
    status = get(node, "status")
    return status if isinstance(status, Mapping) else None


def node_state(node: Mapping[str, Any]) -> str:
    """The supervisor's process state, or ``no answer`` when an up node gave no status."""
    state = text(node, "state", default="?")
    if state == "up" and node_status(node) is None and text(node, "error"):
        return "no answer"
    return state


def detail(node: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The node's ``status.<key>`` sub-dict (an algorithm's detail: ``AlgorithmSpec.detail``), empty when absent."""
    value = get(node, "status", key)
    return value if isinstance(value, Mapping) else _EMPTY


def fmt_duration(seconds: float) -> str:
    """``0.12s`` → ``120ms``, ``3.4s``, ``42s``, ``2m05s``, ``3h07m``."""
    if seconds != seconds:  # NaN
        return "?"
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return f"{round(seconds * 1000):d}ms"
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        m, s = divmod(int(seconds), 60)
        return f"{m}m{s:02d}s"
    h, rest = divmod(int(seconds), 3600)
    return f"{h}h{rest // 60:02d}m"


def fmt_ago(then: float, now: float) -> str:
    """Relative time of ``then`` seen from ``now``: ``now``, ``3.4s ago``, ``2m05s ago``."""
    delta = now - then
    if delta < 0.05:
        return "now"
    if delta < 1:
        return f"{delta:.1f}s ago"
    return f"{fmt_duration(delta)} ago"


def fmt_rate(rate: float) -> str:
    """Messages per second in at most four cells: ``0``, ``3.2``, ``42``, ``1.2k``, ``15k``."""
    if rate <= 0:
        return "0"
    if rate < 9.95:
        return f"{rate:.1f}"
    if rate < 999.5:
        return f"{rate:.0f}"
    if rate < 9950:
        return f"{rate / 1000:.1f}k"
    return f"{rate / 1000:.0f}k"

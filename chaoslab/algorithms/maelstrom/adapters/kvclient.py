"""A key-value client that speaks Maelstrom's lin-kv to the nodes' programs, shaped like
:class:`chaoslab.client.KVClient` so scripted runs' kv workload records the same history.

Each operation is one client message (``read`` / ``write`` / ``cas`` with ``msg_id``; the
reply names it in ``in_reply_to``) sent to a node's program through its host
(``Cluster.command(node, "client", ...)``: the lab's control path, so faults act on the
program's own messages, not on the client's). Maelstrom's error codes
(https://github.com/jepsen-io/maelstrom/blob/main/doc/protocol.md#errors) decide the
outcome: 20 key-does-not-exist and 22 precondition-failed are answers (a missing key, a cas
that did not match); the other *definite* codes mean "not done" (the history's ``fail``);
0 timeout, 13 crash, an unknown code or no reply mean "maybe done" (``info`` for a write); a
refused connection (the node is down) means the message never reached the program (``fail``).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from chaoslab.client import CAS_MISMATCH, NOT_FOUND, OK, NotAcknowledged, Result
from chaoslab.errors import LabError, NotDelivered

KEY_DOES_NOT_EXIST = 20
PRECONDITION_FAILED = 22
#: Maelstrom's definite errors: the operation certainly did not happen
DEFINITE = {1: "node-not-found", 10: "not-supported", 11: "temporarily-unavailable", 12: "malformed-request",
            14: "abort", 20: "key-does-not-exist", 21: "key-already-exists", 22: "precondition-failed",
            30: "txn-conflict"}
INDEFINITE = {0: "timeout", 13: "crash"}

_clients = itertools.count(1)


def error_name(code: Any) -> str:
    return DEFINITE.get(code) or INDEFINITE.get(code) or f"error {code}"


class MaelstromKVClient:
    """``get`` / ``put`` / ``cas`` against the programs of ``cluster``; each client is its own
    Maelstrom client id (``c1``, ``c2``, ...). Requests go to ``home`` (default: the first node);
    a read that got no reply tries the next node while its deadline lasts (reads change
    nothing), a write or cas is sent once (a resend could apply it twice)."""

    def __init__(self, cluster: Any, timeout: float = 5.0, home: str | None = None) -> None:
        self.cluster = cluster
        nodes = list(cluster.node_ids)
        if home is not None and home not in nodes:
            raise LabError(f"home node {home!r} is not one of {', '.join(nodes)}")
        start = nodes.index(home) if home is not None else 0
        self.nodes = nodes[start:] + nodes[:start]
        self.timeout = timeout
        self.client_id = f"c{next(_clients)}"

    @classmethod
    def for_cluster(cls, cluster: Any, timeout: float = 5.0, home: str | None = None, **_: Any) -> MaelstromKVClient:
        if cluster.algorithm.name != "maelstrom":
            raise LabError(f"cluster {cluster.name!r} runs {cluster.algorithm.name}, not Maelstrom programs")
        return cls(cluster, timeout=timeout, home=home)

    def get(self, key: str, timeout: float | None = None) -> Result:
        return self._call({"type": "read", "key": key}, timeout, retry=True)

    def put(self, key: str, value: str, timeout: float | None = None) -> Result:
        return self._call({"type": "write", "key": key, "value": value}, timeout)

    def cas(self, key: str, expected: str | None, value: str, timeout: float | None = None) -> Result:
        return self._call({"type": "cas", "key": key, "from": expected, "to": value}, timeout)

    def _call(self, body: dict[str, Any], timeout: float | None, retry: bool = False) -> Result:
        deadline = time.monotonic() + (timeout or self.timeout)
        nodes = itertools.cycle(self.nodes)
        while True:
            node = next(nodes)
            left = deadline - time.monotonic()
            try:
                reply = self.cluster.command(node, "client", {"body": body, "client": self.client_id},
                                             timeout=max(left, 0.05))
            except LabError as exc:
                if retry and deadline - time.monotonic() > 0.05:
                    continue
                # A refused connection never reached the program: not done, whatever the operation.
                maybe = body["type"] != "read" and not isinstance(exc, NotDelivered)
                raise NotAcknowledged(f"{exc}; outcome unknown" if maybe else str(exc), unknown=maybe) from None
            return _result(body["type"], reply, node)

    def close(self) -> None:
        pass

    def __enter__(self) -> MaelstromKVClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _result(kind: str, reply: Any, node: str) -> Result:
    """A program's reply as the workload reads a result (or the exception it takes for "not done")."""
    if not isinstance(reply, dict):
        raise NotAcknowledged(f"{node} replied {reply!r}, not a message body", unknown=kind != "read")
    if reply.get("type") == f"{kind}_ok":
        value = reply.get("value") if kind == "read" else None
        return Result(OK, value, 0, node)  # type: ignore[arg-type]  # a read returns what was written
    if reply.get("type") != "error":
        raise NotAcknowledged(f"{node} answered {kind} with {reply.get('type')!r}", unknown=kind != "read")
    code = reply.get("code")
    if code == KEY_DOES_NOT_EXIST and kind in ("read", "cas"):
        return Result(NOT_FOUND, "", 0, node)
    if code == PRECONDITION_FAILED and kind == "cas":
        return Result(CAS_MISMATCH, None, 0, node)  # type: ignore[arg-type]  # what the key held: not said
    text = f"{node}: {error_name(code)}" + (f" ({reply['text']})" if reply.get("text") else "")
    raise NotAcknowledged(text, unknown=code not in DEFINITE and kind != "read")

"""A Maelstrom client: one client id sending client messages to the nodes' programs.

Each request is one client message (a body with a ``type``; the host gives it a fresh
``msg_id`` and the reply names it in ``in_reply_to``) sent to a node's program through its
host (``Cluster.command(node, "client", ...)``: the lab's control path, so faults act on
the programs' own messages, not on the clients'). Maelstrom's error codes
(https://github.com/jepsen-io/maelstrom/blob/main/doc/protocol.md#errors) decide what a
reply that is not ``<type>_ok`` means: a *definite* code says the operation did not
happen; 0 timeout, 13 crash, an unknown code or no reply mean it may have. A refused
connection (the node is down: ``NotDelivered``) means the message never reached the program.

Failures are :class:`~chaoslab.client.NotAcknowledged`, whose ``unknown`` says "maybe
done": only ever for an operation that changes something (``changes``).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from chaoslab.client import NotAcknowledged
from chaoslab.errors import LabError, NotDelivered

__all__ = ["DEFINITE", "INDEFINITE", "MaelstromClient", "error_name", "expect_ok"]

#: Maelstrom's definite errors: the operation certainly did not happen
DEFINITE = {1: "node-not-found", 10: "not-supported", 11: "temporarily-unavailable", 12: "malformed-request",
            14: "abort", 20: "key-does-not-exist", 21: "key-already-exists", 22: "precondition-failed",
            30: "txn-conflict"}
INDEFINITE = {0: "timeout", 13: "crash"}

_clients = itertools.count(1)


def error_name(code: Any) -> str:
    return DEFINITE.get(code) or INDEFINITE.get(code) or f"error {code}"


def expect_ok(kind: str, reply: Any, node: str, changes: bool) -> dict[str, Any]:
    """``reply`` if it is ``<kind>_ok``; else :class:`NotAcknowledged`, unknown when the
    operation ``changes`` something and the reply does not say for sure it did not happen."""
    if not isinstance(reply, dict):
        raise NotAcknowledged(f"{node} replied {reply!r}, not a message body", unknown=changes)
    if reply.get("type") == f"{kind}_ok":
        return reply
    if reply.get("type") != "error":
        raise NotAcknowledged(f"{node} answered {kind} with {reply.get('type')!r}", unknown=changes)
    code = reply.get("code")
    text = f"{node}: {error_name(code)}" + (f" ({reply['text']})" if reply.get("text") else "")
    raise NotAcknowledged(text, unknown=changes and code not in DEFINITE)


class MaelstromClient:
    """Client messages to the programs of ``cluster`` as one client id (``c1``, ``c2``, ...).

    Requests go to ``home`` (default: the first node); with ``retry``, one that got no
    reply tries the next node while its deadline lasts (only for requests any node may
    answer and that change nothing: a resend could apply a change twice)."""

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
    def for_cluster(cls, cluster: Any, timeout: float = 5.0, home: str | None = None, **_: Any) -> Any:
        if cluster.algorithm.name != "maelstrom":
            raise LabError(f"cluster {cluster.name!r} runs {cluster.algorithm.name}, not Maelstrom programs")
        return cls(cluster, timeout=timeout, home=home)

    @property
    def home(self) -> str:
        return self.nodes[0]

    def request(self, body: dict[str, Any], *, timeout: float | None = None, retry: bool = False,
                changes: bool = True) -> tuple[Any, str]:
        """Send ``body``; return the reply's body and the node that answered. No reply:
        :class:`NotAcknowledged` (unknown if it ``changes`` something and may have arrived)."""
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
                maybe = changes and not isinstance(exc, NotDelivered)
                raise NotAcknowledged(f"{exc}; outcome unknown" if maybe else str(exc), unknown=maybe) from None
            return reply, node

    def close(self) -> None:
        pass

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

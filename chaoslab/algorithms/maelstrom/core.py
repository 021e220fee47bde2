"""The Maelstrom host core: the protocol's JSON lines in and out, our peer messages between.

The user's program is the node; this core only translates. Lines the program writes come in
as ``step(own id, FromProgram)``; lines for it go out as ``ToProgram`` messages addressed to
the node's own id, which the runtime hands to the program adapter instead of a peer stream.
A message the program addresses to another node travels as a :class:`MaelstromMessage`
through the fault proxy like any other algorithm's; a reply to a client (``dest`` a client id
awaiting ``in_reply_to``) answers the operator command that asked.

The protocol's documented shapes are the contract: a line that is not a JSON object, a
message without ``src``, ``dest`` or a ``body`` object with a ``type``, or a ``dest`` that is
neither a node nor a waiting client is a *protocol error*, recorded as one line naming the
node and the offending line. Before the program is ready one is fatal
(:attr:`MaelstromHost.failure`): the host refuses to start. After it, an event; the line is dropped.

Ready means ``init_ok`` came back, and for the broadcast workload also ``topology_ok``: as
Maelstrom's harness does, the host then sends the program a ``topology`` message (from
``c0``; the whole neighbour map of config ``topology``, :mod:`.topology`) and serves only once
it is acknowledged. A restarted node's program starts fresh, so it gets both again.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.maelstrom.messages import FromProgram, MaelstromMessage, ToProgram
from chaoslab.algorithms.maelstrom.topology import neighbours

if TYPE_CHECKING:  # the driver's seeded rng; the host draws nothing from it
    import random

RATE_WINDOW_S = 5.0  # the time constant of the message rates in status (exponentially decayed)
INIT_CLIENT = "c0"  # who sends init (and topology), as Maelstrom's own harness does
MAX_SHOWN = 200  # characters of an offending line kept in an error


class Rates:
    """Messages a second per message type, exponentially decayed over RATE_WINDOW_S: the
    dashboard shows what a program is doing by its traffic, since its roles are unknown."""

    def __init__(self) -> None:
        self._rate: dict[str, float] = {}
        self._at: dict[str, float] = {}

    def add(self, kind: str, now: float) -> None:
        self._rate[kind] = self.rate(kind, now) + 1.0 / RATE_WINDOW_S
        self._at[kind] = now

    def rate(self, kind: str, now: float) -> float:
        if kind not in self._rate:
            return 0.0
        return self._rate[kind] * math.exp(-max(0.0, now - self._at[kind]) / RATE_WINDOW_S)

    def snapshot(self, now: float) -> dict[str, float]:
        return {kind: round(self.rate(kind, now), 2) for kind in sorted(self._rate)}


def shown(line: str) -> str:
    """An offending line as an error shows it: repr'd, cut to MAX_SHOWN characters."""
    return repr(line if len(line) <= MAX_SHOWN else line[:MAX_SHOWN] + "...")


class MaelstromHost:
    def __init__(self, node_id: str, node_ids: list[str], config: Mapping[str, Any],
                 rng: random.Random, durable: Any = None) -> None:
        self.node_id = node_id
        self.node_ids = list(node_ids)
        self.client_timeout_s = float(config.get("client_timeout_ms", 10_000)) / 1000
        self.workload = str(config.get("workload", ""))
        self.topology_kind = str(config.get("topology", "grid"))
        self.inited = False  # init_ok came back
        self.ready = False  # and, for broadcast, topology_ok: the node may serve
        self.topology: list[str] | None = None  # the neighbours sent in topology, once sent
        self._topology_msg_id: int | None = None
        self.failure: str | None = None  # a protocol error before ready: the host must not start
        self.errors = 0
        self.last_error = ""
        self.exited: int | None = None
        self._msg_ids = 0
        self._pending: dict[tuple[str, int], tuple[int, float]] = {}  # (client, msg_id) -> (request id, give up at)
        self.sent_by_type: Counter[str] = Counter()  # to peers
        self.received_by_type: Counter[str] = Counter()  # from peers
        self.rates_out = Rates()
        self.rates_in = Rates()
        self.last_heard: float | None = None

    # -- the contract -------------------------------------------------------

    def start(self, now: float) -> Output:
        out = Output()
        body = {"type": "init", "msg_id": self._next_msg_id(), "node_id": self.node_id, "node_ids": self.node_ids}
        self._to_program(out, INIT_CLIENT, body)
        return out

    def tick(self, now: float) -> Output:
        out = Output()
        for key, (request_id, give_up) in list(self._pending.items()):
            if give_up <= now:
                del self._pending[key]  # the runtime answered the operator long ago
        return out

    def next_deadline(self) -> float:
        return min((give_up for _, give_up in self._pending.values()), default=float("inf"))

    def step(self, src: str, message: Any, now: float) -> Output:
        out = Output()
        if isinstance(message, FromProgram):
            if src == self.node_id:
                self._from_program(out, message, now)
            return out
        if isinstance(message, MaelstromMessage):
            self.last_heard = now
            kind = str(message.body.get("type", "?"))
            self.received_by_type[kind] += 1
            self.rates_in.add(kind, now)
            self._to_program(out, src, message.body)
        return out

    def command(self, request_id: int, name: str, args: dict[str, Any], now: float) -> Output:
        """``client``: ``{"body": {...}, "client": "c1"}`` goes to the program as a client
        message (a fresh ``msg_id`` replaces any given); the result is the reply's body."""
        if name != "client":
            raise ValueError(f"unknown command {name!r} (maelstrom nodes take: client)")
        body = args.get("body")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise ValueError("client: body must be a JSON object with a string \"type\"")
        client = str(args.get("client") or "c1")
        if client in self.node_ids or not client.startswith("c"):
            raise ValueError(f"client: {client!r} is not a client id (c1, c2, ...)")
        msg_id = self._next_msg_id()
        self._pending[(client, msg_id)] = (request_id, now + self.client_timeout_s)
        out = Output()
        self._to_program(out, client, {**body, "msg_id": msg_id})
        return out

    def status(self, now: float, log_tail: int = 0) -> dict[str, Any]:
        return {
            "role": "node" if self.ready else "starting",
            "term": 0,
            "leader": "",
            "last_heard_s": (now - self.last_heard) if self.last_heard is not None else -1.0,
            "maelstrom": {
                "inited": self.inited,
                "ready": self.ready,
                "topology": self.topology,
                "errors": self.errors,
                "last_error": self.last_error,
                "pending_clients": len(self._pending),
                "sent_by_type": dict(self.sent_by_type),
                "received_by_type": dict(self.received_by_type),
                "rate_out": self.rates_out.snapshot(now),  # messages/s to peers, by type
                "rate_in": self.rates_in.snapshot(now),
            },
        }

    # -- translation -------------------------------------------------------

    def _next_msg_id(self) -> int:
        self._msg_ids += 1
        return self._msg_ids

    def _to_program(self, out: Output, src: str, body: dict[str, Any]) -> None:
        line = json.dumps({"src": src, "dest": self.node_id, "body": body}, separators=(",", ":"))
        out.send(self.node_id, ToProgram(line))

    def _from_program(self, out: Output, message: FromProgram, now: float) -> None:
        if message.exited is not None:
            self.exited = message.exited
            self._error(out, f"the program exited with code {message.exited}", event="program_exit")
            return
        line = message.line
        try:
            msg = json.loads(line)
        except ValueError:
            return self._error(out, f"the program wrote a line that is not JSON: {shown(line)}")
        why = _malformed(msg)
        if why:
            return self._error(out, f"the program wrote a message {why}: {shown(line)}")
        dest, body = msg["dest"], msg["body"]
        if dest in self.node_ids and dest != self.node_id:
            self.sent_by_type[body["type"]] += 1
            self.rates_out.add(body["type"], now)
            out.send(dest, MaelstromMessage(body))
        elif dest == INIT_CLIENT and body["type"] == "init_ok":
            if not self.inited:
                self.inited = True
                out.event("init", node_ids=self.node_ids)
                self._after_init(out)
        elif dest == INIT_CLIENT and self._topology_msg_id is not None and body.get("in_reply_to") == self._topology_msg_id:
            self._topology_answered(out, body, line)
        elif (dest, body.get("in_reply_to")) in self._pending:
            request_id, _ = self._pending.pop((dest, body["in_reply_to"]))
            out.reply(request_id, body)
        elif dest.startswith("c") and dest not in self.node_ids:
            pass  # a late reply to a client nobody waits for any more, as with Maelstrom's own clients
        else:
            self._error(out, f"the program wrote to an unknown dest {dest!r}: {shown(line)}")

    def _after_init(self, out: Output) -> None:
        if self.workload != "broadcast":
            self.ready = True
            return
        mapping = neighbours(self.topology_kind, self.node_ids)
        self.topology = mapping[self.node_id]
        self._topology_msg_id = self._next_msg_id()
        self._to_program(out, INIT_CLIENT, {"type": "topology", "msg_id": self._topology_msg_id, "topology": mapping})

    def _topology_answered(self, out: Output, body: dict[str, Any], line: str) -> None:
        if self.ready:
            return  # a repeated answer changes nothing
        if body["type"] != "topology_ok":
            return self._error(out, f"the program answered topology with {body['type']!r}, not topology_ok: {shown(line)}")
        self.ready = True
        out.event("topology", neighbours=self.topology, topology=self.topology_kind)

    def _error(self, out: Output, text: str, event: str = "protocol_error") -> None:
        self.errors += 1
        self.last_error = text
        if not self.ready and self.failure is None:
            self.failure = text
        out.event(event, error=text)


def _malformed(msg: Any) -> str:
    """Why a decoded line is not a protocol message, or ""."""
    if not isinstance(msg, dict):
        return "that is not a JSON object"
    if "dest" not in msg:
        return "without dest"
    if not isinstance(msg["dest"], str):
        return "whose dest is not a string"
    if not isinstance(msg.get("body"), dict):
        return "without a body object"
    if not isinstance(msg["body"].get("type"), str):
        return "whose body has no type"
    return ""

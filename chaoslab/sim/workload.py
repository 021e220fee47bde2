"""Jepsen-style clients for the simulator: a key-value workload and its history.

Each client runs one operation at a time against the node it believes is
the leader. Before its first write it registers a session (a ``REGISTER``
command through the log; the store allocates the id). A ``NOT_LEADER``
answer sends it to the hinted node; an ``UNAVAILABLE`` answer or silence (a
lost message, a crashed node) makes it retry, always with the *same*
``(session, seq)``, so a write that did land is not applied twice. After
``give_up`` seconds it stops trying: a write's outcome is then unknown
(``info``), unless it was never sent (still registering: ``fail``); a read had
no effect (``fail``). A write answered ``SESSION_EXPIRED`` (the store forgot
the session) was not applied by that try but may have been by an earlier one
(or by a duplicate of it): ``info``, and the client registers again before its
next write.

The history is one record per invoke and per completion, in virtual-time
order, shaped like Jepsen's (``process``, ``type``, ``f``, ``key``,
``value``, ``time`` in ns), so ``chaoslab check`` can read it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaoslab.algorithms.kv.commands import KVCode, KVCommand, KVOp, KVResult
from chaoslab.seeds import derive_rng
from chaoslab.sim.simulation import ClientCall, Simulation

DEFAULT_MIX: Mapping[str, float] = {"get": 4, "put": 3, "append": 1, "cas": 1.5, "delete": 0.5}
_OPS = {"get": KVOp.GET, "put": KVOp.PUT, "append": KVOp.APPEND, "cas": KVOp.CAS, "delete": KVOp.DELETE}
_FINAL = {KVCode.OK, KVCode.NOT_FOUND, KVCode.CAS_MISMATCH, KVCode.BAD_REQUEST}


@dataclass(slots=True)
class HistoryOp:
    """One line of a Jepsen history. ``index`` is the log index of an acknowledged write."""

    process: int
    type: str  # invoke | ok | fail | info
    f: str  # get | put | append | cas | delete
    key: str
    value: Any
    time: float  # virtual seconds
    index: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "process": self.process,
            "type": self.type,
            "f": self.f,
            "key": self.key,
            "value": self.value,
            "time": round(self.time * 1e9),
        }
        if self.index:
            d["index"] = self.index
        if self.error:
            d["error"] = self.error
        return d


@dataclass(slots=True)
class AckedWrite:
    """A write some client saw succeed: it must survive, at ``index``."""

    command: KVCommand
    index: int
    time: float


class _Client:
    __slots__ = ("attempt", "command", "f", "invoked_at", "op_id", "process", "seq", "session", "target", "value",
                 "operation")

    def __init__(self, process: int, target: str) -> None:
        self.process = process
        self.seq = 0  # grows over the client's life, across sessions
        self.session = 0  # 0: none yet, or the last one expired
        self.target = target
        self.op_id = 0  # which operation is in progress (0: none)
        self.attempt = 0  # which try of it
        self.command: KVCommand | None = None  # what is being sent: the operation's, or a registration first
        self.operation: KVCommand | None = None  # the operation's command
        self.f = ""
        self.value: Any = None
        self.invoked_at = 0.0


class Workload:
    """``clients`` closed-loop clients over ``keys`` keys, ``rate`` operations/s in all.

    ``timeout`` is how long a client waits for one reply before retrying
    elsewhere; ``give_up`` how long it keeps retrying one operation.
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        clients: int = 3,
        keys: int = 4,
        rate: float = 50.0,
        timeout: float = 0.3,
        give_up: float = 3.0,
        mix: Mapping[str, float] = DEFAULT_MIX,
        rng: random.Random | None = None,
    ) -> None:
        if clients < 1 or keys < 1 or not rate > 0 or not math.isfinite(rate):
            raise ValueError(f"workload needs clients >= 1, keys >= 1, rate > 0; got {clients}, {keys}, {rate}")
        unknown = [f for f in mix if f not in _OPS]
        if unknown:
            raise ValueError(f"unknown workload operation {unknown[0]!r} (known: {', '.join(_OPS)})")
        self.sim = sim
        self.keys = [f"k{i}" for i in range(1, keys + 1)]
        self.rate = rate
        self.timeout = timeout
        self.give_up = give_up
        self.fs = [f for f, w in mix.items() if w > 0]
        self.weights = [mix[f] for f in self.fs]
        self.rng = rng or derive_rng(sim.seed, "workload")
        self.clients = [_Client(i, self.rng.choice(sim.node_ids)) for i in range(clients)]
        self.history: list[HistoryOp] = []
        self.acked: list[AckedWrite] = []
        self.until = math.inf
        self._ops = 0
        self._values: dict[str, str] = {}  # key -> a value last seen there (for cas)

    # ------------------------------------------------------------------ control

    def start(self, at: float | None = None, until: float = math.inf) -> None:
        """Clients start at ``at`` (default now) and invoke nothing new from ``until`` on."""
        self.until = until
        begin = self.sim.now if at is None else at
        for client in self.clients:
            self.sim.at(begin + self._think(), lambda s, c=client: self._invoke(c))

    def stop(self) -> None:
        """No new operations; those in progress run to completion (or give up)."""
        self.until = min(self.until, self.sim.now)

    def idle(self) -> bool:
        """No operation in progress."""
        return all(c.op_id == 0 for c in self.clients)

    def finish(self) -> None:
        """Record every operation still in progress as unknown (``info``), e.g. at the end of a run."""
        for c in self.clients:
            if c.op_id:
                self._complete(c, self._abandoned(c), error="still running at the end")

    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "fail": 0, "info": 0}
        for op in self.history:
            if op.type in out:
                out[op.type] += 1
        return out

    # ------------------------------------------------------------------ one operation

    def _think(self) -> float:
        # Each client issues rate/clients operations per second on average.
        return self.rng.expovariate(self.rate / len(self.clients))

    def _invoke(self, c: _Client) -> None:
        if c.op_id or self.sim.now >= self.until:
            return
        rng = self.rng
        f = rng.choices(self.fs, weights=self.weights)[0]
        key = rng.choice(self.keys)
        c.seq += 1
        token = f"{c.process}.{c.seq}"  # unique: every written value names its write
        command = KVCommand(_OPS[f], key, seq=c.seq)
        value: Any = None
        if f == "put":
            command.value = value = token
        elif f == "append":
            command.value = value = token + ";"  # so the appended list reads back token by token
        elif f == "cas":
            old = self._values.get(key)
            if old is None:
                command.expect_absent = True
            else:
                command.expected = old
            command.value = token
            value = [old, token]
        self._ops += 1
        c.op_id, c.attempt, c.operation, c.f, c.value, c.invoked_at = self._ops, 0, command, f, value, self.sim.now
        c.command = command
        if f != "get":
            command.session = c.session
            if not c.session:
                c.command = KVCommand(KVOp.REGISTER, "")
        self.history.append(HistoryOp(c.process, "invoke", f, key, value, self.sim.now))
        self._send(c)

    def _send(self, c: _Client) -> None:
        c.attempt += 1
        op_id, attempt = c.op_id, c.attempt
        self.sim.request(c.target, c.command, lambda s, call: self._reply(c, op_id, attempt, call))
        self.sim.at(self.sim.now + self.timeout, lambda s: self._timed_out(c, op_id, attempt))

    def _reply(self, c: _Client, op_id: int, attempt: int, call: ClientCall) -> None:
        if c.op_id != op_id or call.command is not c.command:
            return  # an answer to an operation already completed (or given up), or a registration done
        result: KVResult = call.result
        code = KVCode(result.code)
        registering = c.command is not c.operation
        if registering and code == KVCode.OK:
            assert c.operation is not None
            c.session = c.operation.session = result.session
            c.command = c.operation
            self._send(c)
        elif code in _FINAL:
            self._finish_op(c, result)
        elif code == KVCode.SESSION_EXPIRED:
            c.session = 0  # the next write registers anew
            self._complete(c, "info", error=result.error)
        elif attempt == c.attempt:  # only the latest try decides where to go next
            if result.leader_hint:
                c.target = result.leader_hint
            elif code == KVCode.NOT_LEADER:
                c.target = self._other_node(c.target)
            self._retry(c, backoff=0.01 if result.leader_hint else 0.05)

    def _timed_out(self, c: _Client, op_id: int, attempt: int) -> None:
        if c.op_id == op_id and c.attempt == attempt:
            c.target = self._other_node(c.target)  # maybe that node is down or cut off
            self._retry(c, backoff=0.0)

    def _retry(self, c: _Client, backoff: float) -> None:
        if self.sim.now - c.invoked_at >= self.give_up:
            self._complete(c, self._abandoned(c), error="gave up")
            return
        op_id, attempt = c.op_id, c.attempt
        self.sim.at(
            self.sim.now + backoff, lambda s: self._send(c) if (c.op_id, c.attempt) == (op_id, attempt) else None
        )

    @staticmethod
    def _abandoned(c: _Client) -> str:
        """How an operation given up on ends: a read, or a write never sent (still registering),
        surely had no effect (``fail``); a write that was sent may have (``info``)."""
        return "fail" if c.f == "get" or c.command is not c.operation else "info"

    def _finish_op(self, c: _Client, result: KVResult) -> None:
        assert c.operation is not None
        code = KVCode(result.code)
        key = c.operation.key
        if c.f == "get":
            value = result.value if code == KVCode.OK else None
            if code in (KVCode.OK, KVCode.NOT_FOUND):
                if value is not None:
                    self._values[key] = value
                self._complete(c, "ok", value=value)
            else:
                self._complete(c, "fail", error=result.error)
            return
        if code == KVCode.OK:
            if c.f in ("put", "cas"):
                self._values[key] = c.operation.value
            self.acked.append(AckedWrite(c.operation, result.index, self.sim.now))
            self._complete(c, "ok", index=result.index)
        else:
            if code == KVCode.CAS_MISMATCH and result.value:
                self._values[key] = result.value
            self._complete(c, "fail", error=result.error or code.name.lower())

    def _complete(self, c: _Client, kind: str, *, value: Any = None, index: int = 0, error: str = "") -> None:
        assert c.operation is not None
        shown = value if c.f == "get" else c.value
        self.history.append(HistoryOp(c.process, kind, c.f, c.operation.key, shown, self.sim.now, index, error))
        c.op_id = 0
        self.sim.at(self.sim.now + self._think(), lambda s: self._invoke(c))

    def _other_node(self, node: str) -> str:
        ids = self.sim.node_ids
        return ids[(ids.index(node) + 1) % len(ids)]

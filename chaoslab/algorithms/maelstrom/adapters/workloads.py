"""Maelstrom's echo, broadcast and g-counter workloads for scripted runs (``chaoslab run``).

Each is a :class:`~chaoslab.chaos.clients.ClientPool`: ``section.clients`` paced clients,
client ``i`` bound to node ``i mod N`` with its own Maelstrom client id, every operation an
invoke and a completion line in ``history.jsonl``. A client asks only its own node: a read
names the node it reads (the history's ``key``), and an echo tests the node it went to.
The message shapes are Maelstrom's (doc/workloads.md):

- echo: ``{"type": "echo", "echo": s}`` -> ``echo_ok`` with the same ``echo``. History
  ``f="echo"``, the string sent; the completion's value is what came back.
- broadcast: ``{"type": "broadcast", "message": m}`` -> ``broadcast_ok``, and ``read`` ->
  ``read_ok`` ``{"messages": [...]}``. History ``f="broadcast"`` with the int, ``f="read"``
  with ``key`` the node and the messages as value. The host sends ``topology``, not this.
- g-counter: ``{"type": "add", "delta": d}`` -> ``add_ok``, and ``read`` -> ``read_ok``
  ``{"value": n}``. History ``f="add"`` with the delta, ``f="read"`` as for broadcast.

After the final heal, :meth:`final_reads` reads every node, polled until the node holds
every acknowledged message (broadcast) or all nodes agree on a value the adds allow
(g-counter), or a deadline passes; every read is recorded, and the verdicts
(:mod:`chaoslab.chaos.verdicts`) judge from the history alone.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.maelstrom.adapters.client import MaelstromClient, expect_ok
from chaoslab.chaos.clients import READ_ONLY, ClientPool, Outcome, poll, weighted

if TYPE_CHECKING:
    from chaoslab.chaos.history import HistoryRecorder
    from chaoslab.chaos.scenario import WorkloadSection

__all__ = ["BroadcastWorkload", "EchoWorkload", "GCounterWorkload"]

#: How long one try of a final read may take.
FINAL_ATTEMPT_S = 2.0
#: g-counter deltas: small, so sums stay readable; 0 is allowed (Maelstrom sends it too).
MAX_DELTA = 5


class _Workload(ClientPool):
    """What the three share: Maelstrom clients bound to their nodes, one request per operation."""

    ops: tuple[str, ...] = ()

    def __init__(self, cluster: Any, section: WorkloadSection, rng: random.Random, recorder: HistoryRecorder) -> None:
        super().__init__(cluster, section, rng, recorder)
        if self.ops:
            self.fs, self.weights = weighted(section.mix, self.ops)
        self._tally = threading.Lock()  # guards what subclasses count across client threads

    def connect(self, process: int, home: str | None) -> MaelstromClient:
        return MaelstromClient.for_cluster(self.cluster, timeout=self.section.timeout, home=home)

    def call(self, process: int, client: MaelstromClient, f: str, key: Any, value: Any, body: dict[str, Any],
             answer: Callable[[dict[str, Any]], Any], *, timeout: float | None = None,
             final: bool = False) -> tuple[Outcome, Any] | None:
        """One request recorded as operation ``f``: ``ok`` with ``answer(reply)`` as its value
        when the reply is ``<type>_ok``; otherwise as :func:`expect_ok` and the client judge it."""
        changes = f not in READ_ONLY

        def send() -> tuple[Outcome, Any]:
            reply, node = client.request(body, timeout=timeout, changes=changes)
            ok = expect_ok(body["type"], reply, node, changes=changes)
            return ("ok", answer(ok), node, ""), ok

        return self.record(process, f, key, value, send, final=final)

    def read(self, process: int, client: MaelstromClient, answer: Callable[[dict[str, Any]], Any], *,
             timeout: float | None = None, final: bool = False) -> tuple[Outcome, Any] | None:
        """A ``read`` of the client's own node (the history's key)."""
        return self.call(process, client, "read", client.home, None, {"type": "read"}, answer, timeout=timeout,
                         final=final)

    def final_clients(self) -> list[tuple[int, MaelstromClient]]:
        """One client per node for the final reads, as processes ``clients + i``."""
        base = self.section.clients
        return [(base + i, self.connect(base + i, node)) for i, node in enumerate(self.cluster.node_ids)]


class EchoWorkload(_Workload):
    """Echoes of random unique strings, each to the client's own node."""

    def __init__(self, cluster: Any, section: WorkloadSection, rng: random.Random, recorder: HistoryRecorder) -> None:
        super().__init__(cluster, section, rng, recorder)
        self._sent: dict[int, int] = {}

    def operate(self, process: int, client: Any, rng: random.Random) -> None:
        n = self._sent[process] = self._sent.get(process, 0) + 1
        text = f"p{process}-{n}-{rng.getrandbits(32):08x}"  # unique by process and count, random by the seed
        self.call(process, client, "echo", None, text, {"type": "echo", "echo": text}, lambda ok: ok.get("echo"))


def _messages(reply: dict[str, Any]) -> Any:
    """A broadcast read's messages, sorted when they are a list of numbers (what a verdict reads)."""
    messages = reply.get("messages")
    if isinstance(messages, list) and all(isinstance(m, int) and not isinstance(m, bool) for m in messages):
        return sorted(messages)
    return messages  # anything else is recorded as it came, for the verdict to refuse


class BroadcastWorkload(_Workload):
    """Broadcasts of unique ints and reads of the client's own node, mixed by ``section.mix``."""

    ops = ("broadcast", "read")

    def __init__(self, cluster: Any, section: WorkloadSection, rng: random.Random, recorder: HistoryRecorder) -> None:
        super().__init__(cluster, section, rng, recorder)
        self._sent: dict[int, int] = {}
        self.acknowledged: set[int] = set()

    def operate(self, process: int, client: Any, rng: random.Random) -> None:
        if rng.choices(self.fs, self.weights)[0] == "read":
            self.read(process, client, _messages)
            return
        n = self._sent[process] = self._sent.get(process, 0) + 1
        message = n * self.section.clients + process  # unique: each client its own residue
        done = self.call(process, client, "broadcast", None, message, {"type": "broadcast", "message": message},
                         lambda ok: None)
        if done is not None and done[0][0] == "ok":
            with self._tally:
                self.acknowledged.add(message)

    def final_reads(self, timeout: float = 10.0) -> dict[str, Any]:
        """Read every node until its read holds every acknowledged message, or ``timeout`` s pass.

        Returns ``{node: messages}`` of each node's last successful read.
        """
        deadline = time.monotonic() + timeout
        with self._tally:
            want = set(self.acknowledged)
        found: dict[str, Any] = {}
        for process, client in self.final_clients():
            def attempt(process: int = process, client: MaelstromClient = client) -> bool:
                budget = min(max(deadline - time.monotonic(), 0.5), FINAL_ATTEMPT_S)
                done = self.read(process, client, _messages, timeout=budget, final=True)
                if done is None or done[0][0] != "ok":
                    return False
                found[client.home] = done[0][1]
                return isinstance(done[0][1], list) and want <= set(done[0][1])

            poll(deadline, attempt)
        return found


class GCounterWorkload(_Workload):
    """Adds of small random deltas and reads of the client's own node, mixed by ``section.mix``."""

    ops = ("add", "read")

    def __init__(self, cluster: Any, section: WorkloadSection, rng: random.Random, recorder: HistoryRecorder) -> None:
        super().__init__(cluster, section, rng, recorder)
        self.sums = {"invoked": 0, "ok": 0, "fail": 0}  # deltas by how their adds ended

    def operate(self, process: int, client: Any, rng: random.Random) -> None:
        if rng.choices(self.fs, self.weights)[0] == "read":
            self.read(process, client, lambda ok: ok.get("value"))
            return
        delta = rng.randint(0, MAX_DELTA)
        with self._tally:
            self.sums["invoked"] += delta  # before it is sent: an add stuck in flight is unknown, not absent
        done = self.call(process, client, "add", None, delta, {"type": "add", "delta": delta}, lambda ok: None)
        if done is None:  # the workload had stopped: never sent
            with self._tally:
                self.sums["invoked"] -= delta
        elif done[0][0] in ("ok", "fail"):
            with self._tally:
                self.sums[done[0][0]] += delta

    def bounds(self) -> tuple[int, int]:
        """What a converged read may be: the acknowledged sum, up to that plus the adds whose
        outcome is unknown."""
        with self._tally:
            return self.sums["ok"], self.sums["invoked"] - self.sums["fail"]

    def final_reads(self, timeout: float = 10.0) -> dict[str, Any]:
        """Read every node, round after round, until all agree on a value within :meth:`bounds`
        or ``timeout`` s pass. Returns ``{node: value}`` of the last round's successful reads."""
        deadline = time.monotonic() + timeout
        low, high = self.bounds()
        clients = self.final_clients()
        found: dict[str, Any] = {}

        def round_() -> bool:
            found.clear()
            budget = min(max(deadline - time.monotonic(), 0.5), FINAL_ATTEMPT_S)
            for process, client in clients:
                done = self.read(process, client, lambda ok: ok.get("value"), timeout=budget, final=True)
                if done is not None and done[0][0] == "ok":
                    found[client.home] = done[0][1]
            values = set(found.values())
            return (len(found) == len(clients) and len(values) == 1
                    and all(isinstance(v, int) and low <= v <= high for v in values))

        poll(deadline, round_)
        return found

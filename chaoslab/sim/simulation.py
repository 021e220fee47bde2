"""A deterministic, single-threaded simulator that drives real algorithm cores.

Virtual time and one event heap ``(time, seq, kind, ...)``: the simulator pops
the earliest entry, advances ``now`` to it, feeds the core (``tick`` or
``step``) and acts on the :class:`~chaoslab.algorithms.base.Output` exactly as
the node runtime does: persist, then send and reply, then record events.
Every random choice comes from ``random.Random`` instances derived from the
one seed (:func:`chaoslab.seeds.derive_rng`, as in a real cluster), so a seed
names a run: same seed, same trace.

Each node's durable storage is the algorithm's own durable model
(``spec.durable_model()``: Raft's is a log, :class:`RaftDurable`): every
``Output.persist`` is applied to it, and a restart builds the core from
``model.restore()``, exactly what the node runtime's files give back.

By default an fsync takes no time: each output is durable, sent and recorded
at the instant of its step. With ``fsync`` (virtual seconds) the simulator
acts like the runtime's group commit instead: a node's outputs queue while
one fsync runs; when it ends, that batch's persists reach the disk model and
only then do its messages, replies and events leave, and the next batch's
fsync starts. A crash loses what was not yet durable: the outputs still
queued, and of the batch being written a seeded prefix of its persists
survives (as a torn write-ahead log keeps whole records up to the tear).
Messages already handed to the network still arrive.

Messages get their fates from the fault proxy's own
:class:`~chaoslab.net.rules.FaultTable` (see :mod:`chaoslab.sim.network`):
the base network and every cut are rules on directed links. Clients
(:meth:`Simulation.request`, or a :class:`~chaoslab.sim.workload.Workload`)
reach every node over links of their own: the base network applies to them,
partitions do not (as with Jepsen's clients).
"""

from __future__ import annotations

import copy
import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaoslab.algorithms.base import Algorithm, Output
from chaoslab.algorithms.registry import DEFAULT_ALGORITHM
from chaoslab.algorithms.spec import AlgorithmSpec
from chaoslab.seeds import derive_rng
from chaoslab.sim.invariants import spec_of
from chaoslab.sim.network import CLIENT, Links, NetworkConfig

_TICK = 0
_DELIVER = 1
_ACTION = 2
_REQUEST = 3
_REPLY = 4
_SYNCED = 5

# A core that keeps asking to be ticked at the same instant has a bug; stop it
# instead of spinning forever.
_MAX_TICKS_AT_ONE_INSTANT = 1000


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One line of what happened: a core's event, or a fault the simulator applied."""

    time: float
    node: str  # node id, or "sim" for network-wide faults
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        fields = " ".join(f"{k}={_fmt(v)}" for k, v in self.data.items())
        return f"{self.time:10.6f} {self.node:<5} {self.kind}" + (f" {fields}" if fields else "")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, (list, tuple)):
        return ",".join(_fmt(v) for v in value)
    return str(value)


class InvariantViolation(AssertionError):
    """An invariant failed; the message names the seed and how to replay it."""

    def __init__(self, message: str, *, seed: int | None = None, time: float | None = None) -> None:
        super().__init__(message)
        self.seed = seed
        self.time = time


@dataclass(slots=True, eq=False)
class ClientCall:
    """One client request sent to one node; ``result`` is set when its reply arrives."""

    id: int  # the request id the node sees (unique in a simulation)
    node: str
    command: Any
    sent_at: float
    on_reply: Callable[[Simulation, ClientCall], None] | None = None
    control: bool = False  # an operator command: its reply does not cross the network
    result: Any = None
    replied_at: float | None = None

    @property
    def done(self) -> bool:
        return self.replied_at is not None


Invariant = Callable[["Simulation"], None]
BootHook = Callable[[str, Algorithm], None]
# (sim, node, output): called once an output is durable and its messages have left
OutputHook = Callable[["Simulation", str, Output], None]


class Simulation:
    """Run ``nodes`` cores of ``algorithm`` over a seeded, faulty, virtual network.

    ``algorithm`` is a registered name or an :class:`AlgorithmSpec` (e.g. a
    deliberately broken core, to prove an invariant has teeth). ``nodes`` is a
    count (ids ``n1..nN``) or a list of ids. ``config`` is the
    algorithm's config section (as in ``clusters/<name>.toml``).
    ``trace_messages`` adds a line per message sent or lost to :attr:`trace`.
    ``fsync`` is how many virtual seconds one fsync takes (0: none; see the module docstring).
    """

    def __init__(
        self,
        algorithm: str | AlgorithmSpec = DEFAULT_ALGORITHM,
        nodes: int | Sequence[str] = 5,
        seed: int = 0,
        config: Mapping[str, Any] | None = None,
        network: NetworkConfig | None = None,
        *,
        trace_messages: bool = False,
        request_window: float = 0.0,
        fsync: float = 0.0,
    ) -> None:
        if not (fsync >= 0 and math.isfinite(fsync)):
            raise ValueError(f"fsync must be a finite number of seconds >= 0, got {fsync!r}")
        self.spec: AlgorithmSpec = spec_of(algorithm)
        self.algorithm = self.spec.name
        self.node_ids: list[str] = [f"n{i}" for i in range(1, nodes + 1)] if isinstance(nodes, int) else list(nodes)
        if not self.node_ids or len(set(self.node_ids)) != len(self.node_ids) or CLIENT in self.node_ids:
            raise ValueError(f"nodes must be distinct, at least one and not {CLIENT!r}, got {self.node_ids!r}")
        self.seed = seed
        self.config: dict[str, Any] = dict(config or {})
        self.spec.check_config(self.config)
        if self.spec.resolve_config is not None:  # as the lab does at `up`, from the same seed
            self.config = dict(self.spec.resolve_config(self.config, list(self.node_ids), derive_rng(seed, "config")))
        self.network = network or NetworkConfig()
        self.base_network = self.network  # as built; what a heal of everything returns to
        # Every message's fate: the base network and the cuts, as rules of one FaultTable
        # seeded like the proxy's (same seed, same rule, same link: same fates).
        self.links = Links(self.node_ids, seed, self.network)
        self._fate, self._cut = self.links.table.fate, self.links.table.cut  # per message: no extra call
        self.trace_messages = trace_messages
        # Client requests reaching a node within this many seconds go to its core as one
        # burst (request_many), as the runtime hands over each KVBatch; 0: one at a time.
        self.request_window = request_window
        self._inbox: dict[str, list[tuple[int, ClientCall]]] = {}

        self.now = 0.0
        self.nodes: dict[str, Algorithm | None] = {}  # None while crashed
        # Each node's disk: the algorithm's durable model, fed every Output.persist.
        self.durable: dict[str, Any] = {n: self.spec.durable_model() for n in self.node_ids}
        self.restarts: dict[str, int] = {n: 0 for n in self.node_ids}
        self.trace: list[str] = []
        self.events: list[SimEvent] = []
        # Events not yet shown to the invariants: what the last step produced, plus
        # any fault applied by hand since. Cleared after the invariants run.
        self.step_events: list[SimEvent] = []
        # What nodes asked to persist in that step, (node, persist), for invariants over logs
        # (with ``fsync``, at the step: the core's log holds it from then on, durable or not).
        self.step_persists: list[tuple[str, Any]] = []
        # node -> peer -> virtual time the node last received a message from that peer
        self.heard: dict[str, dict[str, float]] = {n: {} for n in self.node_ids}
        self.fsync = fsync
        self._syncing: dict[str, list[Output]] = {}  # node -> the batch its running fsync writes
        self._unsynced: dict[str, list[Output]] = {}  # node -> outputs waiting for the next fsync
        self._disk_rng = derive_rng(seed, "disk")  # how much of a batch a crash mid-fsync keeps
        self.steps = 0
        self.messages_sent = 0
        self.messages_delivered = 0
        self.messages_lost = 0
        self.replay = f"python -m chaoslab.sim --algorithm {self.algorithm} --seed {seed} --nodes {len(self.node_ids)}"

        self._calls: dict[int, ClientCall] = {}  # request id -> call awaiting its reply
        self._call_ids = 0
        self._boot_hooks: list[BootHook] = []
        self._output_hooks: list[OutputHook] = []
        self._heap: list[tuple[Any, ...]] = []
        self._seq = 0
        self._incarnation: dict[str, int] = {n: 0 for n in self.node_ids}
        self._timer: dict[str, tuple[float, int]] = {}  # node -> (deadline, heap seq) of its live tick
        self._same_instant_ticks = 0
        self._invariants: list[Invariant] = []

        for node in self.node_ids:
            self._boot(node)

    # ------------------------------------------------------------------ running

    def step(self) -> bool:
        """Process the earliest pending item; ``False`` when nothing is left."""
        if not self._heap:
            return False
        item = heapq.heappop(self._heap)
        self.now = max(self.now, item[0])
        kind = item[2]
        if kind == _TICK:
            _, seq, _, node = item
            core = self.nodes.get(node)
            if core is None or self._timer.get(node, (0.0, -1))[1] != seq:
                return True  # stale timer: the node crashed or re-armed since
            del self._timer[node]
            self._apply(node, core.tick(self.now))
            if core.next_deadline() <= self.now:
                self._same_instant_ticks += 1
                if self._same_instant_ticks > _MAX_TICKS_AT_ONE_INSTANT:
                    raise RuntimeError(f"{node} keeps asking to be ticked at t={self.now} (seed={self.seed})")
            else:
                self._same_instant_ticks = 0
        elif kind == _DELIVER:
            _, _, _, dst, incarnation, src, message = item
            core = self.nodes.get(dst)
            if core is None or self._incarnation[dst] != incarnation:
                self.messages_lost += 1  # the receiver crashed while it was in flight
            elif self._cut(src, dst, self.now):
                self.messages_lost += 1  # a partition came up while it was in flight
                if self.trace_messages:
                    self.trace.append(f"{self.now:10.6f} {src:<5} -x {dst} {message!r} [partitioned]")
            else:
                self.messages_delivered += 1
                self.heard[dst][src] = self.now
                self._apply(dst, core.step(src, message, self.now))
        elif kind == _REQUEST:
            _, _, _, node, incarnation, call = item
            core = self.nodes.get(node)
            if core is not None and self._incarnation[node] == incarnation:
                if self.request_window <= 0:
                    self._apply(node, core.request(call.id, call.command, self.now))  # type: ignore[attr-defined]
                else:
                    inbox = self._inbox.setdefault(node, [])
                    if not inbox:
                        self.at(self.now + self.request_window, lambda sim, node=node: sim._take_burst(node))
                    inbox.append((incarnation, call))
        elif kind == _SYNCED:
            _, _, _, node, incarnation = item
            if self._incarnation[node] == incarnation:  # else it crashed mid-fsync: see crash()
                self._synced(node)
        elif kind == _REPLY:
            _, _, _, call, result = item
            if not call.done:  # a duplicated reply changes nothing
                call.result, call.replied_at = result, self.now
                if call.on_reply is not None:
                    call.on_reply(self, call)
        else:
            _, _, _, action = item
            action(self)
        self.steps += 1
        self._check_invariants()
        return True

    def _take_burst(self, node: str) -> None:
        """Hand ``node`` the requests that reached it in the window, as one input."""
        burst = self._inbox.pop(node, [])
        core = self.nodes.get(node)
        calls = [(call.id, call.command) for incarnation, call in burst if incarnation == self._incarnation[node]]
        if core is not None and calls:  # requests to a node that crashed meanwhile are lost
            self._apply(node, core.request_many(calls, self.now))  # type: ignore[attr-defined]

    def run_for(self, seconds: float) -> None:
        """Advance virtual time by ``seconds``, processing everything due until then."""
        end = self.now + seconds
        heap = self._heap
        while heap and heap[0][0] <= end:
            self.step()
        self.now = max(self.now, end)

    def run_until(self, predicate: Callable[[Simulation], bool], timeout: float) -> bool:
        """Step until ``predicate(sim)`` holds (checked after every step); ``False`` after ``timeout`` s."""
        end = self.now + timeout
        if predicate(self):
            return True
        heap = self._heap
        while heap and heap[0][0] <= end:
            self.step()
            if predicate(self):
                return True
        self.now = max(self.now, end)
        return False

    def at(self, time: float, action: Callable[[Simulation], None]) -> None:
        """Run ``action(sim)`` at virtual ``time`` (a fault schedule, a probe...)."""
        self._push(max(time, self.now), _ACTION, action)

    def add_invariant(self, invariant: Invariant) -> None:
        """Call ``invariant(sim)`` after every step; an ``AssertionError`` stops the run.

        An invariant with an ``attach(sim)`` method gets it called once, here
        (e.g. to watch every core as it boots, with :meth:`add_boot_hook`).
        """
        attach = getattr(invariant, "attach", None)
        if attach is not None:
            attach(self)
        self._invariants.append(invariant)

    def add_boot_hook(self, hook: BootHook) -> None:
        """Call ``hook(node, core)`` for every core built from now on, before its ``start``."""
        self._boot_hooks.append(hook)

    def add_output_hook(self, hook: OutputHook) -> None:
        """Call ``hook(sim, node, output)`` for every output once it is durable and its messages,
        replies and events are out (e.g. to crash a node right after it voted). A hook must not
        change the simulation there and then: it schedules with :meth:`at`."""
        self._output_hooks.append(hook)

    # ------------------------------------------------------------------ clients

    def request(
        self, node: str, command: Any, on_reply: Callable[[Simulation, ClientCall], None] | None = None
    ) -> ClientCall:
        """Send a client ``command`` to ``node``; the returned call fills in when the reply lands.

        The request and its reply cross a client link (seeded delay, drop and
        duplicate from the current network settings; partitions do not apply).
        A request that reaches a crashed node, or is lost, never gets a reply.
        """
        self.links.check(node)
        self._call_ids += 1
        call = ClientCall(self._call_ids, node, command, self.now, on_reply)
        self._calls[call.id] = call
        for arrival in self._client_link(CLIENT, node):
            self._push(arrival, _REQUEST, node, self._incarnation[node], call)
        if self.trace_messages:
            self.trace.append(f"{self.now:10.6f} client -> {node} #{call.id} {command!r}")
        return call

    def command(
        self, node: str, name: str, args: Mapping[str, Any] | None = None,
        on_reply: Callable[[Simulation, ClientCall], None] | None = None,
    ) -> ClientCall:
        """An operator's command to ``node``'s core (``Algorithm.command``), taken now. Like the
        lab's control path it does not cross the faulty network, and its reply is not lost;
        ``ValueError`` if the node is down or the core refuses the command."""
        self.links.check(node)
        core = self.nodes.get(node)
        if core is None:
            raise ValueError(f"{node} is down")
        self._call_ids += 1
        call = ClientCall(self._call_ids, node, (name, dict(args or {})), self.now, on_reply, control=True)
        self._calls[call.id] = call
        try:
            out = core.command(call.id, name, dict(args or {}), self.now)  # type: ignore[attr-defined]
        except BaseException:
            del self._calls[call.id]
            raise
        self._apply(node, out)
        self._check_invariants()
        return call

    def _client_link(self, src: str, dst: str) -> list[float]:
        """Arrival times for one client message: none if lost, two if duplicated."""
        now = self.now
        return [now + delay for delay in self._fate(src, dst, now).delays]

    # ------------------------------------------------------------------ faults

    def crash(self, node: str, why: str = "") -> None:
        """Kill ``node``: volatile state gone, messages in flight to it vanish; durable state stays.

        With ``fsync``, outputs not yet durable are lost with their messages; of a batch
        being written, a seeded prefix of its persists survives. ``why`` goes in the trace.
        """
        self.links.check(node)
        if self.nodes.get(node) is None:
            raise ValueError(f"{node} is already down")
        self.nodes[node] = None
        self._incarnation[node] += 1
        self._timer.pop(node, None)
        data: dict[str, Any] = {"after": why} if why else {}
        writing = self._syncing.pop(node, [])
        waiting = self._unsynced.pop(node, [])
        if writing or waiting:
            persists = [out.persist for out in writing if out.persist is not None]
            kept = self._disk_rng.randint(0, len(persists))
            for persist in persists[:kept]:
                self.durable[node].apply(persist)
            data.update(unsynced=len(writing) + len(waiting), kept=kept)
        self._record(node, "crash", data)

    def restart(self, node: str) -> None:
        """Start ``node`` again from its last persisted durable state, with a fresh derived rng."""
        self.links.check(node)
        if self.nodes.get(node) is not None:
            raise ValueError(f"{node} is up; crash it first")
        self.restarts[node] += 1
        self._record(node, "restart", {"restarts": self.restarts[node]})
        self._boot(node)

    def partition(self, groups: Sequence[Sequence[str]]) -> None:
        """Cut the links between groups (e.g. ``[["n1", "n2"], ["n3", "n4", "n5"]]``)."""
        effective = self.links.partition(groups, self.now)
        self._record("sim", "partition", {"groups": " | ".join(",".join(g) for g in effective)})

    def isolate(self, node: str) -> None:
        """Cut every link to and from ``node``."""
        self.links.isolate(node, self.now)
        self._record("sim", "isolate", {"node": node})

    def block(self, src: str, dst: str) -> None:
        """Cut the directed link ``src -> dst`` only."""
        self.links.block(src, dst, self.now)
        self._record("sim", "block", {"src": src, "dst": dst})

    def unblock(self, src: str, dst: str) -> None:
        self.links.unblock(src, dst)
        self._record("sim", "unblock", {"src": src, "dst": dst})

    def heal(self) -> None:
        """Remove every cut link (partitions, isolations, one-way blocks); the base network stays."""
        self.links.heal()
        self._record("sim", "heal", {})

    def restore(self) -> None:
        """Heal every cut and go back to the network the simulation was built with."""
        self.heal()
        if self.network != self.base_network:
            self.set_network(self.base_network)

    def set_network(self, network: NetworkConfig) -> None:
        """Change drop / delay / duplicate / reorder for messages sent from now on."""
        self.network = network
        self.links.set_network(network, self.now)
        data = {"drop": network.drop, "delay": list(network.delay), "duplicate": network.duplicate}
        if network.reorder:
            data["reorder"] = network.reorder
        self._record("sim", "network", data)

    def note(self, kind: str, data: Mapping[str, Any]) -> None:
        """Add a line of the simulator's own to the trace and events (e.g. a skipped fault)."""
        self._record("sim", kind, dict(data))

    # ------------------------------------------------------------------ looking

    def up(self) -> list[str]:
        """Ids of the nodes that are running."""
        return [n for n in self.node_ids if self.nodes.get(n) is not None]

    def down(self) -> list[str]:
        return [n for n in self.node_ids if self.nodes.get(n) is None]

    def status(self, node: str) -> dict[str, Any] | None:
        core = self.nodes.get(node)
        return None if core is None else core.status(self.now)

    def statuses(self) -> dict[str, dict[str, Any]]:
        """Status of every running node, by id (crashed nodes are absent)."""
        return {n: core.status(self.now) for n, core in self.nodes.items() if core is not None}

    def leaders(self) -> dict[str, int]:
        """Running nodes whose role leads (the spec says which roles do), with their terms."""
        return {n: s["term"] for n, s in self.statuses().items() if self.spec.leads(s.get("role", ""))}

    def ready(self) -> bool:
        """The algorithm's own readiness test (by default: some node's role leads)."""
        return self.spec.is_ready(list(self.statuses().values()))

    # ------------------------------------------------------------------ internals

    def _boot(self, node: str) -> None:
        rng = derive_rng(self.seed, "node", node, self.restarts[node])
        core = self.spec.factory(node, list(self.node_ids), self.config, rng, self.durable[node].restore())
        self.nodes[node] = core
        for hook in self._boot_hooks:
            hook(node, core)
        self._apply(node, core.start(self.now))

    def _apply(self, node: str, out: Output) -> None:
        # The runtime's order: persist, then send and reply, then record.
        if out.persist is not None:
            self.step_persists.append((node, out.persist))
        if self.fsync <= 0:
            if out.persist is not None:
                self.durable[node].apply(out.persist)
            self._act(node, [out])
        else:
            self._unsynced.setdefault(node, []).append(out)
            if node not in self._syncing:
                self._start_sync(node)
        core = self.nodes.get(node)
        if core is not None:
            self._arm(node, core.next_deadline())

    def _start_sync(self, node: str) -> None:
        """Group commit: one fsync for every output queued; a batch with nothing to persist
        (and no fsync ahead of it) goes out at once, as the runtime's flusher does."""
        batch = self._unsynced.pop(node, [])
        if any(out.persist is not None for out in batch):
            self._syncing[node] = batch
            self._push(self.now + self.fsync, _SYNCED, node, self._incarnation[node])
        elif batch:
            self._act(node, batch)

    def _synced(self, node: str) -> None:
        batch = self._syncing.pop(node)
        durable = self.durable[node]
        for out in batch:
            if out.persist is not None:
                durable.apply(out.persist)
        self._act(node, batch)
        if node in self._unsynced:
            self._start_sync(node)

    def _act(self, node: str, batch: list[Output]) -> None:
        """What follows the fsync of ``batch``: send and reply, then record events."""
        for out in batch:
            for dst, message in out.messages:
                self._send(node, dst, message)
            for request_id, result in out.replies:
                call = self._calls.pop(request_id, None)
                if call is None:
                    continue  # a second reply to a duplicated request
                for arrival in [self.now] if call.control else self._client_link(node, CLIENT):
                    self._push(arrival, _REPLY, call, result)
                if self.trace_messages:
                    self.trace.append(f"{self.now:10.6f} {node:<5} -> client #{request_id} {result!r}")
        for out in batch:
            for event in out.events:
                self._record(node, event.kind, event.data)
        for hook in self._output_hooks:
            for out in batch:
                hook(self, node, out)

    def _send(self, src: str, dst: str, message: Any) -> None:
        if dst not in self._incarnation or dst == src:
            raise ValueError(f"{src} sent {type(message).__name__} to {dst!r}, which is not a peer")
        self.messages_sent += 1
        now = self.now
        fate = self._fate(src, dst, now)
        if not fate.delays:
            self.messages_lost += 1
            if self.trace_messages:
                why = "partitioned" if fate.blackholed else "dropped"
                self.trace.append(f"{now:10.6f} {src:<5} -x {dst} {message!r} [{why}]")
            return
        for i, delay in enumerate(fate.delays):
            arrival = now + delay
            msg = message if i == 0 else copy.deepcopy(message)
            self._push(arrival, _DELIVER, dst, self._incarnation[dst], src, msg)
            if self.trace_messages:
                tag = " [duplicate]" if i else ""
                if fate.reordered:
                    tag += " [reordered]"
                self.trace.append(f"{now:10.6f} {src:<5} -> {dst} {message!r} @{arrival:.6f}{tag}")

    def _arm(self, node: str, deadline: float) -> None:
        if math.isinf(deadline):
            self._timer.pop(node, None)
            return
        deadline = max(deadline, self.now)
        current = self._timer.get(node)
        if current is not None and current[0] == deadline:
            return
        seq = self._push(deadline, _TICK, node)
        self._timer[node] = (deadline, seq)

    def _push(self, time: float, kind: int, *payload: Any) -> int:
        self._seq += 1
        heapq.heappush(self._heap, (time, self._seq, kind, *payload))
        return self._seq

    def _record(self, node: str, kind: str, data: dict[str, Any]) -> None:
        event = SimEvent(self.now, node, kind, dict(data))
        self.events.append(event)
        self.step_events.append(event)
        self.trace.append(event.line())

    def _check_invariants(self) -> None:
        try:
            self._run_invariants()
        finally:
            self.step_events = []
            self.step_persists = []

    def _run_invariants(self) -> None:
        for invariant in self._invariants:
            try:
                invariant(self)
            except InvariantViolation:
                raise
            except AssertionError as e:
                raise InvariantViolation(
                    f"[seed={self.seed}, t={self.now:.6f}s] {e}\nreplay: {self.replay}",
                    seed=self.seed,
                    time=self.now,
                ) from e

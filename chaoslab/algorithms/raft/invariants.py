"""Raft's safety properties for the simulator, and its "has it settled?" predicates.

Invariants are callables ``invariant(sim)`` run after every step; they read
``sim.step_events`` and ``sim.step_persists`` (what happened since they last
ran) and keep their own history, so a property over the whole run (e.g. one
leader per term *ever*, across crashes) costs O(events), not O(steps x nodes).

Raft's log properties (Raft paper Figure 3) are checked the same way:
Log Matching on every entry any node persists, State Machine Safety on every
entry any node applies (cores report applies in ``applied_trace``), Leader
Completeness whenever a leader is elected. Properties of a whole run with
clients (acknowledged writes survive, replicas agree) are checked once at
the end by :func:`check_final`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.raft.config import parse_config
from chaoslab.algorithms.raft.messages import AppendEntriesReply, EntryKind

if TYPE_CHECKING:  # type hints only: the simulator drives these, they never import it
    from chaoslab.algorithms.base import Output
    from chaoslab.algorithms.spec import CrashPoint, Invariant
    from chaoslab.sim.simulation import Simulation
    from chaoslab.sim.workload import Workload


class ElectionSafety:
    """Raft §5.2, Election Safety: at most one leader can be elected in a given term."""

    def __init__(self) -> None:
        self.leaders: dict[int, str] = {}  # term -> the node that became leader in it

    def __call__(self, sim: Simulation) -> None:
        for ev in sim.step_events:
            if ev.kind == "role" and ev.data.get("role") == "leader":
                term = ev.data["term"]
                first = self.leaders.setdefault(term, ev.node)
                assert first == ev.node, f"election safety: {first} and {ev.node} were both leader in term {term}"


class OneVotePerTerm:
    """Raft §5.2: each server votes for at most one candidate in a given term, restarts included."""

    def __init__(self) -> None:
        self.votes: dict[tuple[str, int], str] = {}  # (voter, term) -> candidate

    def __call__(self, sim: Simulation) -> None:
        for ev in sim.step_events:
            if ev.kind == "vote":
                self._cast(ev.node, ev.data["term"], ev.data["candidate"])
            elif ev.kind == "role" and ev.data.get("role") == "candidate":
                self._cast(ev.node, ev.data["term"], ev.node)  # a candidate votes for itself

    def _cast(self, voter: str, term: int, candidate: str) -> None:
        first = self.votes.setdefault((voter, term), candidate)
        assert first == candidate, f"double vote: {voter} voted for {first} and then {candidate} in term {term}"


class TermMonotonic:
    """Raft Figure 2: a server's current term only grows, and a restart resumes from it."""

    def __init__(self) -> None:
        self.terms: dict[str, int] = {}

    def __call__(self, sim: Simulation) -> None:
        for ev in sim.step_events:
            if ev.kind == "term":
                term = ev.data["term"]
                last = self.terms.get(ev.node, 0)
                assert term > last, f"term went from {last} to {term} on {ev.node}"
                self.terms[ev.node] = term
            elif ev.kind == "restart":
                status = sim.status(ev.node)
                if status is not None:
                    last = self.terms.get(ev.node, 0)
                    assert status["term"] >= last, f"{ev.node} restarted at term {status['term']}, below {last}"


class LeaderHearsMajority:
    """Thesis §6.2 (check-quorum) as a property: no node acts as leader for more than
    ``rounds`` maximum election timeouts without hearing from a majority (itself included).

    "Hearing" is any message delivered to it from a peer (``sim.heard``), a looser test
    than the core's own (answers to its AppendEntries), so a correct leader never trips it.
    A leader that keeps leading a minority holds writes and clients hostage: a liveness
    bug no safety property sees. Off when the config turns ``check_quorum`` off.
    """

    def __init__(self, rounds: float = 3.0) -> None:
        self.rounds = rounds
        self.bound = math.inf
        self.quorum = 1
        self.since: dict[str, float] = {}  # node -> when it became leader
        self._next_check = 0.0

    def attach(self, sim: Simulation) -> None:
        # The cores' own settings (a variant's config section may hold keys of its own).
        config = next(core.config for core in sim.nodes.values() if core is not None)
        if config.check_quorum:
            self.bound = self.rounds * config.election_timeout_max
        self.quorum = len(sim.node_ids) // 2 + 1

    def __call__(self, sim: Simulation) -> None:
        for ev in sim.step_events:
            if ev.kind == "role":
                if ev.data.get("role") == "leader":
                    self.since[ev.node] = ev.time
                else:
                    self.since.pop(ev.node, None)
            elif ev.kind == "crash":
                self.since.pop(ev.node, None)
        if not self.since or sim.now < self._next_check or math.isinf(self.bound):
            return
        self._next_check = sim.now + self.bound / 10  # a tenth of the bound late at worst
        need = self.quorum - 1
        for node, since in self.since.items():
            heard = sorted(sim.heard[node].values(), reverse=True)
            majority_at = (heard[need - 1] if len(heard) >= need else -math.inf) if need else sim.now
            alone = sim.now - max(majority_at, since)
            assert alone <= self.bound, (
                f"check quorum: {node} has led for {sim.now - since:.3f}s, the last {alone:.3f}s without hearing "
                f"from a majority (bound {self.bound:.3f}s = {self.rounds:g} election timeouts)"
            )


def raft_converged(sim: Simulation) -> bool:
    """Some leader has a majority of the cluster at its term, following it.

    (Nodes cut off in a minority may sit at higher terms; they cannot stop the
    majority from making progress, so they do not count against it.)
    """
    statuses = sim.statuses()
    backing: dict[tuple[int, str], int] = {}
    for s in statuses.values():
        if s["leader"]:
            key = (s["term"], s["leader"])
            backing[key] = backing.get(key, 0) + 1
    majority = len(sim.node_ids) // 2 + 1
    for (term, leader), count in backing.items():
        status = statuses.get(leader)
        if count >= majority and status is not None and status["role"] == "leader" and status["term"] == term:
            return True
    return False


class LogMatching:
    """Raft §5.3, Log Matching: two logs holding an entry with the same index and term are
    identical up to it. Checked on every entry a node persists: same (index, term) means the
    same entry, preceded by the same term (and so, inductively, by the same log)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[int, int], tuple[int, bytes]] = {}  # (index, term) -> (kind, data)
        self.prev_terms: dict[tuple[int, int], int] = {}  # (index, term) -> term at index - 1

    def __call__(self, sim: Simulation) -> None:
        for node, persist in sim.step_persists:
            entries = getattr(persist, "entries", None)
            if not entries:
                continue
            core = sim.nodes.get(node)
            log = getattr(core, "log", None)
            prev_term = log.term_at(entries[0].index - 1) if log is not None else None
            for e in entries:
                key = (e.index, e.term)
                body = (int(e.kind), e.data)
                first = self.entries.setdefault(key, body)
                assert first == body, f"log matching: {node} holds a different entry at index {e.index}, term {e.term}"
                if prev_term is not None:
                    seen = self.prev_terms.setdefault(key, prev_term)
                    assert seen == prev_term, (
                        f"log matching: {node}'s entry {e.index} (term {e.term}) follows term {prev_term}, "
                        f"another log's follows term {seen}"
                    )
                prev_term = e.term


class StateMachineSafety:
    """Raft §5.4.3, State Machine Safety: no two servers apply different entries at one index.
    Also: each server applies in order, each index once per boot (restarts replay from their
    snapshot). Cores that have an ``applied_trace`` report what they apply."""

    def __init__(self) -> None:
        self.applied: dict[int, tuple[int, int, bytes]] = {}  # index -> (term, kind, data)
        # index -> a term no earlier than the one it was committed in (the lowest term of
        # any server when it applied it; a server applies only what its term's leader committed)
        self.commit_term: dict[int, int] = {}
        self.last: dict[str, int] = {}  # node -> last index applied (this boot)

    def attach(self, sim: Simulation) -> None:
        sim.add_boot_hook(self._watch)
        for node, core in sim.nodes.items():
            if core is not None:
                self._watch(node, core)

    def _watch(self, node: str, core: Any) -> None:
        if hasattr(core, "applied_trace"):
            core.applied_trace = []
            self.last[node] = core.applied_index

    def __call__(self, sim: Simulation) -> None:
        for node, core in sim.nodes.items():
            trace = getattr(core, "applied_trace", None)
            if not trace:
                continue
            for index, term, kind, data in trace:
                last = self.last.get(node, 0)
                if kind is None:  # a snapshot installed: the state jumps to index
                    assert index > last, f"{node} installed a snapshot at {index}, having applied {last}"
                    known = self.applied.get(index)
                    assert known is None or known[0] == term, (
                        f"state machine safety: {node} installed a snapshot at {index} of term {term}, "
                        f"but term {known[0]} was applied there"
                    )
                else:
                    assert index == last + 1, f"{node} applied index {index} after {last}: out of order or twice"
                    body = (term, int(kind), data)
                    first = self.applied.setdefault(index, body)
                    assert first == body, (
                        f"state machine safety: {node} applied {_show(body)} at index {index}, "
                        f"another server applied {_show(first)}"
                    )
                    self.commit_term[index] = min(self.commit_term.get(index, core.term), core.term)
                self.last[node] = index
            trace.clear()


class LeaderCompleteness:
    """Raft §5.4, Leader Completeness: an entry committed in term T is in the log of every
    leader of a term after T (or in its snapshot). Checked whenever a leader is elected,
    against every entry applied anywhere so far (applied implies committed)."""

    def __init__(self, machine: StateMachineSafety) -> None:
        self.machine = machine

    def __call__(self, sim: Simulation) -> None:
        for ev in sim.step_events:
            if ev.kind == "role" and ev.data.get("role") == "leader":
                core = sim.nodes.get(ev.node)
                if core is not None:
                    self.check(ev.node, core, ev.data["term"])

    def check(self, node: str, core: Any, term: int) -> None:
        log = core.log
        applied, commit_term = self.machine.applied, self.machine.commit_term
        for index in range(log.snapshot_index, max(applied, default=0) + 1):
            known = applied.get(index)
            if known is None or commit_term[index] >= term:
                continue
            held = log.term_at(index)
            assert held == known[0], (
                f"leader completeness: {node}, leader of term {term}, has "
                f"{'no entry' if held is None else f'term {held}'} at index {index}, "
                f"committed with term {known[0]}"
            )


def _show(body: tuple[int, int, bytes]) -> str:
    term, kind, data = body
    return f"(term {term}, {EntryKind(kind).name.lower()}, {data[:40]!r})"


def raft_invariants() -> list[Invariant]:
    """Fresh instances of the safety properties the simulator checks for Raft."""
    machine = StateMachineSafety()
    return [
        ElectionSafety(),
        OneVotePerTerm(),
        TermMonotonic(),
        LogMatching(),
        machine,
        LeaderCompleteness(machine),
        LeaderHearsMajority(),
    ]


# Elections after the last fault: each restarted node waits out a timeout, then pre-vote and vote
# rounds; a split vote costs another timeout. A few of them, never more, or the cluster is stuck.
LEADER_BOUND_TIMEOUTS = 6


def raft_leader_bound(config: Mapping[str, Any]) -> float:
    """Virtual seconds after the last fault heals within which a majority-backed leader must be up."""
    return LEADER_BOUND_TIMEOUTS * parse_config(config).election_timeout_max


def raft_crash_points() -> dict[str, CrashPoint]:
    """Moments to crash a node at (the simulator's CrashPoints): right after it granted a vote,
    acknowledged entries it had not acknowledged before (in this boot), or took or installed
    a snapshot. Each is checked once that output is durable and sent."""
    acked: dict[tuple[str, int], int] = {}  # (node, boot) -> highest index it acknowledged

    def voted(sim: Simulation, node: str, out: Output) -> bool:
        return any(e.kind == "vote" for e in out.events)

    def appended(sim: Simulation, node: str, out: Output) -> bool:
        top = max((m.match_index for _, m in out.messages if isinstance(m, AppendEntriesReply) and m.success), default=0)
        key = (node, sim.restarts[node])
        if top <= acked.get(key, 0):
            return False
        acked[key] = top
        return True

    def snapshotted(sim: Simulation, node: str, out: Output) -> bool:
        persist = out.persist
        return any(e.kind == "snapshot" for e in out.events) or (persist is not None and persist.snapshot is not None)

    return {"vote": voted, "append": appended, "snapshot": snapshotted}


def state_machine_of(invariants: list[Invariant]) -> StateMachineSafety | None:
    """The StateMachineSafety among ``invariants`` (it holds every applied entry), if any."""
    return next((i for i in invariants if isinstance(i, StateMachineSafety)), None)


# --------------------------------------------------------------------------- end of a run


def raft_caught_up(sim: Simulation) -> bool:
    """Every node is up, follows one leader, and has applied everything that leader holds."""
    if sim.down():
        return False
    statuses = sim.statuses()
    leaders = [s for s in statuses.values() if s["role"] == "leader"]
    if len(leaders) != 1:
        return False
    lead = leaders[0]
    target = lead["raft"]["last_index"]
    if lead["raft"]["commit_index"] != target:
        return False
    return all(s["raft"]["applied_index"] == target and s["term"] == lead["term"] for s in statuses.values())


# (data of every command entry applied, by index; a replica's final state machine; its applied
# index; the workload) -> None, AssertionError if the state lost a write a client saw succeed
StateCheck = Callable[[Mapping[int, bytes], Any, int, Any], None]


def check_final(
    sim: Simulation, machine: StateMachineSafety, workload: Workload | None = None, check_state: StateCheck | None = None
) -> None:
    """After heal and settle (see :func:`raft_caught_up`): replicas agree (same applied index,
    equal state machines); with a workload, ``check_state`` (the state machine's own check, e.g.
    :func:`chaoslab.algorithms.kv.checks.check_acknowledged_writes`) gets every command entry
    applied. ``AssertionError`` otherwise."""
    cores = [core for core in sim.nodes.values() if core is not None]
    first = cores[0]
    for core in cores[1:]:
        assert core.applied_index == first.applied_index, (
            f"replicas disagree: {core.node_id} applied {core.applied_index}, {first.node_id} {first.applied_index}"
        )
        assert core.state_machine == first.state_machine, (
            f"replicas disagree: {core.node_id}'s state machine differs from {first.node_id}'s"
        )
    if workload is None or check_state is None:
        return
    entries = {index: data for index, (_, kind, data) in machine.applied.items() if kind == EntryKind.NORMAL}
    check_state(entries, first.state_machine, first.applied_index, workload)


def final_check(
    sim: Simulation, invariants: list[Invariant], workload: Workload | None, check_state: StateCheck | None = None
) -> None:
    """:func:`check_final` with the StateMachineSafety among a simulation's ``invariants``."""
    machine = state_machine_of(invariants)
    if machine is not None:
        check_final(sim, machine, workload, check_state)

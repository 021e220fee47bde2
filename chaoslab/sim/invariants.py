"""Properties checked while a simulation runs, and "has it settled?" predicates.

Invariants are callables ``invariant(sim)`` run after every step; they read
``sim.step_events`` (what happened since they last ran) and keep their own
history, so a property over the whole run (e.g. one leader per term *ever*,
across crashes) costs O(events), not O(steps x nodes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaoslab.sim.simulation import Invariant, Simulation


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


def invariants_for(algorithm: str) -> list[Invariant]:
    """Fresh instances of the safety properties the simulator checks for ``algorithm``."""
    if algorithm == "raft":
        return [ElectionSafety(), OneVotePerTerm(), TermMonotonic()]
    return []


def converged_for(algorithm: str) -> Callable[[Simulation], bool]:
    """The predicate "the cluster has settled" for ``algorithm`` (default: the spec's ``ready``)."""
    if algorithm == "raft":
        return raft_converged
    return lambda sim: sim.ready()

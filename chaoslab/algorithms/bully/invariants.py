"""Bully's properties for the simulator, and its "has it settled?" predicate.

Invariants run after every step (see :mod:`chaoslab.sim.invariants`):

- :class:`EpochsNeverReused`: a node's durable epoch never goes back, and no node announces
  the same epoch twice, restarts included (the epoch is persisted before the announcement).
- :class:`OneCoordinatorPerEpoch`: with ``quorum = true``, no two nodes become coordinator
  in the same epoch, even under partitions. (Plain Bully makes no such promise: each side of
  a partition elects its own, possibly at the same epoch.)
- :class:`SettledCoordinator`: once the network has been connected, lossless and free of
  crashes for long enough to settle, there is exactly one coordinator, it is the highest live
  id, and every live node follows it; it stays so until the next fault. So a connected,
  settled network never has two coordinators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.bully.config import parse_config
from chaoslab.algorithms.bully.core import COORDINATOR

if TYPE_CHECKING:
    from chaoslab.algorithms.spec import Invariant
    from chaoslab.sim.simulation import Simulation

#: sim events that disturb the network or the membership (the settling clock restarts)
DISTURBANCES = frozenset({"crash", "restart", "partition", "isolate", "block", "unblock", "heal", "network"})


class EpochsNeverReused:
    """A node's durable epoch only grows; an epoch a node announced is never announced again."""

    def __init__(self) -> None:
        self.epochs: dict[str, int] = {}
        self.announced: set[tuple[str, int]] = set()

    def __call__(self, sim: Simulation) -> None:
        for node, persist in sim.step_persists:
            epoch = persist["epoch"]
            last = self.epochs.get(node, 0)
            assert epoch >= last, f"{node}'s epoch went back from {last} to {epoch}"
            self.epochs[node] = epoch
            if persist["accepted"] == node:
                assert (node, epoch) not in self.announced, f"{node} announced epoch {epoch} twice"
                self.announced.add((node, epoch))


class OneCoordinatorPerEpoch:
    """Quorum variant: at most one node becomes coordinator in a given epoch, ever."""

    def __init__(self) -> None:
        self.coordinators: dict[int, str] = {}

    def __call__(self, sim: Simulation) -> None:
        if not sim.config.get("quorum", False):
            return
        for ev in sim.step_events:
            if ev.kind == "role" and ev.data.get("role") == COORDINATOR:
                epoch = ev.data["term"]
                first = self.coordinators.setdefault(epoch, ev.node)
                assert first == ev.node, f"two coordinators in epoch {epoch} with quorum: {first} and {ev.node}"


def settle_time(config: dict[str, Any]) -> float:
    """Seconds a connected, lossless, crash-free network gives Bully to settle: a silent
    coordinator noticed, an election with every answer and coordinator wait, twice over."""
    cfg = parse_config(config)
    return 2 * (cfg.coordinator_timeout + cfg.answer_timeout + cfg.coordinator_wait) + cfg.heartbeat


def agreement(sim: Simulation) -> str | None:
    """Why the live nodes do not agree on the highest live id as their one coordinator, or None."""
    live = {n: core for n, core in sim.nodes.items() if core is not None}
    if not live:
        return None
    top = max(live, key=sim.node_ids.index)
    leading = sorted(n for n, core in live.items() if core.role == COORDINATOR)
    if leading != [top]:
        return f"coordinators {leading or 'none'}, but the highest live id is {top}"
    astray = {n: core.coordinator or "none" for n, core in live.items() if core.coordinator != top}
    if astray:
        return f"{top} coordinates but not everyone follows it: {astray}"
    return None


class SettledCoordinator:
    """In a connected network settled for :func:`settle_time`: exactly one coordinator, the
    highest live id, followed by every live node (and so never two coordinators)."""

    def __init__(self) -> None:
        self.quiet_since = 0.0
        self.grace: float | None = None

    def __call__(self, sim: Simulation) -> None:
        if self.grace is None:
            self.grace = settle_time(sim.config)
        for ev in sim.step_events:
            if ev.kind in DISTURBANCES:
                self.quiet_since = ev.time
        if sim.now - self.quiet_since < self.grace or sim.links.blocked or sim.network.drop > 0:
            return
        problem = agreement(sim)
        assert problem is None, f"settled for {sim.now - self.quiet_since:.2f}s in a connected network: {problem}"


def bully_converged(sim: Simulation) -> bool:
    """Exactly one coordinator, the highest live id, and every live node follows it."""
    return agreement(sim) is None


def bully_invariants() -> list[Invariant]:
    """Fresh instances of the properties the simulator checks for Bully."""
    return [EpochsNeverReused(), OneCoordinatorPerEpoch(), SettledCoordinator()]

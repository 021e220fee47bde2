"""A random fault schedule drawn from the seed (Jepsen's nemesis, in virtual time).

The nemesis wakes at random intervals and picks one fault that makes sense
right now (a restart needs a crashed node...). When its window ends it heals
every link, restores the base network and restarts every crashed node, so a
test can then ask "does the cluster settle?".
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from chaoslab.net.nemesis import choose, random_groups
from chaoslab.seeds import derive_rng
from chaoslab.sim.network import NetworkConfig
from chaoslab.sim.simulation import Simulation

FAULTS: tuple[str, ...] = ("partition", "isolate", "block", "crash", "restart", "bounce", "heal", "lossy")


class Nemesis:
    """Schedules random faults on ``sim`` between two virtual times.

    ``faults`` picks from :data:`FAULTS`; ``interval`` is the (min, max)
    seconds between actions; ``max_down`` caps how many nodes may be crashed
    at once (default: all of them). The rng is derived from the simulation's
    seed unless given.
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        faults: Sequence[str] = FAULTS,
        interval: tuple[float, float] = (0.2, 1.0),
        max_down: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown nemesis fault {unknown[0]!r} (known: {', '.join(FAULTS)})")
        if not (0 < interval[0] <= interval[1]):
            raise ValueError(f"nemesis interval must satisfy 0 < min <= max, got {interval!r}")
        self.sim = sim
        self.faults = tuple(faults)
        self.interval = interval
        self.max_down = len(sim.node_ids) if max_down is None else max_down
        self.rng = rng or derive_rng(sim.seed, "nemesis")
        self.base_network = sim.network
        self.end = 0.0
        self.actions = 0

    def schedule(self, start: float, end: float) -> None:
        """Act at random times in [start, end); at ``end`` heal everything and restart the crashed."""
        self.end = end
        self._next(start)
        self.sim.at(end, self._quiesce)

    def _next(self, after: float) -> None:
        low, high = self.interval
        when = after + low + self.rng.random() * (high - low)
        if when < self.end:
            self.sim.at(when, self._act)

    def _act(self, sim: Simulation) -> None:
        fault = choose(self.rng, self.faults, sim.node_ids, sim.down(), self.max_down)
        if fault is not None:
            getattr(self, f"_{fault}")(sim)
            self.actions += 1
        self._next(sim.now)

    def _partition(self, sim: Simulation) -> None:
        groups = random_groups(self.rng, sim.node_ids)
        if sim.links.blocked:
            sim.heal()
        sim.partition(groups)

    def _isolate(self, sim: Simulation) -> None:
        sim.isolate(self.rng.choice(sim.node_ids))

    def _block(self, sim: Simulation) -> None:
        src, dst = self.rng.sample(sim.node_ids, 2)
        sim.block(src, dst)

    def _crash(self, sim: Simulation) -> None:
        sim.crash(self.rng.choice(sim.up()))

    def _bounce(self, sim: Simulation) -> None:
        """Crash a node and restart it a moment later (a reboot): catches state that was not persisted."""
        node = self.rng.choice(sim.up())
        sim.crash(node)
        sim.at(sim.now + 0.1 * self.rng.random(), lambda s: s.restart(node) if s.nodes.get(node) is None else None)

    def _restart(self, sim: Simulation) -> None:
        sim.restart(self.rng.choice(sim.down()))

    def _heal(self, sim: Simulation) -> None:
        sim.heal()
        if sim.network != self.base_network:
            sim.set_network(self.base_network)

    def _lossy(self, sim: Simulation) -> None:
        base = self.base_network
        drop = round(max(base.drop, 0.1 + 0.4 * self.rng.random()), 3)
        sim.set_network(NetworkConfig(drop=drop, delay=base.delay, duplicate=base.duplicate, reorder=base.reorder))

    def _quiesce(self, sim: Simulation) -> None:
        self._heal(sim)
        for node in sim.down():
            sim.restart(node)

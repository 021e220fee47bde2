"""A random fault schedule drawn from the seed (Jepsen's nemesis, in virtual time).

The nemesis wakes at random intervals and picks one fault that makes sense
right now (a restart needs a crashed node...). When its window ends it heals
every link, restores the base network and restarts every crashed node, so a
test can then ask "does the cluster settle?".
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from chaoslab.seeds import derive_rng
from chaoslab.sim.network import NetworkConfig
from chaoslab.sim.simulation import Simulation

FAULTS: tuple[str, ...] = ("partition", "isolate", "block", "crash", "restart", "bounce", "heal", "lossy")
_WEIGHTS = {"partition": 3, "isolate": 2, "block": 1, "crash": 2, "restart": 2, "bounce": 2, "heal": 2, "lossy": 1}


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
        unknown = [f for f in faults if f not in _WEIGHTS]
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
        choices = [f for f in self.faults if self._possible(f)]
        if choices:
            fault = self.rng.choices(choices, weights=[_WEIGHTS[f] for f in choices])[0]
            getattr(self, f"_{fault}")(sim)
            self.actions += 1
        self._next(sim.now)

    def _possible(self, fault: str) -> bool:
        sim = self.sim
        n = len(sim.node_ids)
        if fault in ("partition", "isolate", "block"):
            return n >= 2
        if fault in ("crash", "bounce"):
            return bool(sim.up()) and len(sim.down()) < self.max_down
        if fault == "restart":
            return bool(sim.down())
        return True

    def _partition(self, sim: Simulation) -> None:
        nodes = list(sim.node_ids)
        self.rng.shuffle(nodes)
        parts = 2 if len(nodes) < 4 else self.rng.choice((2, 2, 3))
        cuts = sorted(self.rng.sample(range(1, len(nodes)), parts - 1))
        groups = [nodes[a:b] for a, b in zip([0, *cuts], [*cuts, len(nodes)], strict=True)]
        if sim.links.blocked:
            sim.heal()
        sim.partition([sorted(g, key=sim.node_ids.index) for g in groups])

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

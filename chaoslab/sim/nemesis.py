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


class CrashPoints:
    """Crashes a node right after a chosen kind of step, then restarts it (``sim.crash_points``).

    Random crashes seldom land between a node deciding something and its next step; this
    nemesis waits for such moments, as the algorithm names them in its spec (Raft: ``vote``,
    ``append``, ``snapshot``). When a node's output of one of those kinds is durable and sent,
    the node is crashed there and then with probability ``chance``, and restarted ``down``
    (min, max) seconds later; at most ``max_down`` nodes are down at once (default: a
    minority, at least one). ``counts`` says how often each point struck.
    """

    def __init__(
        self,
        sim: Simulation,
        points: Sequence[str] | None = None,
        *,
        chance: float = 0.25,
        down: tuple[float, float] = (0.01, 0.2),
        max_down: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        known = dict(sim.spec.sim.crash_points())
        names = list(known) if points is None else list(points)
        if not known:
            raise ValueError(f"{sim.spec.name} names no crash points")
        unknown = [p for p in names if p not in known]
        if unknown:
            raise ValueError(f"unknown crash point {unknown[0]!r} for {sim.spec.name} (known: {', '.join(known)})")
        if not (0 < chance <= 1) or not (0 <= down[0] <= down[1]):
            raise ValueError(f"crash points need 0 < chance <= 1 and 0 <= min <= max down, got {chance!r}, {down!r}")
        self.sim = sim
        self.points = {name: known[name] for name in names}
        self.chance = chance
        self.down = down
        self.max_down = max(1, (len(sim.node_ids) - 1) // 2) if max_down is None else max_down
        self.rng = rng or derive_rng(sim.seed, "crash-points")
        self.counts = dict.fromkeys(names, 0)
        self.start = self.end = 0.0
        self._taken: set[str] = set()  # nodes it crashed (or is about to) and has not restarted
        sim.add_output_hook(self._after)

    def schedule(self, start: float, end: float) -> None:
        """Watch for crash points in [start, end); at ``end`` restart whatever it still holds down."""
        self.start, self.end = start, end
        self.sim.at(end, self._quiesce)

    def _after(self, sim: Simulation, node: str, out: object) -> None:
        if not self.start <= sim.now < self.end:
            return
        hits = [name for name, point in self.points.items() if point(sim, node, out)]  # points may keep state
        if not hits or node in self._taken or len(set(sim.down()) | self._taken) >= self.max_down:
            return
        if self.rng.random() < self.chance:
            self._taken.add(node)
            sim.at(sim.now, lambda s: self._crash(s, node, hits[0]))

    def _crash(self, sim: Simulation, node: str, point: str) -> None:
        if sim.nodes.get(node) is None:  # someone else took it down meanwhile
            self._taken.discard(node)
            return
        sim.crash(node, why=point)
        self.counts[point] += 1
        low, high = self.down
        sim.at(sim.now + low + self.rng.random() * (high - low), lambda s: self._restart(s, node))

    def _restart(self, sim: Simulation, node: str) -> None:
        if node in self._taken:
            self._taken.discard(node)
            if sim.nodes.get(node) is None:
                sim.restart(node)

    def _quiesce(self, sim: Simulation) -> None:
        for node in sorted(self._taken):
            self._restart(sim, node)

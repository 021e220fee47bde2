"""What a nemesis picks next, for the simulator and a live run alike.

Pure: the rng, the node ids and which nodes are down are handed in, so the
simulator's nemesis (:mod:`chaoslab.sim.nemesis`, virtual time) and a scripted
run's (:mod:`chaoslab.chaos.nemesis`, a real cluster) make their choices the
same way and replay from a seed. Each driver then acts on the choice its own way.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence

__all__ = ["WEIGHTS", "choose", "possible", "random_groups"]

#: How often each fault comes up, relative to the others (faults the driver offers, not all of them).
WEIGHTS: dict[str, int] = {
    "partition": 3, "isolate": 2, "block": 1, "crash": 2, "restart": 2, "bounce": 2, "heal": 2, "lossy": 1,
    "pause": 2, "drop": 1, "delay": 1, "duplicate": 1, "reorder": 1,
}
# Faults that take a node down (crashed or frozen) and so count against ``max_down``.
_TAKES_DOWN = ("crash", "bounce", "pause")


def possible(fault: str, nodes: Sequence[str], down: Collection[str], max_down: int) -> bool:
    """Does ``fault`` make sense now? Cuts need two nodes, taking a node down needs one up and
    fewer than ``max_down`` down already, a restart needs one down."""
    if fault in ("partition", "isolate", "block"):
        return len(nodes) >= 2
    if fault in _TAKES_DOWN:
        return len(down) < len(nodes) and len(down) < max_down
    if fault == "restart":
        return bool(down)
    return True


def choose(rng: random.Random, faults: Sequence[str], nodes: Sequence[str], down: Collection[str],
           max_down: int) -> str | None:
    """One of ``faults`` that is :func:`possible` now, drawn by :data:`WEIGHTS`; None if none is."""
    choices = [f for f in faults if possible(f, nodes, down, max_down)]
    if not choices:
        return None
    return rng.choices(choices, weights=[WEIGHTS[f] for f in choices])[0]


def random_groups(rng: random.Random, nodes: Sequence[str]) -> list[list[str]]:
    """Split ``nodes`` into two (three, sometimes, from four nodes up) random groups, each in node order."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    parts = 2 if len(shuffled) < 4 else rng.choice((2, 2, 3))
    cuts = sorted(rng.sample(range(1, len(shuffled)), parts - 1))
    groups = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)], strict=True)]
    return [sorted(g, key=list(nodes).index) for g in groups]

"""How a traitor lies, whenever it sends: as the commander, or relaying a value.

Each traitor has one strategy (``strategies`` in the resolved config) and draws from the
core's injected, seeded rng, so a seed replays the same lies:

- ``equivocate``: tells a random half of its receivers one value and the rest the other;
- ``flip``: sends the opposite of what it should;
- ``silent``: sends nothing at all;
- ``random``: a random value in each message;
- ``collude``: the traitors tell one lie together, by a plan each derives from the shared
  config. With a traitor commander, the loyal lieutenants are split in two halves (in node
  order): the first half is told ATTACK and the second RETREAT, by the commander and by every
  traitor relaying. With a loyal commander, every traitor relays the opposite of its order.

In SM(m) a traitor signs only with its own key: a changed value on a relayed chain keeps the
earlier, now wrong, signatures, so loyal nodes discard it. Colluders know that and send only
what they hold validly signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chaoslab.algorithms.byzantine.config import ATTACK, RETREAT, ByzantineConfig

if TYPE_CHECKING:
    import random

__all__ = ["Traitor", "opposite"]


def opposite(value: str) -> str:
    return RETREAT if value == ATTACK else ATTACK


@dataclass(eq=False)
class Traitor:
    node_id: str
    strategy: str
    rng: random.Random
    loyal: list[str]  # loyal nodes, in node order (the colluders' shared plan)
    traitors: tuple[str, ...]

    @classmethod
    def for_node(cls, node_id: str, nodes: list[str], config: ByzantineConfig, rng: random.Random) -> Traitor | None:
        if node_id not in config.traitor_ids:
            return None
        loyal = [n for n in nodes if n not in config.traitor_ids]
        return cls(node_id, config.strategies.get(node_id, "equivocate"), rng, loyal, config.traitor_ids)

    @property
    def forges(self) -> bool:
        """Does it send SM chains it cannot sign validly (and so get caught)?"""
        return self.strategy != "collude"

    def _split(self, value: str, dests: list[str]) -> list[tuple[str, str]]:
        shuffled = list(dests)
        self.rng.shuffle(shuffled)
        half = set(shuffled[: len(shuffled) // 2])
        return [(d, value if d in half else opposite(value)) for d in dests]

    def _plan(self, dests: list[str]) -> list[tuple[str, str]]:
        """The colluders' lie to a split army: the first half of the loyal nodes hears ATTACK."""
        first = set(self.loyal[: (len(self.loyal) + 1) // 2])
        return [(d, ATTACK if d in first or d in self.traitors else RETREAT) for d in dests]

    def _lie(self, value: str, dests: list[str]) -> list[tuple[str, str]]:
        if self.strategy == "silent":
            return []
        if self.strategy == "flip":
            return [(d, opposite(value)) for d in dests]
        if self.strategy == "random":
            return [(d, self.rng.choice((ATTACK, RETREAT))) for d in dests]
        return self._split(value, dests)  # equivocate

    def as_commander(self, order: str, lieutenants: list[str]) -> list[tuple[str, str]]:
        """What it sends to whom when told to give ``order``."""
        if self.strategy == "collude":
            return self._plan(lieutenants)
        return self._lie(order, lieutenants)

    def as_relayer(self, value: str, commander: str, direct: str | None, dests: list[str]) -> list[tuple[str, str]]:
        """What it relays to whom, having received ``value`` (``direct``: what the commander
        itself sent it, if anything)."""
        if self.strategy == "collude":
            if commander in self.traitors:
                return self._plan(dests)
            return [(d, opposite(direct or value)) for d in dests]
        return self._lie(value, dests)

"""The simulated network's settings and its link faults.

Like trio's ``FakeNet``, every message goes through one seeded
``random.Random`` that decides drop / duplicate / delay; partitions are sets of
blocked directed links, as in the fault proxy (a blocked link is a blackhole:
the sender sees silence, not an error).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Faults every message meets. Times are seconds of virtual time."""

    drop: float = 0.0  # probability a message is lost
    delay: tuple[float, float] = (0.001, 0.010)  # one-way delay, uniform in [min, max)
    duplicate: float = 0.0  # probability a message is delivered twice (independent delays)

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate"):
            p = getattr(self, name)
            if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
                raise ValueError(f"network {name} must be a probability in [0, 1], got {p!r}")
        if len(self.delay) != 2:
            raise ValueError(f"network delay must be (min, max) seconds, got {self.delay!r}")
        low, high = self.delay
        if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high):
            raise ValueError(f"network delay must satisfy 0 <= min <= max, got {self.delay!r}")


class Links:
    """Which directed links are blocked. Faults compose; :meth:`heal` clears them all."""

    def __init__(self, nodes: Sequence[str]) -> None:
        self.nodes = list(nodes)
        self.blocked: set[tuple[str, str]] = set()

    def check(self, *ids: str) -> None:
        for node in ids:
            if node not in self.nodes:
                raise ValueError(f"unknown node {node!r} (nodes: {', '.join(self.nodes)})")

    def partition(self, groups: Iterable[Iterable[str]]) -> list[list[str]]:
        """Block every link between different groups; nodes named nowhere form one more group.

        Returns the groups in effect (with that extra group), for traces.
        """
        groups = [list(g) for g in groups]
        seen: set[str] = set()
        for group in groups:
            self.check(*group)
            for node in group:
                if node in seen:
                    raise ValueError(f"node {node!r} is in more than one partition group")
                seen.add(node)
        rest = [n for n in self.nodes if n not in seen]
        if rest:
            groups.append(rest)
        groups = [g for g in groups if g]
        side = {node: i for i, group in enumerate(groups) for node in group}
        for a in self.nodes:
            for b in self.nodes:
                if a != b and side[a] != side[b]:
                    self.blocked.add((a, b))
        return groups

    def isolate(self, node: str) -> None:
        self.check(node)
        for other in self.nodes:
            if other != node:
                self.blocked.add((node, other))
                self.blocked.add((other, node))

    def block(self, src: str, dst: str) -> None:
        """One-way: messages from ``src`` to ``dst`` vanish; the other direction still works."""
        self.check(src, dst)
        if src == dst:
            raise ValueError(f"cannot block a link from {src!r} to itself")
        self.blocked.add((src, dst))

    def unblock(self, src: str, dst: str) -> None:
        self.check(src, dst)
        self.blocked.discard((src, dst))

    def heal(self) -> None:
        self.blocked.clear()

    def is_blocked(self, src: str, dst: str) -> bool:
        return (src, dst) in self.blocked

"""The simulated network: the fault proxy's own :class:`~chaoslab.net.rules.FaultTable` on virtual time.

Every message, peer or client, gets its fate from one ``FaultTable``, exactly
as a message through the fault proxy does: rules per directed link, composed
in the order added, each (rule, link) drawing from its own rng derived from the
simulation's seed (:func:`chaoslab.seeds.derive_rng`). The base network
(:class:`NetworkConfig`: drop, delay ± jitter, duplicate, reorder) is one rule
on every link; a cut link (partition, isolate, block) is a blackhole rule on
that directed link (the sender sees silence, not an error). Links keep their
messages in order, as the proxy's do, unless a reorder holds one back.

Clients reach the nodes over links of their own (``client -> n1``,
``n1 -> client``): the base network applies to them, partitions do not (as
with Jepsen's clients).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chaoslab.net.rules import Fate, FaultTable, LinkRule

CLIENT = "client"  # the far end of every client link
_CUT = "cut:"  # id prefix of the blackhole rules Links makes, "cut:n1->n2"


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Faults every message meets. Times are seconds of virtual time.

    ``delay`` is drawn uniformly from [min, max] per message; a link still
    delivers in order (a message waits for the one before it) unless
    ``reorder`` holds it back so that later ones overtake it.
    """

    drop: float = 0.0  # probability a message is lost
    delay: tuple[float, float] = (0.001, 0.010)  # one-way delay, uniform in [min, max]
    duplicate: float = 0.0  # probability a message is delivered twice
    reorder: float = 0.0  # probability a message is held back (50-100 ms) so later ones overtake it

    def __post_init__(self) -> None:
        for name in ("drop", "duplicate", "reorder"):
            p = getattr(self, name)
            if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
                raise ValueError(f"network {name} must be a probability in [0, 1], got {p!r}")
        if len(self.delay) != 2:
            raise ValueError(f"network delay must be (min, max) seconds, got {self.delay!r}")
        low, high = self.delay
        if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high):
            raise ValueError(f"network delay must satisfy 0 <= min <= max, got {self.delay!r}")

    def rule(self, rule_id: str) -> LinkRule | None:
        """The fault rule on every link that this network is, or None for a perfect one."""
        low, high = self.delay
        effects = {"drop": self.drop, "delay_ms": (low + high) / 2 * 1e3, "jitter_ms": (high - low) / 2 * 1e3,
                   "duplicate": self.duplicate, "reorder": self.reorder}
        if not any(effects.values()):
            return None
        return LinkRule(id=rule_id, label="network", **effects)


class Links:
    """The simulated links: a :class:`FaultTable` holding the base network and the cuts.

    Cuts compose (a partition adds to a block); :meth:`heal` removes them all
    and leaves the base network. ``table`` is open to any other
    :class:`~chaoslab.net.rules.LinkRule` (``expires_at`` in virtual seconds).
    """

    def __init__(self, nodes: Sequence[str], seed: int, network: NetworkConfig) -> None:
        self.nodes = list(nodes)
        self.table = FaultTable(seed=seed)
        self._network_ids = itertools.count(1)
        self._network_rule = ""
        self.set_network(network, 0.0)

    # -- faults ----------------------------------------------------------------

    def set_network(self, network: NetworkConfig, now: float) -> None:
        """Replace the base network's rule. Each version draws from a fresh stream."""
        if self._network_rule:
            self.table.remove([self._network_rule])
            self._network_rule = ""
        rule = network.rule(f"network{next(self._network_ids)}")
        if rule is not None:
            self._network_rule = self.table.add(rule, now)

    def check(self, *ids: str) -> None:
        for node in ids:
            if node not in self.nodes:
                raise ValueError(f"unknown node {node!r} (nodes: {', '.join(self.nodes)})")

    def partition(self, groups: Iterable[Iterable[str]], now: float) -> list[list[str]]:
        """Cut every link between different groups; nodes named nowhere form one more group.

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
        self._cut([(a, b) for a in self.nodes for b in self.nodes if a != b and side[a] != side[b]], now)
        return groups

    def isolate(self, node: str, now: float) -> None:
        self.check(node)
        others = [n for n in self.nodes if n != node]
        self._cut([*((node, o) for o in others), *((o, node) for o in others)], now)

    def block(self, src: str, dst: str, now: float) -> None:
        """One-way: messages from ``src`` to ``dst`` vanish; the other direction still works."""
        self.check(src, dst)
        if src == dst:
            raise ValueError(f"cannot block a link from {src!r} to itself")
        self._cut([(src, dst)], now)

    def unblock(self, src: str, dst: str) -> None:
        self.check(src, dst)
        rule_id = f"{_CUT}{src}->{dst}"
        if any(r.id == rule_id for r in self.table.rules()):
            self.table.remove([rule_id])

    def heal(self) -> None:
        """Remove every cut (every blackhole rule); the base network stays."""
        self.table.heal()

    def _cut(self, links: list[tuple[str, str]], now: float) -> None:
        have = {r.id for r in self.table.rules()}
        rules = [LinkRule(id=f"{_CUT}{a}->{b}", src=(a,), dst=(b,), blackhole=True) for a, b in links]
        self.table.add_all([r for r in rules if r.id not in have], now)

    # -- messages --------------------------------------------------------------

    def fate(self, src: str, dst: str, now: float) -> Fate:
        """What happens to a message from ``src`` to ``dst`` sent at ``now`` (counted as sent)."""
        return self.table.fate(src, dst, now)

    def is_blocked(self, src: str, dst: str, now: float) -> bool:
        """Is the link cut right now? A message in flight is lost when it lands on a cut link."""
        return self.table.cut(src, dst, now)

    @property
    def blocked(self) -> set[tuple[str, str]]:
        """The directed links cut by :meth:`partition`, :meth:`isolate` and :meth:`block`."""
        return {(r.src[0], r.dst[0]) for r in self.table.rules() if r.id.startswith(_CUT)}

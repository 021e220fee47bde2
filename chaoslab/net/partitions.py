"""Partitions: who stops hearing whom, as groups or as a set of blocked directed links.

A :class:`Partition` is computed from the cluster's node ids and a spec, and
validated against them (unknown ids, repeats, an id in two groups, empty
groups). It turns into blackhole :class:`~chaoslab.net.rules.LinkRule`\\ s with
:meth:`Partition.rules`. Shapes follow Jepsen's nemeses:

=================  ==========================================================
groups             ``n1,n2 n3,n4,n5``: nodes not named form one more group
one-way            ``n1->n2``: n2 stops hearing n1, n1 still hears n2
isolate            one node (or the leader) alone
majority           the leader on the minority side, the rest a majority
minority-third     fewer than a third of the nodes cut off (at least one)
ring               majorities ring: each node hears a majority, no two the same one
bridge             two halves, one node in both (it hears and is heard by all)
random-halves      a seeded shuffle cut in two, smaller half first
=================  ==========================================================

The ``rng`` arguments choose nodes at random (Jepsen shuffles); with ``None``
the choice follows the node order, so a plain call is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chaoslab.net.parse import parse_groups, parse_one_way
from chaoslab.net.rules import LinkRule, blackhole_rule

__all__ = [
    "SHAPES",
    "Partition",
    "PartitionSpec",
    "bridge",
    "build",
    "from_groups",
    "isolate",
    "majority",
    "minority_third",
    "one_way",
    "parse_spec",
    "random_halves",
    "ring",
]

SHAPES = ("groups", "one-way", "isolate", "majority", "minority-third", "ring", "bridge", "random-halves")
_ALIASES = {"majorities-ring": "ring", "halves": "random-halves", "minority": "minority-third"}

Link = tuple[str, str]


@dataclass(frozen=True)
class Partition:
    """A computed partition: the blocked directed links, and groups where the shape has them."""

    shape: str
    nodes: tuple[str, ...]                # every node of the cluster, in cluster order
    groups: tuple[tuple[str, ...], ...]   # who can talk to whom; () for one-way and ring
    blocked: frozenset[Link]              # (src, dst): dst does not hear src
    label: str                            # e.g. "n1,n2 | n3,n4,n5"

    def cuts(self, src: str, dst: str) -> bool:
        """Does this partition stop ``dst`` from hearing ``src``?"""
        return (src, dst) in self.blocked

    def hears(self, node: str) -> list[str]:
        """The nodes ``node`` still hears, itself included, in cluster order."""
        return [n for n in self.nodes if n == node or (n, node) not in self.blocked]

    def group_labels(self) -> list[str]:
        """``["n1,n2", "n3,n4,n5"]``, for ``FaultState.partition_groups``."""
        return [",".join(g) for g in self.groups]

    def rules(self, *, expires_at: float = 0.0) -> list[LinkRule]:
        """Blackhole rules that block exactly :attr:`blocked`, as few as the shape allows.

        Destinations that stop hearing the same sources share one rule, so a
        split into k groups takes k rules.
        """
        sources: dict[str, tuple[str, ...]] = {}
        for dst in self.nodes:
            srcs = tuple(s for s in self.nodes if (s, dst) in self.blocked)
            if srcs:
                sources[dst] = srcs
        by_srcs: dict[tuple[str, ...], list[str]] = {}
        for dst, srcs in sources.items():
            by_srcs.setdefault(srcs, []).append(dst)
        label = f"partition {self.label}"
        return [blackhole_rule(srcs, dsts, expires_at=expires_at, label=label) for srcs, dsts in by_srcs.items()]


@dataclass(frozen=True)
class PartitionSpec:
    """What the user asked for, before it meets the cluster's ids and leader.

    ``groups`` holds the named groups for ``"groups"`` and ``(src, dst)`` for
    ``"one-way"``; ``node`` is the id (or ``"leader"``/``"random"``) to isolate.
    """

    shape: str
    groups: tuple[tuple[str, ...], ...] = ()
    node: str = ""

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown partition shape {self.shape!r} (one of {', '.join(SHAPES)})")
        object.__setattr__(self, "groups", tuple(tuple(g) for g in self.groups))


def parse_spec(args: str | Sequence[str]) -> PartitionSpec:
    """Read a partition as typed on the CLI or in a scenario file.

    ``"n1,n2 n3,n4,n5"``, ``"n1->n2"``, ``"isolate:n3"`` / ``"isolate leader"``,
    ``"majority"``, ``"minority-third"``, ``"ring"``, ``"bridge"``,
    ``"random-halves"`` (a leading ``--`` and ``_`` for ``-`` are accepted).
    """
    text = (args if isinstance(args, str) else " ".join(args)).strip()
    if not text:
        raise ValueError("no partition given: write groups like n1,n2 n3,n4,n5, or n1->n2, or a shape like --majority")
    if "->" in text:
        src, dst = parse_one_way(text)
        return PartitionSpec("one-way", (tuple(src), tuple(dst)))
    head, _, rest = text.replace(":", " ", 1).partition(" ")
    word = head.lower().lstrip("-").replace("_", "-")
    word = _ALIASES.get(word, word)
    if word == "isolate":
        node = rest.strip()
        if not node or " " in node or "," in node:
            raise ValueError(f"{text!r}: isolate takes one node id or 'leader', e.g. isolate:n3")
        parse_groups(node)  # checks the id's syntax
        return PartitionSpec("isolate", node=node)
    if word in SHAPES and word not in ("groups", "one-way"):
        if rest.strip():
            raise ValueError(f"{text!r}: the {word} shape takes no nodes")
        return PartitionSpec(word)
    if head.startswith("-"):
        raise ValueError(f"unknown partition shape {head!r} (one of {', '.join(SHAPES[2:])})")
    return PartitionSpec("groups", tuple(tuple(g) for g in parse_groups(text)))


def build(nodes: Sequence[str], spec: PartitionSpec, *, leader: str | None = None,
          rng: random.Random | None = None) -> Partition:
    """Compute ``spec`` for a cluster of ``nodes``; ``leader`` resolves ``"leader"`` and ``majority``."""
    shape = spec.shape
    if shape == "groups":
        return from_groups(nodes, spec.groups)
    if shape == "one-way":
        return one_way(nodes, spec.groups[0], spec.groups[1])
    if shape == "isolate":
        node = spec.node
        if node == "leader":
            if leader is None:
                raise ValueError("no leader is known right now, so there is no leader to isolate")
            node = leader
        elif node == "random":
            node = (rng or random.Random(0)).choice(list(nodes))
        return isolate(nodes, node)
    if shape == "majority":
        if leader is None:
            raise ValueError("no leader is known right now: --majority puts the leader on the minority side")
        return majority(nodes, leader, rng=rng)
    if shape == "minority-third":
        return minority_third(nodes, rng=rng)
    if shape == "ring":
        return ring(nodes, rng=rng)
    if shape == "bridge":
        return bridge(nodes, rng=rng)
    return random_halves(nodes, rng or random.Random(0))


# ---------------------------------------------------------------- shapes


def from_groups(nodes: Sequence[str], groups: Iterable[Iterable[str]]) -> Partition:
    """Split ``nodes`` into ``groups``; nodes not named form one more group."""
    order = _check_nodes(nodes)
    named: list[tuple[str, ...]] = []
    owner: dict[str, int] = {}
    for i, group in enumerate(groups):
        group = tuple(group)
        if not group:
            raise ValueError("empty group: every group names at least one node")
        for node in group:
            _check_known(node, order)
            if node in owner:
                where = "twice in one group" if owner[node] == i else "in two groups"
                raise ValueError(f"{node} is {where}: each node belongs to one group")
            owner[node] = i
        named.append(group)
    rest = tuple(n for n in order if n not in owner)
    if rest:
        named.append(rest)
    if len(named) < 2:
        raise ValueError("a partition needs at least two groups, but every node is in one")
    return _from_groups("groups", order, named)


def one_way(nodes: Sequence[str], src: Iterable[str], dst: Iterable[str]) -> Partition:
    """``dst`` stops hearing ``src``; ``src`` still hears ``dst``."""
    order = _check_nodes(nodes)
    src, dst = _in_order(src, order), _in_order(dst, order)
    if not src or not dst:
        raise ValueError("a one-way cut needs nodes on both sides, like n1->n2")
    both = [n for n in src if n in dst]
    if both:
        raise ValueError(f"{both[0]} is on both sides of a one-way cut")
    blocked = frozenset((s, d) for s in src for d in dst)
    return Partition("one-way", order, (), blocked, f"{','.join(src)}->{','.join(dst)}")


def isolate(nodes: Sequence[str], node: str) -> Partition:
    """``node`` alone, everyone else together."""
    order = _check_nodes(nodes)
    _check_known(node, order)
    return _from_groups("isolate", order, [(node,), tuple(n for n in order if n != node)])


def majority(nodes: Sequence[str], leader: str, *, rng: random.Random | None = None) -> Partition:
    """The leader and a few others on the minority side, a majority without them.

    The minority has ``(n-1)//2`` nodes (at least the leader): 2 of 5, 1 of 3.
    """
    order = _check_nodes(nodes)
    _check_known(leader, order)
    others = [n for n in order if n != leader]
    size = max(1, (len(order) - 1) // 2)
    companions = rng.sample(others, size - 1) if rng else others[: size - 1]
    minority = _in_order([leader, *companions], order)
    return _from_groups("majority", order, [minority, tuple(n for n in order if n not in minority)])


def minority_third(nodes: Sequence[str], *, rng: random.Random | None = None) -> Partition:
    """Cut off fewer than a third of the nodes (Jepsen's minority-third), at least one.

    ``(n-1)//3`` nodes: 1 of 4 to 6, 2 of 7 to 9. With 3 nodes no node is below
    a third, so one node (a minority) is cut off.
    """
    order = _check_nodes(nodes)
    size = max(1, (len(order) - 1) // 3)
    cut = _in_order(rng.sample(list(order), size) if rng else order[:size], order)
    return _from_groups("minority-third", order, [cut, tuple(n for n in order if n not in cut)])


def ring(nodes: Sequence[str], *, rng: random.Random | None = None) -> Partition:
    """Jepsen's majorities ring: every node hears a majority, no two nodes the same one.

    Nodes sit on a ring (shuffled if ``rng``); each hears the majority-sized
    window centred on itself. Symmetric for 4 and 5 nodes; with 3 nodes the
    ring is one-way (n1 hears n3, n2 hears n1, n3 hears n2).
    """
    order = _check_nodes(nodes)
    if len(order) < 3:
        raise ValueError("a majorities ring needs at least 3 nodes")
    circle = list(order)
    if rng:
        rng.shuffle(circle)
    n = len(circle)
    m = n // 2 + 1
    blocked = set()
    for i in range(n):
        window = [circle[(i + j) % n] for j in range(m)]
        centre = window[m // 2]
        blocked |= {(s, centre) for s in order if s not in window}
    return Partition("ring", order, (), frozenset(blocked), f"majorities ring {' '.join(circle)}")


def bridge(nodes: Sequence[str], *, rng: random.Random | None = None) -> Partition:
    """Two halves that cannot talk, and one node in both that talks to everyone (Jepsen's bridge).

    With 5 nodes: n1,n2 | n4,n5 bridged by n3. With 3: n1 | n3 bridged by n2.
    """
    order = _check_nodes(nodes)
    if len(order) < 3:
        raise ValueError("a bridge needs at least 3 nodes")
    shuffled = list(order)
    if rng:
        rng.shuffle(shuffled)
    k = len(shuffled) // 2
    left, right = shuffled[:k], shuffled[k:]
    middle = right[0]
    groups = [_in_order([*left, middle], order), _in_order(right, order)]
    p = _from_groups("bridge", order, groups)
    sides = [",".join(_in_order(left, order)), ",".join(_in_order(right[1:], order))]
    return Partition("bridge", order, p.groups, p.blocked, f"{sides[0]} | {sides[1]} bridged by {middle}")


def random_halves(nodes: Sequence[str], rng: random.Random) -> Partition:
    """A seeded shuffle cut in two; the smaller half (when odd) comes first."""
    order = _check_nodes(nodes)
    shuffled = list(order)
    rng.shuffle(shuffled)
    k = len(shuffled) // 2
    return _from_groups("random-halves", order, [_in_order(shuffled[:k], order), _in_order(shuffled[k:], order)])


# ---------------------------------------------------------------- helpers


def _check_nodes(nodes: Sequence[str]) -> tuple[str, ...]:
    order = tuple(nodes)
    if len(order) < 2:
        raise ValueError("a partition needs a cluster of at least 2 nodes")
    if len(set(order)) != len(order):
        raise ValueError(f"the cluster's node ids repeat: {','.join(order)}")
    return order


def _check_known(node: str, order: tuple[str, ...]) -> None:
    if node not in order:
        raise ValueError(f"unknown node {node!r} (this cluster has {','.join(order)})")


def _in_order(chosen: Iterable[str], order: tuple[str, ...]) -> tuple[str, ...]:
    chosen = list(chosen)
    for node in chosen:
        _check_known(node, order)
    if len(set(chosen)) != len(chosen):
        dup = next(n for n in chosen if chosen.count(n) > 1)
        raise ValueError(f"{dup} is named twice")
    return tuple(n for n in order if n in chosen)


def _from_groups(shape: str, order: tuple[str, ...], groups: Sequence[Sequence[str]]) -> Partition:
    """Block every link whose ends share no group (groups may overlap, as in a bridge)."""
    groups = tuple(tuple(n for n in order if n in g) for g in groups)
    member_of = {n: {i for i, g in enumerate(groups) if n in g} for n in order}
    blocked = frozenset((a, b) for a in order for b in order
                        if a != b and not (member_of[a] & member_of[b]))
    return Partition(shape, order, groups, blocked, " | ".join(",".join(g) for g in groups))

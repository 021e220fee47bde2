"""Fault rules per directed link, the fate of each message, and per-link counters.

Sans-I/O: no sockets, no threads, no clock. The proxy passes ``now`` (float
seconds, the same clock as :attr:`LinkRule.expires_at`, i.e. ``time.time()``)
and acts on what comes back:

    fate = table.fate(src, dst, now)
    for delay in fate.delays:            # () = dropped, two entries = duplicated
        queue.push(now + delay, (src, dst, payload))
    ...
    for src, dst, payload in queue.pop_due(now):
        if hand_over(dst, payload): table.delivered(src, dst, now, len(payload))
        else:                       table.undeliverable(src, dst)

Rules compose: a message meets every active rule that matches its link, in the
order the rules were added; within one rule the effects apply as blackhole,
drop, delay (± jitter), duplicate, reorder. Randomness comes from one
``random.Random`` per (rule, directed link), from :func:`chaoslab.seeds.derive_rng`
of the rule's seed (or the table's seed and the rule's id) and the link, so the
same seed and the same messages on a link give the same fates whatever happens
on other links.

Delays keep each link in order (a message is never released before an earlier
one on its link) unless a reorder rule holds it back: reorder is the one fault
that lets later messages overtake.

The same table decides the fate of every message in the simulator
(:mod:`chaoslab.sim.network`, on virtual time) and in the proxy (on real
time). The mapping to ``chaoslab.v1`` messages is :mod:`chaoslab.net.proto`,
so this module stays pure (standard library and :mod:`chaoslab.seeds` only).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, NamedTuple, TypeVar

from chaoslab.net.parse import MAX_FOR_S, format_duration, format_percent, parse_fault
from chaoslab.seeds import derive_rng

__all__ = [
    "JITTER_DISTS",
    "KINDS",
    "DeliveryQueue",
    "Fate",
    "FaultChange",
    "FaultState",
    "FaultTable",
    "LinkCounters",
    "LinkRule",
    "blackhole_rule",
    "delay_rule",
    "drop_rule",
    "duplicate_rule",
    "fault_rule",
    "reorder_rule",
]

KINDS = ("partition", "drop", "delay", "duplicate", "reorder")
#: The longest delay (and jitter) a rule may add. A message held longer is as good as lost,
#: and held messages cost the proxy memory: a longer "delay" is a partition (or ``drop 100%``).
MAX_DELAY_S = 60.0
JITTER_DISTS = ("uniform", "normal")
_U64 = 1 << 64


# ---------------------------------------------------------------- the rule model


def _ids(value: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(value)


def _probability(name: str, value: float) -> float:
    value = float(value)
    if not (0.0 <= value <= 1.0):  # also rejects NaN
        raise ValueError(f"{name} must be between 0% and 100%, got {value:g}")
    return value


def _non_negative(name: str, value: float) -> float:
    value = float(value)
    if not (0.0 <= value < math.inf):
        raise ValueError(f"{name} must be 0 or more, got {value:g}")
    return value


def _delay_ms(name: str, value: float) -> float:
    value = _non_negative(name, value)
    if value > MAX_DELAY_S * 1e3:
        raise ValueError(f"{name} {format_duration(value / 1e3)} is longer than the longest a link may hold a message, "
                         f"{format_duration(MAX_DELAY_S)} (to cut a link, use a partition or drop 100%)")
    return value


@dataclass(frozen=True, kw_only=True)
class LinkRule:
    """One fault on the directed links it matches; mirrors ``chaoslab.v1.LinkRule``.

    ``src``/``dst`` empty means any node. ``seed`` 0 means "derive from the
    table's seed and this rule's id". ``expires_at`` 0 means until removed.
    ``kind`` is inferred from the effects when left empty; ``label`` is filled
    in by :meth:`FaultTable.add` when left empty.
    """

    id: str = ""
    src: tuple[str, ...] = ()
    dst: tuple[str, ...] = ()
    kind: str = ""
    blackhole: bool = False
    drop: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    jitter_dist: str = "uniform"
    duplicate: float = 0.0
    reorder: float = 0.0
    seed: int = 0
    expires_at: float = 0.0
    label: str = ""

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "src", _ids(self.src))
        put(self, "dst", _ids(self.dst))
        put(self, "blackhole", bool(self.blackhole))
        put(self, "drop", _probability("drop", self.drop))
        put(self, "duplicate", _probability("duplicate", self.duplicate))
        put(self, "reorder", _probability("reorder", self.reorder))
        put(self, "delay_ms", _delay_ms("delay", self.delay_ms))
        put(self, "jitter_ms", _delay_ms("jitter", self.jitter_ms))
        put(self, "expires_at", _non_negative("expires_at", self.expires_at))
        dist = self.jitter_dist or "uniform"
        if dist not in JITTER_DISTS:
            raise ValueError(f"jitter distribution must be uniform or normal, got {dist!r}")
        put(self, "jitter_dist", dist)
        if not (isinstance(self.seed, int) and 0 <= self.seed < _U64):
            raise ValueError(f"seed must be an integer from 0 to 2**64-1, got {self.seed!r}")
        kind = self.kind or self._inferred_kind()
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (one of {', '.join(KINDS)})")
        put(self, "kind", kind)
        for node in (*self.src, *self.dst):
            if not node or not isinstance(node, str):
                raise ValueError(f"bad node id {node!r} in a fault rule")

    def _inferred_kind(self) -> str:
        if self.blackhole:
            return "partition"
        for kind, value in (("drop", self.drop), ("delay", self.delay_ms or self.jitter_ms),
                            ("duplicate", self.duplicate), ("reorder", self.reorder)):
            if value:
                return kind
        raise ValueError("a fault rule needs an effect: blackhole, drop, delay, duplicate or reorder")

    @property
    def holds(self) -> bool:
        """Does this rule hold messages back (delay, jitter or reorder)?"""
        return bool(self.delay_ms or self.jitter_ms or self.reorder)

    @property
    def is_partition(self) -> bool:
        """True for the rules ``heal`` removes."""
        return self.kind == "partition" or self.blackhole

    def matches(self, src: str, dst: str) -> bool:
        """Does this rule apply to messages from ``src`` to ``dst``?"""
        return (not self.src or src in self.src) and (not self.dst or dst in self.dst)

    def expired(self, now: float) -> bool:
        return 0.0 < self.expires_at <= now

    def describe(self) -> str:
        """A human line such as ``"drop 20% n1->*"`` or ``"delay 50ms±10ms normal"``."""
        effects = []
        if self.blackhole:
            effects.append("blackhole")
        if self.drop:
            effects.append(f"drop {format_percent(self.drop)}")
        if self.delay_ms or self.jitter_ms:
            text = f"delay {format_duration(self.delay_ms / 1e3)}"
            if self.jitter_ms:
                text += f"±{format_duration(self.jitter_ms / 1e3)}"
                if self.jitter_dist != "uniform":
                    text += f" {self.jitter_dist}"
            effects.append(text)
        if self.duplicate:
            effects.append(f"duplicate {format_percent(self.duplicate)}")
        if self.reorder:
            effects.append(f"reorder {format_percent(self.reorder)}")
        if not effects:
            effects.append(f"{self.kind} 0")
        text = " ".join(effects)
        if self.src or self.dst:
            text += f" {','.join(self.src) or '*'}->{','.join(self.dst) or '*'}"
        return text


def _scoped(src: str | Iterable[str], dst: str | Iterable[str], seed: int, expires_at: float, label: str) -> dict[str, Any]:
    return {"src": _ids(src), "dst": _ids(dst), "seed": seed, "expires_at": expires_at, "label": label}


def blackhole_rule(src: str | Iterable[str] = (), dst: str | Iterable[str] = (), *,
                   expires_at: float = 0.0, label: str = "") -> LinkRule:
    """Messages from ``src`` to ``dst`` vanish (a partition, one direction)."""
    return LinkRule(kind="partition", blackhole=True, **_scoped(src, dst, 0, expires_at, label))


def drop_rule(p: float, *, src: str | Iterable[str] = (), dst: str | Iterable[str] = (),
              seed: int = 0, expires_at: float = 0.0, label: str = "") -> LinkRule:
    """Drop each matching message with probability ``p`` (0..1)."""
    return LinkRule(kind="drop", drop=p, **_scoped(src, dst, seed, expires_at, label))


def delay_rule(delay_s: float, *, jitter_s: float = 0.0, dist: str = "uniform",
               src: str | Iterable[str] = (), dst: str | Iterable[str] = (),
               seed: int = 0, expires_at: float = 0.0, label: str = "") -> LinkRule:
    """Delay each matching message by ``delay_s`` ± ``jitter_s`` seconds.

    ``dist="uniform"`` draws from [delay-jitter, delay+jitter]; ``"normal"`` uses
    jitter as the standard deviation. A delay never goes below zero.
    """
    return LinkRule(kind="delay", delay_ms=delay_s * 1e3, jitter_ms=jitter_s * 1e3, jitter_dist=dist,
                    **_scoped(src, dst, seed, expires_at, label))


def duplicate_rule(p: float, *, src: str | Iterable[str] = (), dst: str | Iterable[str] = (),
                   seed: int = 0, expires_at: float = 0.0, label: str = "") -> LinkRule:
    """Deliver one extra copy of each matching message with probability ``p``."""
    return LinkRule(kind="duplicate", duplicate=p, **_scoped(src, dst, seed, expires_at, label))


def reorder_rule(p: float, *, src: str | Iterable[str] = (), dst: str | Iterable[str] = (),
                 seed: int = 0, expires_at: float = 0.0, label: str = "") -> LinkRule:
    """Hold each matching message back with probability ``p`` so later ones overtake it."""
    return LinkRule(kind="reorder", reorder=p, **_scoped(src, dst, seed, expires_at, label))


def fault_rule(text: str, *, expires_at: float = 0.0) -> LinkRule:
    """The rule for one line of the CLI's fault grammar (``"drop 30%"``, ``"delay 40ms --jitter
    20ms --to n2"``; see :func:`chaoslab.net.parse.parse_fault`).
    Malformed or out of range -> ValueError, one line."""
    kind, args = parse_fault(text)
    make = {"drop": drop_rule, "delay": delay_rule, "duplicate": duplicate_rule, "reorder": reorder_rule}[kind]
    amount = args.pop("delay_s" if kind == "delay" else "p")
    return make(amount, expires_at=expires_at, **args)


# ---------------------------------------------------------------- fates and counters


class Fate(NamedTuple):
    """What happens to one message: delivery delays in seconds from ``now``.

    ``delays == ()`` means dropped (``blackholed`` tells a partition from a
    random drop); more than one entry means duplicated. The delays are already
    ordered for the link (see the module docstring), so a proxy can release
    each copy at ``now + delay``. (A named tuple: the table makes one per
    message, and a tuple is built several times faster than a frozen dataclass.)
    """

    delays: tuple[float, ...]
    blackholed: bool = False
    delayed: bool = False
    duplicated: int = 0
    reordered: bool = False

    @property
    def dropped(self) -> bool:
        return not self.delays


_new_fate = functools.partial(tuple.__new__, Fate)  # Fate(...) without the keyword handling
_DELIVER_NOW = Fate((0.0,))
_BLACKHOLED = Fate((), blackholed=True)
_DROPPED = Fate(())


@dataclass(frozen=True, slots=True)
class LinkCounters:
    """Counters of one directed link; mirrors ``chaoslab.v1.LinkCounters``.

    Copies are what reach the far side: ``sent + duplicated == delivered +
    dropped + in_flight``, so once nothing is in flight ``sent == (delivered -
    duplicated) + dropped``.
    """

    src: str
    dst: str
    sent: int = 0         # messages that entered the proxy on this link
    delivered: int = 0    # copies handed to dst (duplicates included)
    dropped: int = 0      # blackholed, dropped, or lost to a dead receiver
    duplicated: int = 0   # extra copies made
    delayed: int = 0      # messages a delay rule held up
    reordered: int = 0    # messages held back so later ones overtake them
    bytes: int = 0        # bytes delivered
    rate: float = 0.0     # copies/s delivered, over the table's recent window

    @property
    def in_flight(self) -> int:
        return self.sent + self.duplicated - self.delivered - self.dropped


def _delay(rule: LinkRule, rng: random.Random) -> float:
    """One draw of ``rule``'s delay ± jitter, in seconds (never below zero)."""
    ms = rule.delay_ms
    jitter = rule.jitter_ms
    if jitter:
        if rule.jitter_dist == "normal":
            ms += rng.gauss(0.0, jitter)
        else:
            ms += -jitter + (jitter + jitter) * rng.random()  # rng.uniform(-jitter, jitter), inlined
    return ms / 1e3 if ms > 0.0 else 0.0


class _RateMeter:
    """Deliveries per second over a sliding window, kept as ``buckets`` counts."""

    __slots__ = ("_counts", "_first", "_n", "_width", "_window")

    def __init__(self, window_s: float, buckets: int = 10) -> None:
        self._window = window_s
        self._n = buckets
        self._width = window_s / buckets
        self._counts: deque[list[int]] = deque()  # [bucket index, count], oldest first
        self._first: float | None = None

    def add(self, now: float) -> None:
        if self._first is None:
            self._first = now
        i = math.floor(now / self._width)
        if self._counts and self._counts[-1][0] >= i:
            self._counts[-1][1] += 1  # same bucket (or the clock stepped back)
        else:
            self._counts.append([i, 1])
        while self._counts and self._counts[0][0] <= i - self._n:
            self._counts.popleft()

    def rate(self, now: float) -> float:
        if self._first is None:
            return 0.0
        oldest = math.floor(now / self._width) - self._n + 1
        total = sum(c for i, c in self._counts if i >= oldest)
        span = min(now - oldest * self._width, now - self._first + self._width)
        return total / max(span, self._width)


class _Link:
    """Per directed link: counters, rngs of the rules on it, ordering state."""

    __slots__ = ("bytes", "delayed", "delivered", "dropped", "duplicated", "last_release", "meter",
                 "reordered", "rngs", "rules", "rules_version", "sent")

    def __init__(self, rate_window_s: float) -> None:
        self.sent = self.delivered = self.dropped = self.duplicated = 0
        self.delayed = self.reordered = self.bytes = 0
        self.meter = _RateMeter(rate_window_s)
        self.last_release = -math.inf  # release time of the last in-order copy
        self.rngs: dict[str, random.Random] = {}  # rule id -> rng
        self.rules: list[LinkRule] = []
        self.rules_version = -1


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class FaultState:
    """Rules, counters and partition groups at one moment; mirrors ``chaoslab.v1.FaultState``."""

    rules: tuple[LinkRule, ...] = ()
    links: tuple[LinkCounters, ...] = ()
    partition_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaultChange:
    """One atomic change to a table; mirrors ``chaoslab.v1.FaultChange``.

    Applied in this order: clear_all, heal, remove, add. ``partition_groups``
    (e.g. ``("n1,n2", "n3,n4,n5")``) describe the partition among ``add``.
    """

    clear_all: bool = False
    heal: bool = False
    add: tuple[LinkRule, ...] = ()
    remove: tuple[str, ...] = ()
    partition_groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "add", tuple(self.add))
        object.__setattr__(self, "remove", _ids(self.remove))
        object.__setattr__(self, "partition_groups", _ids(self.partition_groups))


class FaultTable:
    """The active fault rules of a proxy, the fate of each message, and per-link counters.

    ``seed`` is the cluster's seed (``up --seed``); rules without their own
    seed derive theirs from it and their id. ``reorder_hold_s`` is how long a
    reordered message is held at most (it is held for 50-100% of it).
    ``fifo=False`` lets jitter reorder messages too, as netem does.
    """

    def __init__(self, seed: int = 0, *, reorder_hold_s: float = 0.1, fifo: bool = True,
                 rate_window_s: float = 5.0) -> None:
        if reorder_hold_s <= 0 or rate_window_s <= 0:
            raise ValueError("reorder_hold_s and rate_window_s must be above 0")
        self.seed = seed
        self.reorder_hold_s = reorder_hold_s
        self.fifo = fifo
        self.rate_window_s = rate_window_s
        self._rules: dict[str, LinkRule] = {}  # insertion order = composition order
        self._version = 0
        self._next_id = 1
        self._links: dict[tuple[str, str], _Link] = {}
        self._groups: tuple[str, ...] = ()
        self._group_rule_ids: set[str] = set()
        self._blackholes = (-1, False)  # (rules version, any blackhole rule then), for cut()

    # -- rules ---------------------------------------------------------------

    def rules(self) -> list[LinkRule]:
        """The rules in composition order (expired ones too, until :meth:`expire`)."""
        return list(self._rules.values())

    def rule(self, rule_id: str) -> LinkRule:
        try:
            return self._rules[rule_id]
        except KeyError:
            raise ValueError(f"no fault {rule_id!r} (active: {', '.join(self._rules) or 'none'})") from None

    @property
    def partition_groups(self) -> tuple[str, ...]:
        """Groups of the latest group partition while any of its rules is active."""
        return self._groups

    def add(self, rule: LinkRule, now: float, *, for_s: float | None = None) -> str:
        """Activate ``rule`` and return its id (``"f1"``, ``"f2"``... unless it has a free one)."""
        return self.add_all([rule], now, for_s=for_s)[0]

    def add_all(self, rules: Iterable[LinkRule], now: float, *, for_s: float | None = None,
                partition_groups: Sequence[str] = ()) -> list[str]:
        """Activate several rules at once, all or none; return their ids.

        ``for_s`` sets every rule's ``expires_at`` to ``now + for_s``.
        ``partition_groups`` label the partition these rules make (shown in
        :meth:`state` until they are all gone).
        """
        rules = list(rules)
        if for_s is not None:
            if not (0 < for_s <= MAX_FOR_S):
                raise ValueError(f"--for must be above 0 and at most {format_duration(MAX_FOR_S)}, got {for_s:g}s")
            rules = [replace(r, expires_at=now + for_s) for r in rules]
        taken = set(self._rules)
        for r in rules:
            if r.expires_at and r.expires_at <= now:
                raise ValueError(f"fault {r.label or r.describe()!r} would expire at once")
            if r.id:
                if r.id in taken:
                    raise ValueError(f"fault id {r.id!r} is already in use")
                taken.add(r.id)
        ids = []
        for r in rules:
            rule_id = r.id or self._fresh_id()
            self._rules[rule_id] = replace(r, id=rule_id, label=r.label or r.describe())
            ids.append(rule_id)
        group_ids = {i for i in ids if self._rules[i].is_partition}
        if partition_groups and group_ids:
            self._groups = tuple(partition_groups)
            self._group_rule_ids = group_ids
        self._version += 1
        return ids

    def _fresh_id(self) -> str:
        while f"f{self._next_id}" in self._rules:
            self._next_id += 1
        rule_id = f"f{self._next_id}"
        self._next_id += 1
        return rule_id

    def remove(self, ids: Iterable[str]) -> list[LinkRule]:
        """Remove rules by id and return them; an unknown id removes nothing and raises."""
        ids = list(_ids(ids))
        unknown = [i for i in ids if i not in self._rules]
        if unknown:
            raise ValueError(f"no fault {unknown[0]!r} (active: {', '.join(self._rules) or 'none'})")
        return self._drop_rules(lambda r: r.id in ids)

    def heal(self) -> list[LinkRule]:
        """Remove every partition (blackhole) rule; other faults stay."""
        return self._drop_rules(lambda r: r.is_partition)

    def clear(self) -> list[LinkRule]:
        """Remove every rule. Counters stay: they are history, not faults."""
        return self._drop_rules(lambda r: True)

    def expire(self, now: float) -> list[LinkRule]:
        """Remove the rules whose time is up and return them (to log as events)."""
        return self._drop_rules(lambda r: r.expired(now))

    def next_expiry(self) -> float | None:
        """The earliest ``expires_at`` among the rules, for the caller's timer."""
        return min((r.expires_at for r in self._rules.values() if r.expires_at), default=None)

    def _drop_rules(self, doomed: Callable[[LinkRule], bool]) -> list[LinkRule]:
        gone = [r for r in self._rules.values() if doomed(r)]
        for r in gone:
            del self._rules[r.id]
            self._group_rule_ids.discard(r.id)
            for link in self._links.values():
                link.rngs.pop(r.id, None)
        if not self._group_rule_ids:
            self._groups = ()
        if gone:
            self._version += 1
        return gone

    def unhold(self, removed: Iterable[LinkRule]) -> Callable[[str, str], bool]:
        """After ``removed`` rules are gone, stop keeping order behind what they held back.

        A link stays in order by making each message wait for the one before it, so a message
        held by a rule since removed would hold every later one back for as long (``delay
        1h``, then ``clear``: the link stays dead for an hour). The caller releases at once
        what it holds on the links this returns True for (in their order), and later messages
        on them no longer wait. Without this call (the simulator) order is kept as before.
        """
        holding = [r for r in removed if r.holds]

        def matched(src: str, dst: str) -> bool:
            return any(r.matches(src, dst) for r in holding)

        if holding:
            for (src, dst), link in self._links.items():
                if matched(src, dst):
                    link.last_release = -math.inf
        return matched

    def apply(self, change: FaultChange, now: float) -> tuple[list[LinkRule], list[LinkRule]]:
        """Apply a :class:`FaultChange` atomically; return ``(removed, added)`` rules.

        On ValueError (unknown id to remove, a bad rule) the table is unchanged.
        """
        if not change.clear_all:
            unknown = [i for i in change.remove if i not in self._rules]
            if unknown:
                raise ValueError(f"no fault {unknown[0]!r} (active: {', '.join(self._rules) or 'none'})")
        # Check the additions against the table as it will be, before touching it.
        staying = set() if change.clear_all else {
            i for i, r in self._rules.items() if i not in change.remove and not (change.heal and r.is_partition)}
        for r in change.add:
            if r.expires_at and r.expires_at <= now:
                raise ValueError(f"fault {r.label or r.describe()!r} would expire at once")
            if r.id and r.id in staying:
                raise ValueError(f"fault id {r.id!r} is already in use")
            if r.id:
                staying.add(r.id)
        removed = []
        if change.clear_all:
            removed += self.clear()
        if change.heal:
            removed += self.heal()
        removed += self._drop_rules(lambda r: r.id in change.remove)
        ids = self.add_all(change.add, now, partition_groups=change.partition_groups)
        return removed, [self._rules[i] for i in ids]

    # -- messages ------------------------------------------------------------

    def fate(self, src: str, dst: str, now: float) -> Fate:
        """Decide what happens to one message from ``src`` to ``dst`` entering at ``now``.

        Counts it as sent (and dropped, duplicated, delayed, reordered as it
        turns out). Delivered bytes are counted by :meth:`delivered`.
        """
        link = self._links.get((src, dst)) or self._link(src, dst)
        link.sent += 1
        rules = link.rules if link.rules_version == self._version else self._matching(link, src, dst)
        if not rules and link.last_release <= now:
            return _DELIVER_NOW
        copies = [0.0]
        held = [False]
        delayed = reordered = False
        duplicated = 0
        rngs = link.rngs
        for rule in rules:
            if 0.0 < rule.expires_at <= now:  # expired, not yet removed
                continue
            if rule.blackhole:
                link.dropped += 1
                return _BLACKHOLED
            rng = rngs.get(rule.id)
            if rng is None:
                rng = rngs[rule.id] = self._rng(rule, src, dst)
            if rule.drop and rng.random() < rule.drop:
                link.dropped += 1
                return _DROPPED
            if rule.delay_ms or rule.jitter_ms:
                for i in range(len(copies)):
                    extra = _delay(rule, rng)
                    if extra > 0.0:
                        copies[i] += extra
                        delayed = True
            if rule.duplicate and rng.random() < rule.duplicate:
                copies.append(copies[0])
                held.append(held[0])
                duplicated += 1
            if rule.reorder and rng.random() < rule.reorder:
                hold = self.reorder_hold_s * rng.uniform(0.5, 1.0)
                copies = [c + hold for c in copies]
                held = [True] * len(copies)
                reordered = True
        if self.fifo:
            last = link.last_release
            for i, c in enumerate(copies):
                if not held[i]:
                    release = now + c
                    if release < last:
                        release = last
                    delay = release - now if release > now else 0.0
                    while now + delay < release:  # so that the caller's now + delay is in order too
                        delay = math.nextafter(delay, math.inf)
                    copies[i] = delay
                    last = now + delay
            link.last_release = last
        if duplicated:
            link.duplicated += duplicated
        if delayed:
            link.delayed += 1
        if reordered:
            link.reordered += 1
        elif not (delayed or duplicated) and copies[0] == 0.0:
            return _DELIVER_NOW
        return _new_fate((tuple(copies), False, delayed, duplicated, reordered))

    def _rng(self, rule: LinkRule, src: str, dst: str) -> random.Random:
        if rule.seed:
            return derive_rng(rule.seed, "rule", rule.kind, src, dst)
        return derive_rng(self.seed, "table", rule.id, rule.kind, src, dst)

    def cut(self, src: str, dst: str, now: float) -> bool:
        """Would a blackhole rule stop a message from ``src`` to ``dst`` at ``now``? Counts nothing.

        The simulator asks this when a message lands, so a partition that came
        up while it was in flight loses it too.
        """
        if self._blackholes[0] != self._version:
            self._blackholes = (self._version, any(r.blackhole for r in self._rules.values()))
        if not self._blackholes[1]:
            return False
        link = self._links.get((src, dst)) or self._link(src, dst)
        return any(rule.blackhole and not rule.expired(now) for rule in self._matching(link, src, dst))

    def delivered(self, src: str, dst: str, now: float, size_bytes: int = 0) -> None:
        """Record that one copy reached ``dst`` at ``now``."""
        link = self._link(src, dst)
        link.delivered += 1
        link.bytes += size_bytes
        link.meter.add(now)

    def undeliverable(self, src: str, dst: str, copies: int = 1) -> None:
        """Record copies that could not be handed over (receiver dead or stuck): dropped."""
        self._link(src, dst).dropped += copies

    def _link(self, src: str, dst: str) -> _Link:
        link = self._links.get((src, dst))
        if link is None:
            link = self._links[(src, dst)] = _Link(self.rate_window_s)
        return link

    def _matching(self, link: _Link, src: str, dst: str) -> list[LinkRule]:
        if link.rules_version != self._version:
            link.rules = [r for r in self._rules.values() if r.matches(src, dst)]
            link.rules_version = self._version
        return link.rules

    # -- observation ---------------------------------------------------------

    def counters(self, src: str, dst: str, now: float) -> LinkCounters:
        """The counters of one link (all zero if it never carried a message)."""
        link = self._links.get((src, dst))
        if link is None:
            return LinkCounters(src, dst)
        return LinkCounters(src, dst, sent=link.sent, delivered=link.delivered, dropped=link.dropped,
                            duplicated=link.duplicated, delayed=link.delayed, reordered=link.reordered,
                            bytes=link.bytes, rate=link.meter.rate(now))

    def links(self, now: float) -> list[LinkCounters]:
        """Counters of every link that carried a message, in first-seen order."""
        return [self.counters(src, dst, now) for src, dst in self._links]

    def state(self, now: float) -> FaultState:
        return FaultState(tuple(self._rules.values()), tuple(self.links(now)), self._groups)


# ---------------------------------------------------------------- release order

T = TypeVar("T")


class DeliveryQueue(Generic[T]):
    """Copies waiting for their release time, released in (time, arrival) order.

    A heap keyed by ``(at, sequence)``: equal times come out in the order they
    went in, which ``loop.call_later`` does not promise.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, T]] = []
        self._seq = itertools.count()

    def push(self, at: float, item: T) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), item))

    def pop_due(self, now: float) -> list[T]:
        """Every item whose time is ``<= now``, earliest first."""
        due = []
        while self._heap and self._heap[0][0] <= now:
            due.append(heapq.heappop(self._heap)[2])
        return due

    def pop_where(self, wanted: Callable[[T], bool]) -> list[T]:
        """Take out every item ``wanted`` picks, in release order, whatever its time."""
        taken, kept = [], []
        for entry in self._heap:
            (taken if wanted(entry[2]) else kept).append(entry)
        if taken:
            self._heap = kept
            heapq.heapify(kept)
        return [entry[2] for entry in sorted(taken)]  # (time, sequence): the sequence is unique

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)

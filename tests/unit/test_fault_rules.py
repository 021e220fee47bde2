"""Fault rules, the fate of each message, per-link counters and the proto mapping."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import replace

import pytest

from chaoslab.net.rules import (
    DeliveryQueue,
    Fate,
    FaultChange,
    FaultState,
    FaultTable,
    LinkCounters,
    LinkRule,
    blackhole_rule,
    delay_rule,
    drop_rule,
    duplicate_rule,
    reorder_rule,
)
from chaoslab.seeds import derive_seed
from chaoslab.net.proto import from_proto, to_proto
from chaoslab.v1 import control_pb2 as pb


def fates(table: FaultTable, n: int, src: str = "n1", dst: str = "n2", start: float = 0.0,
          step: float = 0.001) -> list[Fate]:
    return [table.fate(src, dst, start + i * step) for i in range(n)]


def deliver_all(table: FaultTable, src: str, dst: str, fate: Fate, now: float) -> None:
    for _ in fate.delays:
        table.delivered(src, dst, now, 10)


class TestLinkRule:
    def test_kind_is_inferred(self) -> None:
        """A rule's kind follows from its effect when not given."""
        assert LinkRule(drop=0.1).kind == "drop"
        assert LinkRule(blackhole=True).kind == "partition"
        assert LinkRule(jitter_ms=5).kind == "delay"
        assert LinkRule(reorder=0.5).kind == "reorder"

    @pytest.mark.parametrize("kwargs", [{"drop": 1.2}, {"drop": -0.1}, {"duplicate": 2}, {"reorder": float("nan")},
                                        {"delay_ms": -5}, {"jitter_ms": -1, "drop": 0.1}, {"delay_ms": float("inf")},
                                        {"drop": 0.1, "jitter_dist": "pareto"}, {"drop": 0.1, "kind": "melt"},
                                        {}, {"drop": 0.1, "seed": -1}, {"drop": 0.1, "src": ("",)}])
    def test_bad_values(self, kwargs: dict) -> None:  # type: ignore[type-arg]
        """Out-of-range probabilities, negative delays, unknown kinds and empty rules are errors."""
        with pytest.raises(ValueError):
            LinkRule(**kwargs)

    @pytest.mark.parametrize("kwargs", [{"delay_ms": 3.6e9}, {"delay_ms": 60_001}, {"jitter_ms": 61_000}])
    def test_absurd_delays_are_refused_with_the_bound(self, kwargs: dict) -> None:  # type: ignore[type-arg]
        """A delay or jitter above a minute is refused, and the message says the bound."""
        with pytest.raises(ValueError, match="longer than the longest .* 1m"):
            LinkRule(**kwargs)

    def test_a_minute_of_delay_is_accepted(self) -> None:
        """The bound itself is allowed."""
        assert delay_rule(60.0, jitter_s=60.0).delay_ms == 60_000

    def test_matching(self) -> None:
        """Empty src or dst means any node; otherwise the link's ends must be listed."""
        assert LinkRule(drop=0.1).matches("a", "b")
        rule = LinkRule(drop=0.1, src=["n1"], dst=("n2", "n3"))
        assert rule.matches("n1", "n3") and not rule.matches("n2", "n3") and not rule.matches("n1", "n4")

    def test_single_id_as_string(self) -> None:
        """A single node id given as a string is one id, not its characters."""
        assert drop_rule(0.1, src="n10").src == ("n10",)

    @pytest.mark.parametrize(
        ("rule", "text"),
        [(drop_rule(0.2, src="n1"), "drop 20% n1->*"), (delay_rule(0.05, jitter_s=0.01), "delay 50ms±10ms"),
         (delay_rule(0.05, jitter_s=0.01, dist="normal", dst="n2"), "delay 50ms±10ms normal *->n2"),
         (duplicate_rule(0.05), "duplicate 5%"), (reorder_rule(0.1, src="n1", dst="n2"), "reorder 10% n1->n2"),
         (blackhole_rule("n1", ["n2", "n3"]), "blackhole n1->n2,n3")],
    )
    def test_describe(self, rule: LinkRule, text: str) -> None:
        """Each rule describes itself in the CLI's own words."""
        assert rule.describe() == text


class TestFaultTable:
    def test_ids_and_labels(self) -> None:
        """Rules get ids f1, f2, ... in order, and a label when they have none."""
        t = FaultTable()
        assert t.add(drop_rule(0.2), 0) == "f1"
        assert t.add(delay_rule(0.05, label="slow"), 0) == "f2"
        assert [(r.id, r.label) for r in t.rules()] == [("f1", "drop 20%"), ("f2", "slow")]

    def test_given_id_kept_and_not_reused(self) -> None:
        """A rule arriving with a free id keeps it; generated ids skip it; a taken id is refused."""
        t = FaultTable()
        assert t.add(replace(drop_rule(0.1), id="f1"), 0) == "f1"
        assert t.add(drop_rule(0.1), 0) == "f2"
        with pytest.raises(ValueError, match="already in use"):
            t.add(replace(drop_rule(0.1), id="f2"), 0)

    def test_remove(self) -> None:
        """remove() takes rules out by id and returns them."""
        t = FaultTable()
        t.add(drop_rule(0.1), 0)
        t.add(drop_rule(0.2), 0)
        assert [r.id for r in t.remove(["f1"])] == ["f1"]
        assert [r.id for r in t.rules()] == ["f2"]

    def test_remove_unknown_changes_nothing(self) -> None:
        """An unknown id in remove() raises and removes none of the others."""
        t = FaultTable()
        t.add(drop_rule(0.1), 0)
        with pytest.raises(ValueError, match="no fault 'f9'"):
            t.remove(["f1", "f9"])
        assert len(t.rules()) == 1

    def test_heal_keeps_other_faults(self) -> None:
        """heal() removes partition rules only; clear() removes everything."""
        t = FaultTable()
        t.add(blackhole_rule("n1", "n2"), 0)
        t.add(drop_rule(0.1), 0)
        t.add(LinkRule(blackhole=True, kind="partition", src=["n2"]), 0)
        assert [r.id for r in t.heal()] == ["f1", "f3"]
        assert [r.kind for r in t.rules()] == ["drop"]
        assert [r.id for r in t.clear()] == ["f2"]
        assert t.rules() == []

    def test_expiry(self) -> None:
        """expire(now) removes exactly the rules whose time is up and returns them."""
        t = FaultTable()
        t.add(drop_rule(0.1), 100.0, for_s=10)
        t.add(drop_rule(0.2, expires_at=130.0), 100.0)
        t.add(drop_rule(0.3), 100.0)
        assert t.next_expiry() == 110.0
        assert t.expire(109.9) == []
        assert [r.id for r in t.expire(110.0)] == ["f1"]
        assert t.next_expiry() == 130.0
        assert [r.id for r in t.expire(200.0)] == ["f2"]
        assert [r.id for r in t.rules()] == ["f3"] and t.next_expiry() is None

    def test_expired_rule_stops_acting_before_it_is_collected(self) -> None:
        """A rule past its expiry no longer affects messages, even before expire() is called."""
        t = FaultTable()
        t.add(blackhole_rule(), 0.0, for_s=5)
        assert t.fate("n1", "n2", 4.9).blackholed
        assert not t.fate("n1", "n2", 5.0).dropped

    @pytest.mark.parametrize("for_s", [0, -1, float("nan"), float("inf")])
    def test_for_must_be_positive(self, for_s: float) -> None:
        """--for 0 (or negative) is refused and leaves the table unchanged."""
        t = FaultTable()
        with pytest.raises(ValueError, match="--for"):
            t.add(drop_rule(0.1), 0, for_s=for_s)
        assert t.rules() == []

    def test_already_expired_rule_refused(self) -> None:
        """A rule whose expiry is not after now is refused."""
        with pytest.raises(ValueError, match="expire at once"):
            FaultTable().add(drop_rule(0.1, expires_at=5.0), 5.0)

    def test_add_all_is_atomic(self) -> None:
        """If one rule of a batch is refused, none is added."""
        t = FaultTable()
        t.add(drop_rule(0.1), 0)
        with pytest.raises(ValueError):
            t.add_all([drop_rule(0.2), replace(drop_rule(0.3), id="f1")], 0)
        assert len(t.rules()) == 1

    def test_partition_groups_live_with_their_rules(self) -> None:
        """Partition groups show while their rules are active and vanish on heal or expiry."""
        t = FaultTable()
        groups = ["n1,n2", "n3,n4,n5"]
        t.add_all([blackhole_rule(["n1", "n2"], ["n3", "n4", "n5"]), blackhole_rule(["n3", "n4", "n5"], ["n1", "n2"])],
                  0.0, partition_groups=groups, for_s=10)
        assert t.partition_groups == tuple(groups)
        t.remove(["f1"])
        assert t.partition_groups == tuple(groups)
        t.expire(10.0)
        assert t.partition_groups == ()
        t.add_all([blackhole_rule("n1", "n2")], 0.0, partition_groups=["n1", "n2,n3"])
        t.heal()
        assert t.partition_groups == ()


class TestFate:
    def test_no_rules_delivers_at_once(self) -> None:
        """Without rules every message is delivered once, with no delay."""
        t = FaultTable()
        assert fates(t, 3) == [Fate((0.0,))] * 3

    def test_blackhole(self) -> None:
        """A blackholed message is dropped silently and marked as blackholed."""
        t = FaultTable()
        t.add(blackhole_rule("n1", "n2"), 0)
        f = t.fate("n1", "n2", 1.0)
        assert f.dropped and f.blackholed and f.delays == ()
        assert not t.fate("n2", "n1", 1.0).dropped

    def test_cut_asks_without_counting(self) -> None:
        """cut() tells whether a live blackhole rule covers a link, and counts nothing."""
        t = FaultTable()
        assert not t.cut("n1", "n2", 0.0)
        t.add(drop_rule(1.0), 0)
        assert not t.cut("n1", "n2", 0.0)
        t.add(blackhole_rule("n1", "n2", expires_at=5.0), 0)
        assert t.cut("n1", "n2", 1.0) and not t.cut("n2", "n1", 1.0) and not t.cut("n1", "n2", 5.0)
        assert t.counters("n1", "n2", 1.0).sent == 0
        t.heal()
        assert not t.cut("n1", "n2", 1.0)

    def test_drop_rate(self) -> None:
        """drop 30% drops about 30% of 10,000 messages."""
        t = FaultTable(seed=1)
        t.add(drop_rule(0.3), 0)
        dropped = sum(f.dropped for f in fates(t, 10_000))
        assert 2850 <= dropped <= 3150
        assert not any(f.blackholed for f in fates(t, 100))

    def test_drop_edges(self) -> None:
        """drop 0% drops nothing and drop 100% drops everything."""
        t = FaultTable()
        t.add(drop_rule(0.0, src="n1"), 0)
        t.add(drop_rule(1.0, src="n2"), 0)
        assert not any(f.dropped for f in fates(t, 500, "n1", "n3"))
        assert all(f.dropped for f in fates(t, 500, "n2", "n3"))

    def test_constant_delay(self) -> None:
        """delay 50ms without jitter delays every message by exactly 50ms."""
        t = FaultTable()
        t.add(delay_rule(0.05), 0)
        assert all(f.delays == (pytest.approx(0.05),) and f.delayed for f in fates(t, 100, step=0.01))

    def test_uniform_jitter(self) -> None:
        """Uniform jitter spreads delays over delay ± jitter, centred on the delay."""
        t = FaultTable(seed=2, fifo=False)
        t.add(delay_rule(0.05, jitter_s=0.01), 0)
        delays = [f.delays[0] for f in fates(t, 5000)]
        assert 0.04 <= min(delays) < 0.0405 and 0.0595 < max(delays) <= 0.06
        assert statistics.mean(delays) == pytest.approx(0.05, abs=0.0005)

    def test_normal_jitter(self) -> None:
        """Normal jitter has the delay as mean and the jitter as standard deviation."""
        t = FaultTable(seed=3, fifo=False)
        t.add(delay_rule(0.1, jitter_s=0.01, dist="normal"), 0)
        delays = [f.delays[0] for f in fates(t, 5000)]
        assert statistics.mean(delays) == pytest.approx(0.1, abs=0.001)
        assert statistics.stdev(delays) == pytest.approx(0.01, rel=0.05)

    def test_delay_never_negative(self) -> None:
        """Jitter larger than the delay never gives a negative delay."""
        t = FaultTable(seed=4, fifo=False)
        t.add(delay_rule(0.001, jitter_s=0.05, dist="normal"), 0)
        assert min(f.delays[0] for f in fates(t, 2000)) == 0.0

    def test_duplicate_rate(self) -> None:
        """duplicate 5% makes about 500 extra copies of 10,000 messages, each a second delivery."""
        t = FaultTable(seed=5)
        t.add(duplicate_rule(0.05), 0)
        fs = fates(t, 10_000)
        dups = [f for f in fs if f.duplicated]
        assert 420 <= len(dups) <= 580
        assert all(len(f.delays) == 2 and f.duplicated == 1 for f in dups)

    def test_reorder_lets_later_messages_overtake(self) -> None:
        """A reordered message is held back, and messages sent after it are released before it."""
        t = FaultTable(seed=6, reorder_hold_s=0.1)
        t.add(reorder_rule(0.2), 0)
        fs = fates(t, 1000, step=0.01)
        release = [i * 0.01 + f.delays[0] for i, f in enumerate(fs)]
        held = [i for i, f in enumerate(fs) if f.reordered]
        assert 150 <= len(held) <= 250
        assert all(0.05 <= fs[i].delays[0] <= 0.1 for i in held)
        followed = [i for i in held if i + 1 < len(fs) and not fs[i + 1].reordered]
        assert followed and all(release[i + 1] < release[i] for i in followed)
        assert not any(f.delays[0] for f in fs if not f.reordered)

    def test_filters_by_link(self) -> None:
        """--from and --to restrict a rule to matching links."""
        t = FaultTable()
        t.add(drop_rule(1.0, src="n1", dst="n2"), 0)
        assert t.fate("n1", "n2", 0).dropped
        assert not t.fate("n2", "n1", 0).dropped
        assert not t.fate("n1", "n3", 0).dropped


class TestComposition:
    def test_drop_and_delay(self) -> None:
        """Messages that survive a drop rule meet a delay rule after it."""
        t = FaultTable(seed=7)
        t.add(drop_rule(0.5), 0)
        t.add(delay_rule(0.02), 0)
        fs = fates(t, 2000, step=0.05)
        survivors = [f for f in fs if not f.dropped]
        assert 900 <= len(survivors) <= 1100
        assert all(f.delays == (pytest.approx(0.02),) for f in survivors)

    def test_duplicate_then_delay_delays_each_copy(self) -> None:
        """A delay rule after a duplicate rule delays both copies."""
        t = FaultTable(seed=8)
        t.add(duplicate_rule(1.0), 0)
        t.add(delay_rule(0.03), 0)
        f = t.fate("n1", "n2", 0)
        assert f.delays == (pytest.approx(0.03), pytest.approx(0.03)) and f.delayed and f.duplicated == 1

    def test_blackhole_wins_over_everything(self) -> None:
        """A partition drops the message whatever other rules say, even if added later."""
        t = FaultTable()
        t.add(duplicate_rule(1.0), 0)
        t.add(blackhole_rule("n1", "n2"), 0)
        assert t.fate("n1", "n2", 0).blackholed

    def test_two_delays_add_up(self) -> None:
        """Two matching delay rules add their delays."""
        t = FaultTable()
        t.add(delay_rule(0.01), 0)
        t.add(delay_rule(0.02, src="n1"), 0)
        assert t.fate("n1", "n2", 0).delays == (pytest.approx(0.03),)
        assert t.fate("n2", "n1", 0).delays == (pytest.approx(0.01),)

    def test_one_rule_with_several_effects(self) -> None:
        """A single rule may drop, delay and duplicate at once."""
        t = FaultTable(seed=9)
        t.add(LinkRule(drop=0.5, delay_ms=10, duplicate=1.0), 0)
        survivors = [f for f in fates(t, 200, step=0.05) if not f.dropped]
        assert survivors and all(f.delays == (pytest.approx(0.01),) * 2 for f in survivors)


class TestFifo:
    def test_jitter_keeps_link_order(self) -> None:
        """With jitter, messages on one link are still released in the order they were sent."""
        t = FaultTable(seed=10)
        t.add(delay_rule(0.05, jitter_s=0.02), 0)
        release = [i * 0.001 + f.delays[0] for i, f in enumerate(fates(t, 2000))]
        assert release == sorted(release)

    def test_no_fifo_lets_jitter_reorder(self) -> None:
        """With fifo=False, jitter alone reorders messages, as netem does."""
        t = FaultTable(seed=10, fifo=False)
        t.add(delay_rule(0.05, jitter_s=0.02), 0)
        release = [i * 0.001 + f.delays[0] for i, f in enumerate(fates(t, 2000))]
        assert release != sorted(release)

    def test_messages_wait_behind_delayed_ones_after_clear(self) -> None:
        """A message sent just after a delay rule is cleared waits for the delayed ones before it."""
        t = FaultTable()
        t.add(delay_rule(0.5), 0)
        t.fate("n1", "n2", 0.0)
        t.clear()
        assert t.fate("n1", "n2", 0.1).delays == (pytest.approx(0.4),)
        assert t.fate("n1", "n2", 1.0).delays == (0.0,)

    def test_unhold_after_removing_a_delay_frees_the_link(self) -> None:
        """Once the proxy released what a removed delay held, later messages go at once."""
        t = FaultTable()
        rule_id = t.add(delay_rule(50.0), 0)
        t.fate("n1", "n2", 0.0)
        held_on = t.unhold(t.remove([rule_id]))
        assert held_on("n1", "n2") and held_on("n3", "n1")
        assert t.fate("n1", "n2", 0.1).delays == (0.0,)

    def test_unhold_only_for_rules_that_hold(self) -> None:
        """Removing a drop or partition rule releases nothing and keeps the link's order."""
        t = FaultTable()
        t.add(delay_rule(0.5, dst="n2"), 0)
        drop_id = t.add(drop_rule(0.0001, dst="n2"), 0)
        t.fate("n1", "n2", 0.0)
        held_on = t.unhold(t.remove([drop_id]))
        assert not held_on("n1", "n2")
        assert t.fate("n1", "n2", 0.1).delays[0] >= 0.4

    def test_unhold_leaves_other_links_alone(self) -> None:
        """A delay on n1->n2 removed: n1->n3, held by another rule, keeps its order."""
        t = FaultTable()
        a = t.add(delay_rule(0.5, dst="n2"), 0)
        t.add(delay_rule(0.5, dst="n3"), 0)
        t.fate("n1", "n2", 0.0)
        t.fate("n1", "n3", 0.0)
        held_on = t.unhold(t.remove([a]))
        assert held_on("n1", "n2") and not held_on("n1", "n3")
        assert t.fate("n1", "n3", 0.1).delays[0] >= 0.5

    def test_other_links_do_not_wait(self) -> None:
        """Ordering is per link: a delay on n1->n2 does not hold up n1->n3."""
        t = FaultTable()
        t.add(delay_rule(0.5, dst="n2"), 0)
        t.fate("n1", "n2", 0.0)
        assert t.fate("n1", "n3", 0.0).delays == (0.0,)


class TestDeterminism:
    @staticmethod
    def _table(seed: int) -> FaultTable:
        t = FaultTable(seed=seed)
        t.add(drop_rule(0.3), 0)
        t.add(delay_rule(0.02, jitter_s=0.01), 0)
        t.add(duplicate_rule(0.1), 0)
        t.add(reorder_rule(0.1), 0)
        return t

    def test_same_seed_same_fates(self) -> None:
        """Two tables with the same seed give the same fate to every message."""
        assert fates(self._table(42), 500) == fates(self._table(42), 500)

    def test_different_seed_different_fates(self) -> None:
        """A different seed gives a different sequence of fates."""
        assert fates(self._table(42), 500) != fates(self._table(43), 500)

    def test_links_are_independent(self) -> None:
        """Traffic on other links does not change the fates on a link."""
        quiet, busy = self._table(1), self._table(1)
        alone = fates(quiet, 300)
        mixed = []
        for i in range(300):
            now = i * 0.001
            busy.fate("n2", "n1", now)
            busy.fate("n1", "n3", now)
            if i % 3 == 0:
                busy.fate("n3", "n2", now)
            mixed.append(busy.fate("n1", "n2", now))
        assert mixed == alone

    def test_each_direction_has_its_own_stream(self) -> None:
        """The two directions of a link draw from different random streams."""
        t = self._table(1)
        assert fates(t, 300, "n1", "n2") != fates(t, 300, "n2", "n1")

    def test_rule_seed_overrides_table_seed(self) -> None:
        """A rule with its own seed gives the same fates whatever the table's seed and the rule's id."""
        a, b = FaultTable(seed=1), FaultTable(seed=2)
        a.add(drop_rule(0.5, seed=77), 0)
        b.add(drop_rule(0.9), 0)
        b.remove(["f1"])
        b.add(drop_rule(0.5, seed=77), 0)  # id f2 here, f1 in a
        assert fates(a, 300) == fates(b, 300)

    def test_readding_a_rule_restarts_its_stream(self) -> None:
        """Removing and re-adding a seeded rule replays the same fates from the start."""
        t = FaultTable()
        t.add(drop_rule(0.5, seed=5), 0)
        first = fates(t, 100)
        t.clear()
        t.add(drop_rule(0.5, seed=5), 1.0)
        assert fates(t, 100, start=1.0) == first

    def test_stable_across_processes(self) -> None:
        """Fates do not depend on Python's per-process hash randomisation."""
        code = ("from chaoslab.net.rules import FaultTable, drop_rule\n"
                "t = FaultTable(seed=3); t.add(drop_rule(0.5), 0)\n"
                "print(''.join('x' if t.fate('n1', 'n2', 0).dropped else '.' for _ in range(64)))")
        outputs = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": str(h)},
                                  capture_output=True, text=True, check=True).stdout for h in (1, 2)}
        here = FaultTable(seed=3)
        here.add(drop_rule(0.5), 0)
        assert outputs == {"".join("x" if here.fate("n1", "n2", 0).dropped else "." for _ in range(64)) + "\n"}

    def test_derive_seed_is_stable(self) -> None:
        """derive_seed is a fixed function of its parts, fitting in 64 bits."""
        assert derive_seed(1, "n1", "n2") == derive_seed(1, "n1", "n2") != derive_seed(1, "n2", "n1")
        assert 0 <= derive_seed("x") < 2**64


class TestCounters:
    def test_counters_add_up(self) -> None:
        """Once everything in flight is delivered, sent == (delivered - duplicated) + dropped."""
        t = FaultTable(seed=11)
        t.add(drop_rule(0.2), 0)
        t.add(duplicate_rule(0.1), 0)
        t.add(delay_rule(0.01), 0)
        t.add(reorder_rule(0.05), 0)
        pending = []
        for i in range(2000):
            f = t.fate("n1", "n2", i * 0.001)
            pending.append(f)
        c = t.counters("n1", "n2", 2.0)
        assert c.sent == 2000 and c.in_flight == sum(len(f.delays) for f in pending)
        for f in pending:
            deliver_all(t, "n1", "n2", f, 2.0)
        c = t.counters("n1", "n2", 2.0)
        assert c.in_flight == 0
        assert c.sent == (c.delivered - c.duplicated) + c.dropped
        assert c.dropped == sum(f.dropped for f in pending)
        assert c.duplicated == sum(f.duplicated for f in pending)
        assert c.delayed == sum(f.delayed for f in pending) == 2000 - c.dropped
        assert c.reordered == sum(f.reordered for f in pending) > 0
        assert c.bytes == 10 * c.delivered

    def test_undeliverable_counts_as_dropped(self) -> None:
        """A copy the receiver could not take counts as dropped, keeping the sum right."""
        t = FaultTable()
        t.add(duplicate_rule(1.0), 0)
        f = t.fate("n1", "n2", 0.0)
        t.delivered("n1", "n2", 0.0, 5)
        t.undeliverable("n1", "n2")
        c = t.counters("n1", "n2", 0.0)
        assert (c.sent, c.delivered, c.duplicated, c.dropped, c.in_flight) == (1, 1, 1, 1, 0)
        assert c.sent == (c.delivered - c.duplicated) + c.dropped
        assert len(f.delays) == 2

    def test_blackholed_messages_are_dropped(self) -> None:
        """Blackholed messages count as sent and dropped, never delivered."""
        t = FaultTable()
        t.add(blackhole_rule(), 0)
        fates(t, 7)
        c = t.counters("n1", "n2", 1.0)
        assert (c.sent, c.dropped, c.delivered, c.bytes) == (7, 7, 0, 0)

    def test_unused_link_is_zero(self) -> None:
        """A link that never carried a message has zero counters and is not listed."""
        t = FaultTable()
        assert t.counters("n1", "n2", 0) == LinkCounters("n1", "n2")
        assert t.links(0) == []
        t.fate("n3", "n4", 0)
        assert [(c.src, c.dst) for c in t.links(0)] == [("n3", "n4")]

    def test_rate_over_recent_window(self) -> None:
        """The rate is deliveries per second over the recent window, and decays to 0 when traffic stops."""
        t = FaultTable(rate_window_s=5.0)
        for i in range(1000):  # 100 messages/s for 10 s
            now = i * 0.01
            t.fate("n1", "n2", now)
            t.delivered("n1", "n2", now)
        assert t.counters("n1", "n2", 10.0).rate == pytest.approx(100, rel=0.05)
        assert t.counters("n1", "n2", 12.5).rate == pytest.approx(50, rel=0.15)
        assert t.counters("n1", "n2", 16.0).rate == 0

    def test_rate_of_a_young_link(self) -> None:
        """A link one second old is not averaged over the whole window."""
        t = FaultTable(rate_window_s=5.0)
        for i in range(200):  # 200 messages/s for 1 s
            t.delivered("n1", "n2", 100.0 + i * 0.005)
        assert t.counters("n1", "n2", 101.0).rate == pytest.approx(200, rel=0.4)

    def test_clear_keeps_counters(self) -> None:
        """clear() removes rules but not the counters already gathered."""
        t = FaultTable()
        t.add(drop_rule(1.0), 0)
        fates(t, 3)
        t.clear()
        assert t.counters("n1", "n2", 1).dropped == 3


class TestDeliveryQueue:
    def test_pop_where_takes_matching_items_in_order(self) -> None:
        """pop_where takes what it is asked for, earliest first, and leaves the rest due as before."""
        q: DeliveryQueue[str] = DeliveryQueue()
        for at, item in [(3.0, "a3"), (1.0, "b1"), (2.0, "a2"), (2.0, "a2bis"), (0.5, "b0")]:
            q.push(at, item)
        assert q.pop_where(lambda item: item.startswith("a")) == ["a2", "a2bis", "a3"]
        assert q.next_due() == 0.5 and len(q) == 2
        assert q.pop_due(10.0) == ["b0", "b1"]

    def test_releases_in_time_then_arrival_order(self) -> None:
        """Items come out by release time, and equal times in the order they were pushed."""
        q: DeliveryQueue[str] = DeliveryQueue()
        q.push(2.0, "c")
        q.push(1.0, "a")
        q.push(1.0, "b")
        q.push(3.0, "d")
        assert q.next_due() == 1.0 and len(q) == 4
        assert q.pop_due(0.5) == []
        assert q.pop_due(2.0) == ["a", "b", "c"]
        assert q.next_due() == 3.0
        assert q.pop_due(9.0) == ["d"] and q.next_due() is None and len(q) == 0

    def test_with_fates_keeps_link_order(self) -> None:
        """Pushing each copy at now + delay and popping in time order keeps every link in order."""
        t = FaultTable(seed=12)
        t.add(delay_rule(0.02, jitter_s=0.02), 0)
        q: DeliveryQueue[tuple[str, int]] = DeliveryQueue()
        for i in range(500):
            now = i * 0.001
            for link in ("a", "b"):
                for d in t.fate(link, "z", now).delays:
                    q.push(now + d, (link, i))
        out = q.pop_due(10.0)
        for link in ("a", "b"):
            seq = [i for lk, i in out if lk == link]
            assert seq == sorted(seq) and len(seq) == 500


class TestApply:
    def test_change_order(self) -> None:
        """A change clears, heals, removes, then adds, and reports what it removed and added."""
        t = FaultTable()
        t.add(blackhole_rule("n1", "n2"), 0)
        t.add(drop_rule(0.1), 0)
        t.add(delay_rule(0.1), 0)
        removed, added = t.apply(FaultChange(heal=True, remove=("f2",), add=(duplicate_rule(0.1),)), 0)
        assert [r.id for r in removed] == ["f1", "f2"]
        assert [r.id for r in added] == ["f4"]
        assert [r.kind for r in t.rules()] == ["delay", "duplicate"]

    def test_clear_all_then_add(self) -> None:
        """clear_all empties the table before the additions."""
        t = FaultTable()
        t.add(drop_rule(0.1), 0)
        removed, added = t.apply(FaultChange(clear_all=True, add=(drop_rule(0.2),)), 0)
        assert len(removed) == 1 and [r.drop for r in t.rules()] == [0.2]

    def test_bad_change_leaves_table_unchanged(self) -> None:
        """An unknown id or an already-expired rule fails the whole change, and nothing moves."""
        t = FaultTable()
        t.add(blackhole_rule(), 0)
        before = t.rules()
        with pytest.raises(ValueError, match="no fault 'f7'"):
            t.apply(FaultChange(heal=True, remove=("f7",)), 0)
        with pytest.raises(ValueError, match="expire at once"):
            t.apply(FaultChange(heal=True, add=(drop_rule(0.1, expires_at=1.0),)), 5.0)
        assert t.rules() == before

    def test_groups_from_change(self) -> None:
        """The partition groups of a change are shown while its partition rules are active."""
        t = FaultTable()
        t.apply(FaultChange(add=(blackhole_rule("n1", "n2"), blackhole_rule("n2", "n1")),
                            partition_groups=("n1", "n2,n3")), 0)
        assert t.state(0).partition_groups == ("n1", "n2,n3")
        t.apply(FaultChange(heal=True), 0)
        assert t.state(0).partition_groups == ()


class TestProto:
    def test_rule_round_trip(self) -> None:
        """A rule survives the trip to chaoslab.v1.LinkRule and back."""
        rule = LinkRule(id="f3", src=("n1",), dst=("n2", "n3"), kind="delay", delay_ms=50, jitter_ms=10,
                        jitter_dist="normal", seed=2**64 - 1, expires_at=1.7e9, label="slow link")
        msg = to_proto(rule)
        assert isinstance(msg, pb.LinkRule) and list(msg.dst) == ["n2", "n3"]
        assert from_proto(pb.LinkRule.FromString(msg.SerializeToString())) == rule

    def test_bad_rule_from_proto(self) -> None:
        """A proto rule with out-of-range values is refused when read."""
        with pytest.raises(ValueError):
            from_proto(pb.LinkRule(drop=1.5))

    def test_state_round_trip(self) -> None:
        """A table's state converts to chaoslab.v1.FaultState and back unchanged."""
        t = FaultTable(seed=1)
        t.add_all([blackhole_rule("n1", "n2")], 0, partition_groups=["n1", "n2"])
        t.add(drop_rule(0.25, src="n3"), 0)
        for i in range(50):
            f = t.fate("n3", "n1", i * 0.01)
            deliver_all(t, "n3", "n1", f, i * 0.01)
        t.fate("n1", "n2", 0.5)
        state = t.state(0.5)
        msg = to_proto(state)
        assert isinstance(msg, pb.FaultState) and list(msg.partition_groups) == ["n1", "n2"]
        back = from_proto(pb.FaultState.FromString(msg.SerializeToString()))
        assert back == state and isinstance(back, FaultState)

    def test_change_round_trip(self) -> None:
        """A change converts to chaoslab.v1.FaultChange and back unchanged."""
        change = FaultChange(heal=True, add=(drop_rule(0.1, label="drop 10%"),), remove=("f1", "f2"),
                             partition_groups=("n1,n2", "n3"))
        assert from_proto(to_proto(change)) == change

    def test_unknown_types(self) -> None:
        """Converting something that is not a fault message is a TypeError."""
        with pytest.raises(TypeError):
            to_proto(object())
        with pytest.raises(TypeError):
            from_proto(pb.Empty())

"""Bully in the simulator: it elects the highest live id, bullies back, splits under a
partition (and, with quorum, does not), over hundreds of seeds; planted bugs are caught."""

from __future__ import annotations

import dataclasses

import pytest

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.bully.core import BullyNode
from chaoslab.algorithms.bully.messages import BullyElection, BullyHeartbeatReply
from chaoslab.algorithms.registry import get_algorithm
from chaoslab.sim import InvariantViolation, Simulation, invariants_for, run_scenario

QUORUM = {"quorum": True}


def checked(sim: Simulation) -> Simulation:
    for invariant in invariants_for(sim.spec):
        sim.add_invariant(invariant)
    return sim


def all_follow(leader: str):
    def check(sim: Simulation) -> bool:
        statuses = sim.statuses()
        return sim.leaders().keys() == {leader} and all(s["leader"] == leader for s in statuses.values())

    return check


class TestElection:
    def test_the_highest_id_coordinates(self) -> None:
        """Five nodes start; all follow n5, the highest priority, in epoch 1."""
        sim = checked(Simulation("bully", 5, seed=1))
        assert sim.run_until(all_follow("n5"), 1.0)
        assert sim.leaders() == {"n5": 1}

    def test_failover_and_bully_back(self) -> None:
        """Crash n5: n4 takes over within a second; restart n5: it takes over again at a newer epoch."""
        sim = checked(Simulation("bully", 5, seed=2))
        assert sim.run_until(all_follow("n5"), 1.0)
        sim.crash("n5")
        crashed = sim.now
        assert sim.run_until(all_follow("n4"), 1.5)
        assert sim.now - crashed < 1.0
        epoch = sim.leaders()["n4"]
        sim.restart("n5")
        assert sim.run_until(all_follow("n5"), 0.5)
        assert sim.leaders()["n5"] > epoch

    def test_restart_never_reuses_an_epoch(self) -> None:
        """A coordinator crashed and restarted announces a newer epoch than any it announced before."""
        sim = checked(Simulation("bully", 3, seed=3))
        assert sim.run_until(all_follow("n3"), 1.0)
        first = sim.leaders()["n3"]
        sim.crash("n3")
        sim.restart("n3")
        assert sim.run_until(all_follow("n3"), 1.0)
        assert sim.leaders()["n3"] > first

    def test_two_nodes(self) -> None:
        """The smallest cluster: n2 leads, n1 takes over when it dies."""
        sim = checked(Simulation("bully", 2, seed=4))
        assert sim.run_until(all_follow("n2"), 1.0)
        sim.crash("n2")
        assert sim.run_until(all_follow("n1"), 1.5)


class TestSplitBrain:
    def test_each_side_elects_its_own_then_one_after_heal(self) -> None:
        """Plain Bully: partition n1,n2 | n3,n4,n5 gives two coordinators (n2 and n5); after heal, only n5."""
        sim = checked(Simulation("bully", 5, seed=5))
        assert sim.run_until(all_follow("n5"), 1.0)
        sim.partition([["n1", "n2"], ["n3", "n4", "n5"]])
        assert sim.run_until(lambda s: s.leaders().keys() == {"n2", "n5"}, 2.0)
        sim.run_for(1.0)
        assert sim.leaders().keys() == {"n2", "n5"}  # it stays split: that is Bully
        sim.heal()
        assert sim.run_until(all_follow("n5"), 1.0)

    def test_quorum_leaves_the_minority_without_a_coordinator(self) -> None:
        """quorum=true: the same partition leaves one coordinator (n3, highest of the majority);
        the minority side's n2 never leads; after heal n5 leads again."""
        sim = checked(Simulation("bully", 5, seed=5, config=QUORUM))
        assert sim.run_until(all_follow("n5"), 1.5)
        sim.partition([["n1", "n2", "n3"], ["n4", "n5"]])
        assert sim.run_until(lambda s: s.leaders().keys() == {"n3"}, 3.0)
        for _ in range(30):
            sim.run_for(0.1)
            assert sim.leaders().keys() <= {"n3"}
        sim.heal()
        assert sim.run_until(all_follow("n5"), 2.0)


class TestOverManySeeds:
    @pytest.mark.parametrize("seed", range(300))
    def test_nemesis_then_settle(self, seed: int) -> None:
        """Random partitions, crashes, restarts and loss; invariants hold every step, and after
        healing the highest live id coordinates, followed by all."""
        result = run_scenario("bully", seed=seed, nodes=5, duration=6.0, nemesis=True, settle=4.0)
        assert result.ok, result.summary()

    @pytest.mark.parametrize("seed", range(300))
    def test_nemesis_then_settle_with_quorum(self, seed: int) -> None:
        """The same with quorum=true: also never two coordinators in one epoch, partitions or not."""
        result = run_scenario("bully", seed=seed, nodes=5, duration=6.0, nemesis=True, settle=4.0, config=QUORUM)
        assert result.ok, result.summary()

    @pytest.mark.parametrize("seed", range(20))
    def test_lossy_network_still_settles(self, seed: int) -> None:
        """Without faults but with a quiet, connected start, 7 nodes settle and stay settled."""
        result = run_scenario("bully", seed=seed, nodes=7, duration=5.0, settle=2.0)
        assert result.ok, result.summary()


def broken(core: type) -> object:
    return dataclasses.replace(get_algorithm("bully"), factory=lambda n, ns, c, r, d: core(n, ns, c, r, d))


class TestPlantedBugs:
    def test_a_coordinator_that_ignores_a_higher_one_is_caught(self) -> None:
        """Planted bug: a coordinator ignores everything but ELECTIONs from below (so never hears
        of a higher id or a newer epoch). After n5 crashes and comes back, n4 keeps leading beside
        it: two coordinators in a connected, settled network, and the invariant says so."""

        class Stubborn(BullyNode):
            def step(self, src, message, now):
                if self.role == "coordinator" and not isinstance(message, BullyElection):
                    return Output()
                return super().step(src, message, now)

        sim = checked(Simulation(broken(Stubborn), 5, seed=1))
        sim.run_for(2.0)
        sim.crash("n5")
        sim.run_for(2.0)
        with pytest.raises(InvariantViolation, match=r"coordinators \['n4', 'n5'\]"):
            sim.restart("n5")
            sim.run_for(6.0)

    def test_a_node_that_accepts_a_lower_coordinator_is_caught(self) -> None:
        """Planted bug: a node accepts a COORDINATOR (or heartbeat) from a lower id, and a restarted
        node waits to be told instead of holding an election: n5 comes back and follows n4, and the
        settled check sees n4 coordinate while n5, the highest live id, is alive."""

        class Meek(BullyNode):
            def start(self, now):
                if self.epoch == 0:
                    return super().start(now)
                self.role, self.last_heard = "member", now  # restarted: waits to be told
                return Output()

            def _claim(self, src, message, now, out):
                if self.rank[src] < self.priority and message.epoch >= self.epoch:
                    self._follow(src, message.epoch, now, out)  # the bug: follows a lower id
                    out.send(src, BullyHeartbeatReply(message.epoch, True))
                    return
                super()._claim(src, message, now, out)

        sim = checked(Simulation(broken(Meek), 5, seed=2))
        sim.run_for(2.0)
        sim.crash("n5")
        sim.run_for(2.0)
        with pytest.raises(InvariantViolation, match="highest live id is n5"):
            sim.restart("n5")
            sim.run_for(6.0)

    def test_a_node_that_votes_twice_in_one_epoch_is_caught(self) -> None:
        """Planted bug (quorum): a node follows any higher candidate whose epoch is not below its
        own, even one it did not accept in that epoch, so it votes twice in one epoch. With n2 and
        n3 unable to reach each other, both win epoch 1 with n1's vote, and the invariant fails."""

        class DoubleVoter(BullyNode):
            def _claim(self, src, message, now, out):
                if self.rank[src] > self.priority and message.epoch >= self.epoch:
                    self._follow(src, message.epoch, now, out)
                    out.send(src, BullyHeartbeatReply(message.epoch, True))
                    return
                super()._claim(src, message, now, out)

        sim = Simulation(broken(DoubleVoter), 3, seed=3, config=QUORUM)
        sim.block("n2", "n3")
        sim.block("n3", "n2")
        checked(sim)
        with pytest.raises(InvariantViolation, match="two coordinators in epoch 1 with quorum: n3 and n2"):
            sim.run_for(2.0)

    def test_the_correct_core_survives_the_same_cut(self) -> None:
        """The same non-transitive cut with the real core: coordinators may alternate, never in one epoch."""
        sim = Simulation("bully", 3, seed=3, config=QUORUM)
        sim.block("n2", "n3")
        sim.block("n3", "n2")
        checked(sim)
        sim.run_for(5.0)
        sim.heal()
        assert sim.run_until(all_follow("n3"), 2.0)

"""Raft under schedules chosen on purpose, with liveness checked as well as safety.

Every run goes through ``run_scenario`` with clients, so each one checks the invariants on
every step, that the history is linearizable, that no acknowledged write is lost, that a
majority-backed leader is up within six election timeouts of the last fault, and, where a
test says so, that writes keep committing (``max_stall``). The schedules: even-sized
clusters, crashes of a minority and of a majority, every order of restarting three crashed
nodes, a lossy but connected network, and fsync time with crashes right after votes,
acknowledgements and snapshots. Failures print the replay line.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from chaoslab.algorithms.kv import KVStore
from chaoslab.algorithms.raft import RaftNode, parse_config
from chaoslab.algorithms.registry import get_algorithm
from chaoslab.sim import NetworkConfig, ScenarioResult, run_scenario

LOSSY = NetworkConfig(drop=0.05, delay=(0.001, 0.020), duplicate=0.02)
FSYNC = 0.002  # seconds: the runtime's fsync on this machine is a few ms
# Longest stretch without a committed write that still counts as progress: a new election (up
# to six election timeouts, 1.8 s) or, under loss, clients that time out (0.3 s) and try another
# node. Measured: at most 2.0 s over 100 seeds of each progress test below.
STALL = 2.5


def run(seed: int, **kw: Any) -> ScenarioResult:
    args: dict[str, Any] = {"nodes": 5, "duration": 4.0, "settle": 6.0, "network": LOSSY, "workload": 3, **kw}
    result = run_scenario("raft", seed=seed, **args)
    assert result.ok, result.summary()
    assert result.linearizable is not None and result.linearizable.verdict == "valid"
    return result


def acked_writes(result: ScenarioResult, start: float, end: float) -> list[float]:
    assert result.workload is not None
    return [op.time for op in result.workload.history if op.type == "ok" and op.f != "get" and start <= op.time < end]


def aimed(seed: int) -> None:
    run(seed, nodes=3 + seed % 4, nemesis=True, fsync=FSYNC, crash_points=["all"], config={"snapshot_threshold": 20})


class TestCrashesThatLoseUnsyncedState:
    @pytest.mark.parametrize("seed", range(120), ids=lambda s: f"seed={s}")
    def test_fsync_time_with_crashes_right_after_votes_acks_and_snapshots(self, seed: int) -> None:
        """With 2 ms fsyncs (a crash loses what was not yet durable) and crashes aimed right after a
        vote, an ack of new entries or a snapshot, on top of the random nemesis, 3 to 6 nodes."""
        aimed(seed)

    @pytest.mark.slow
    @pytest.mark.parametrize("first", range(120, 2120, 250), ids=lambda s: f"seeds={s}+250")
    def test_many_seeds(self, first: int) -> None:
        """The same over two thousand more seeds (run with --run-slow)."""
        for seed in range(first, first + 250):
            aimed(seed)


class TestEvenSizedClusters:
    @pytest.mark.parametrize("nodes", [4, 6])
    @pytest.mark.parametrize("seed", range(30), ids=lambda s: f"seed={s}")
    def test_nemesis_on_even_clusters(self, nodes: int, seed: int) -> None:
        """Four and six nodes need three and four for a majority: a 2-2 or 3-3 split elects nobody,
        and the cluster still settles once it heals."""
        run(seed, nodes=nodes, nemesis=True)


MINORITY = {4: "leader", 5: "leader,follower", 6: "leader,follower"}  # the largest minority, leader in it
MAJORITY = {4: "n1,n2,n3", 5: "n1,n2,n3", 6: "n1,n2,n3"}  # 3 of 6 is no majority for the rest either


class TestMinorityAndMajority:
    @pytest.mark.parametrize("nodes", [4, 5, 6])
    @pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed={s}")
    def test_a_minority_down_with_the_leader_keeps_committing(self, nodes: int, seed: int) -> None:
        """The leader and a minority crash at 1 s and come back at 2.5 s: the others elect a leader and
        writes never stall for long."""
        schedule = f"1 crash {MINORITY[nodes]}; 2.5 restart all"
        result = run(seed, nodes=nodes, schedule=schedule, duration=3.0, fsync=FSYNC, max_stall=STALL)
        assert len([e for e in result.sim.events if e.kind == "crash"]) == (nodes - 1) // 2

    @pytest.mark.parametrize("nodes", [4, 5, 6])
    @pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed={s}")
    def test_a_majority_down_acknowledges_nothing_then_recovers(self, nodes: int, seed: int) -> None:
        """With half or more of the nodes crashed from 1 s to 2.5 s nothing is acknowledged in between
        (beyond replies already on their way); after the restarts a leader is up within the bound and
        writes commit again."""
        schedule = f"1 crash {MAJORITY[nodes]}; 2.5 restart all"
        result = run(seed, nodes=nodes, schedule=schedule, duration=4.0, fsync=FSYNC)
        assert acked_writes(result, 1.05, 2.5) == []
        assert acked_writes(result, 2.5, 4.0)


class TestRestartOrders:
    @pytest.mark.parametrize("order", list(itertools.permutations(["n1", "n2", "n3"])), ids="-".join)
    @pytest.mark.parametrize("seed", range(5), ids=lambda s: f"seed={s}")
    def test_all_three_crash_and_restart_in_every_order(self, order: tuple[str, ...], seed: int) -> None:
        """All three crash at once (with fsyncs in flight) and come back one by one in each order: no
        acknowledged write is lost, the history stays linearizable, and a leader is up within the
        bound after the last restart."""
        a, b, c = order
        schedule = f"1 crash n1,n2,n3; 1.3 restart {a}; 1.6 restart {b}; 1.9 restart {c}"
        result = run(seed, nodes=3, schedule=schedule, duration=1.9, fsync=FSYNC)
        assert acked_writes(result, 0.0, 1.0)  # there was something to lose


class TestProgress:
    @pytest.mark.parametrize("nodes", [3, 5])
    @pytest.mark.parametrize("seed", range(10), ids=lambda s: f"seed={s}")
    def test_writes_keep_committing_with_a_fifth_of_messages_lost(self, nodes: int, seed: int) -> None:
        """Lossy but connected (20% of messages dropped, no other fault): writes keep committing."""
        run(seed, nodes=nodes, network=NetworkConfig(drop=0.2, delay=(0.001, 0.020)), max_stall=STALL)

    def test_a_stall_is_reported(self) -> None:
        """The progress check has teeth: a majority down for 3 s is a stall past the bound."""
        result = run_scenario("raft", seed=0, nodes=3, duration=4.0, workload=3, schedule="0.5 crash n1,n2; 3.5 restart all",
                              max_stall=STALL, settle=6.0)
        assert not result.ok and "no write committed" in (result.violation or "")
        assert f"--max-stall {STALL:g}" in (result.violation or "")

    def test_an_isolated_leader_steps_down_and_the_rest_goes_on(self) -> None:
        """The check-quorum invariant holds for the real core: a leader cut off for 2.5 s steps down."""
        result = run(0, schedule="0.5 isolate leader; 3 heal", duration=3.5)
        assert any(e.kind == "lost_quorum" for e in result.sim.events)


class TestLeaderBound:
    def test_a_cluster_that_does_not_elect_after_the_last_fault_is_reported(self) -> None:
        """Nodes that never campaign again after a restart: the leader bound (six election timeouts
        after the last fault) catches it, with the replay line."""

        class Mute(RaftNode):
            def _hup(self, now: float, out: Any) -> None:
                if self.term == 0:
                    super()._hup(now, out)
                else:
                    self._reset_election_timer(now)

        spec = dataclasses.replace(get_algorithm("raft"),
                                   factory=lambda i, n, c, r, d: Mute(i, n, parse_config(c), r, d, KVStore()))
        result = run_scenario(spec, seed=1, nodes=3, duration=1.5, schedule="1 crash n1,n2,n3; 1.5 restart all",
                              settle=6.0)
        assert result.violation is not None
        assert "did not converge (the spec's leader bound: 1.8s)" in result.violation
        assert "replay: python -m chaoslab.sim" in result.violation

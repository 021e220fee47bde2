"""Raft elections in the deterministic simulator, over many seeds.

Safety (one leader per term, one vote per term, terms only grow) is checked
after every simulated step; liveness is "a leader backed by a majority
appears within a bound". Every failure message starts with its seed and ends
with the ``python -m chaoslab.sim ...`` line that replays it.

The fast profile runs a few hundred seeds per property; ``--run-slow`` adds
thousands more.
"""

from __future__ import annotations

import dataclasses
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chaoslab.algorithms.kv import KVStore
from chaoslab.algorithms.raft import RaftNode, parse_config
from chaoslab.algorithms.raft.durable import RaftDurable
from chaoslab.algorithms.registry import get_algorithm
from chaoslab.algorithms.raft.invariants import ElectionSafety, OneVotePerTerm, raft_converged
from chaoslab.sim import (
    InvariantViolation,
    Nemesis,
    NetworkConfig,
    Simulation,
    derive_rng,
    invariants_for,
    run_scenario,
)

FAST_SEEDS = range(300)
SLOW_SEEDS = range(300, 3300)
SLOW_CHUNK = 250

LOSSY = NetworkConfig(drop=0.05, delay=(0.001, 0.020), duplicate=0.02)
# Safety must hold whichever extensions are on; seeds cycle through all four.
CONFIGS = [
    {},
    {"pre_vote": False, "check_quorum": False},
    {"pre_vote": True, "check_quorum": False},
    {"pre_vote": False, "check_quorum": True},
]
SIZES = [3, 5, 5, 7]
ROOT = Path(__file__).resolve().parents[2]
ELECTION_BOUND = 2.0  # seconds of virtual time for a leader to appear, faults aside
SETTLE_BOUND = 3.0  # after the nemesis heals everything and restarts the crashed


def simulation(
    seed: int, nodes: int = 5, config: dict | None = None, network: NetworkConfig | None = None
) -> Simulation:
    sim = Simulation("raft", nodes, seed, config, network or NetworkConfig())
    for invariant in invariants_for("raft"):
        sim.add_invariant(invariant)
    return sim


def leader_of(sim: Simulation) -> str:
    leaders = [n for n, t in sim.leaders().items() if t == max(sim.leaders().values())]
    assert len(leaders) == 1, f"seed={sim.seed}: leaders {sim.leaders()}"
    return leaders[0]


def nemesis_run(seed: int) -> None:
    result = run_scenario(
        "raft",
        seed=seed,
        nodes=SIZES[seed % len(SIZES)],
        duration=5.0,
        nemesis=True,
        network=LOSSY,
        config=CONFIGS[seed % len(CONFIGS)],
        settle=SETTLE_BOUND,
    )
    assert result.ok, result.violation


def minority(sim: Simulation) -> list[str]:
    nodes = list(sim.node_ids)
    derive_rng(sim.seed, "test-minority").shuffle(nodes)
    return nodes[: (len(nodes) - 1) // 2]


class TestUnderNemesis:
    @pytest.mark.parametrize("seed", FAST_SEEDS, ids=lambda s: f"seed={s}")
    def test_safe_under_faults_and_settles_after_heal(self, seed: int) -> None:
        """Under random partitions, one-way blocks, crashes, reboots, drops, delays and duplicates,
        no term ever has two leaders and no server votes twice in a term (checked on every step);
        once the faults end a majority-backed leader appears within 3 s."""
        nemesis_run(seed)

    @pytest.mark.slow
    @pytest.mark.parametrize(
        "first", range(SLOW_SEEDS.start, SLOW_SEEDS.stop, SLOW_CHUNK), ids=lambda s: f"seeds={s}+{SLOW_CHUNK}"
    )
    def test_safe_under_faults_many_seeds(self, first: int) -> None:
        """The same property over thousands more seeds (run with --run-slow)."""
        for seed in range(first, first + SLOW_CHUNK):
            nemesis_run(seed)


class TestLiveness:
    @pytest.mark.parametrize("seed", FAST_SEEDS, ids=lambda s: f"seed={s}")
    def test_leader_within_bound_without_faults(self, seed: int) -> None:
        """With every node up and a clean network, a majority-backed leader appears within 2 s."""
        sim = simulation(seed, config=CONFIGS[seed % len(CONFIGS)])
        assert sim.run_until(raft_converged, ELECTION_BOUND), f"seed={seed}: no leader by t={sim.now}"

    @pytest.mark.parametrize("seed", FAST_SEEDS, ids=lambda s: f"seed={s}")
    def test_leader_within_bound_with_a_minority_cut_off(self, seed: int) -> None:
        """With a minority partitioned away and a lossy network, the majority elects a leader
        among itself within 2 s."""
        sim = simulation(seed, config=CONFIGS[seed % len(CONFIGS)], network=LOSSY)
        cut = minority(sim)
        sim.partition([cut])
        assert sim.run_until(raft_converged, ELECTION_BOUND), f"seed={seed}: no leader by t={sim.now}"
        assert leader_of(sim) not in cut

    @pytest.mark.slow
    @pytest.mark.parametrize(
        "first", range(SLOW_SEEDS.start, SLOW_SEEDS.stop, SLOW_CHUNK * 4), ids=lambda s: f"seeds={s}+{SLOW_CHUNK * 4}"
    )
    def test_leader_within_bound_with_a_minority_cut_off_many_seeds(self, first: int) -> None:
        """The same bound over thousands more seeds (run with --run-slow)."""
        for seed in range(first, first + SLOW_CHUNK * 4):
            self.test_leader_within_bound_with_a_minority_cut_off(seed)

    @pytest.mark.parametrize("seed", range(100), ids=lambda s: f"seed={s}")
    def test_leader_within_bound_with_a_minority_crashed(self, seed: int) -> None:
        """With a minority crashed from the start, the rest elect a leader within 2 s."""
        sim = simulation(seed, config=CONFIGS[seed % len(CONFIGS)], network=LOSSY)
        for node in minority(sim):
            sim.crash(node)
        assert sim.run_until(raft_converged, ELECTION_BOUND), f"seed={seed}: no leader by t={sim.now}"

    @pytest.mark.parametrize("seed", range(100), ids=lambda s: f"seed={s}")
    def test_new_leader_after_the_leader_crashes(self, seed: int) -> None:
        """When the leader crashes, the others elect a new one within 2 s; the old one rejoins as
        follower after a restart."""
        sim = simulation(seed, config=CONFIGS[seed % len(CONFIGS)], network=LOSSY)
        assert sim.run_until(raft_converged, ELECTION_BOUND), f"seed={seed}"
        old = leader_of(sim)
        sim.crash(old)
        assert sim.run_until(raft_converged, ELECTION_BOUND), f"seed={seed}: no new leader by t={sim.now}"
        new = leader_of(sim)
        assert new != old
        sim.restart(old)

        def old_follows_the_leader(s: Simulation) -> bool:
            status = s.status(old)
            return raft_converged(s) and status["role"] == "follower" and status["leader"] in s.leaders()

        assert sim.run_until(old_follows_the_leader, ELECTION_BOUND), f"seed={seed}"

    @pytest.mark.parametrize("seed", range(50), ids=lambda s: f"seed={s}")
    def test_single_node_cluster_leads_itself(self, seed: int) -> None:
        """A one-node cluster is leader right after its first election timeout."""
        sim = simulation(seed, nodes=1)
        assert sim.run_until(raft_converged, 0.3), f"seed={seed}"
        assert sim.leaders() == {"n1": 1}


class TestStability:
    @pytest.mark.parametrize("seed", range(50), ids=lambda s: f"seed={s}")
    def test_no_elections_once_a_leader_is_up(self, seed: int) -> None:
        """With no faults, the first leader keeps its term for 10 s: heartbeats hold off elections."""
        sim = simulation(seed)
        assert sim.run_until(raft_converged, ELECTION_BOUND), f"seed={seed}"
        leader, term = leader_of(sim), sim.status(leader_of(sim))["term"]
        sim.run_for(10.0)
        assert sim.leaders() == {leader: term}, f"seed={seed}"
        assert {s["term"] for s in sim.statuses().values()} == {term}, f"seed={seed}"

    @pytest.mark.parametrize("seed", range(50), ids=lambda s: f"seed={s}")
    def test_pre_vote_lets_an_isolated_follower_rejoin_quietly(self, seed: int) -> None:
        """Thesis §9.6: a follower cut off for 3 s does not bump its term, so on return it follows
        the same leader in the same term."""
        sim = simulation(seed)
        assert sim.run_until(raft_converged, ELECTION_BOUND), f"seed={seed}"
        leader = leader_of(sim)
        term = sim.status(leader)["term"]
        follower = next(n for n in sim.node_ids if n != leader)
        sim.isolate(follower)
        sim.run_for(3.0)
        assert sim.status(follower)["term"] == term, f"seed={seed}"
        sim.heal()
        sim.run_for(1.0)
        assert sim.leaders() == {leader: term}, f"seed={seed}"
        assert sim.status(follower)["leader"] == leader, f"seed={seed}"

    def test_without_pre_vote_an_isolated_follower_disrupts(self) -> None:
        """The contrast: with the paper's Raft the returning follower's higher term deposes the leader."""
        sim = simulation(1, config={"pre_vote": False, "check_quorum": False})
        assert sim.run_until(raft_converged, ELECTION_BOUND)
        leader = leader_of(sim)
        term = sim.status(leader)["term"]
        follower = next(n for n in sim.node_ids if n != leader)
        sim.isolate(follower)
        sim.run_for(3.0)
        assert sim.status(follower)["term"] > term + 3
        sim.heal()
        sim.run_for(ELECTION_BOUND)
        assert raft_converged(sim)
        assert max(sim.leaders().values()) > term + 3  # the cluster had to catch up with its term

    @pytest.mark.parametrize("seed", range(50), ids=lambda s: f"seed={s}")
    def test_check_quorum_makes_an_isolated_leader_step_down(self, seed: int) -> None:
        """Thesis §6.2: a leader cut off from the majority steps down within two minimum election
        timeouts, while the majority elects a new leader in a higher term."""
        sim = simulation(seed)
        assert sim.run_until(raft_converged, ELECTION_BOUND), f"seed={seed}"
        old = leader_of(sim)
        term = sim.status(old)["term"]
        sim.isolate(old)
        stepped = sim.run_until(lambda s: s.status(old)["role"] != "leader", 2 * 0.150 + 0.001)
        assert stepped, f"seed={seed}: {old} still leader at t={sim.now}"
        assert sim.run_until(raft_converged, ELECTION_BOUND), f"seed={seed}"
        new = leader_of(sim)
        assert new != old and sim.status(new)["term"] > term


class TestDeterminism:
    @pytest.mark.parametrize("seed", range(10), ids=lambda s: f"seed={s}")
    def test_same_seed_same_trace(self, seed: int) -> None:
        """Same seed, same run: the full trace, message by message, repeats exactly."""

        def trace() -> list[str]:
            return run_scenario(
                "raft", seed=seed, duration=3.0, nemesis=True, network=LOSSY, trace_messages=True
            ).sim.trace

        assert trace() == trace()

    def test_replay_command_reproduces_the_run(self) -> None:
        """The replay line a failure prints reruns the same scenario: identical trace from the shell."""
        seed = 13
        result = run_scenario(
            "raft", seed=seed, nodes=5, duration=3.0, nemesis=True, network=LOSSY, config=CONFIGS[seed % 4]
        )
        argv = shlex.split(result.replay)
        assert argv[:3] == ["python", "-m", "chaoslab.sim"]
        proc = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[: len(result.sim.trace)] == result.sim.trace

    def test_different_seeds_different_traces(self) -> None:
        """Different seeds give different runs (the event traces of 50 seeds are pairwise distinct)."""
        traces = {tuple(run_scenario("raft", seed=s, duration=2.0).sim.trace) for s in range(50)}
        assert len(traces) == 50


def broken(factory: Callable[..., RaftNode]):
    return dataclasses.replace(get_algorithm("raft"), factory=factory)


class TestCheckersHaveTeeth:
    def test_a_core_that_votes_twice_is_caught(self) -> None:
        """A core that forgets its vote when asked again is caught by the invariants within a few seeds,
        and the message names the seed."""

        class Promiscuous(RaftNode):
            def _handle_vote_request(self, src, m, now, out):  # type: ignore[no-untyped-def]
                if not m.pre_vote:
                    self.voted_for = None
                super()._handle_vote_request(src, m, now, out)

        spec = broken(lambda i, n, c, r, d: Promiscuous(i, n, parse_config(c), r, d, KVStore()))
        failures = []
        for seed in range(10):
            result = run_scenario(spec, seed=seed, duration=5.0, nemesis=True, network=LOSSY)
            if not result.ok:
                failures.append(result.violation)
        assert failures
        assert all(f.startswith("[seed=") and "replay: python -m chaoslab.sim" in f for f in failures)

    def test_two_leaders_in_a_term_are_caught(self) -> None:
        """ElectionSafety alone flags a second leader in a term."""
        sim = Simulation("raft", 3, seed=0)
        sim.add_invariant(ElectionSafety())
        assert sim.run_until(raft_converged, ELECTION_BOUND)
        leader = leader_of(sim)
        term = sim.status(leader)["term"]
        impostor = next(n for n in sim.node_ids if n != leader)
        sim._record(impostor, "role", {"role": "leader", "term": term})
        with pytest.raises(InvariantViolation, match=rf"election safety: {leader} and {impostor}"):
            sim.step()

    def test_a_vote_forgotten_in_a_reboot_is_caught(self) -> None:
        """OneVotePerTerm flags a node that votes again in a term after a restart lost its vote."""

        def forget_vote(d: RaftDurable) -> RaftDurable:
            d.hard_state.voted_for = None
            return d

        spec = broken(lambda i, n, c, r, d: RaftNode(i, n, parse_config(c), r, forget_vote(d), KVStore()))
        for seed in range(400):  # seeds 374 and 395 catch it (one in ~150 does)
            sim = Simulation(spec, 5, seed, {"check_quorum": False}, LOSSY)
            sim.add_invariant(OneVotePerTerm())
            Nemesis(sim, faults=("bounce", "partition", "heal"), interval=(0.05, 0.3)).schedule(0.0, 5.0)
            try:
                sim.run_for(5.0)
            except InvariantViolation as e:
                assert "double vote" in str(e) and str(e).startswith(f"[seed={seed},")
                return
        pytest.fail("a forgotten vote went unnoticed in 400 seeds")

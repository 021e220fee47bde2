"""The simulator's own mechanics, shown with a tiny "pinger" core (not Raft).

Every pinger sends ``Ping(seq)`` to each peer every 100 ms and records what it
receives, so each network fault has a directly visible effect.
"""

from __future__ import annotations

import dataclasses

import hashlib
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.registry import AlgorithmSpec
from chaoslab.sim import InvariantViolation, Nemesis, NetworkConfig, Simulation, derive_rng
from chaoslab.sim.__main__ import main

INTERVAL = 0.1
ROOT = Path(__file__).resolve().parents[2]


@dataclass(slots=True)
class Ping:
    seq: int


class Pinger:
    def __init__(self, node_id: str, nodes: list[str], config: Any, rng: Any, durable: Any) -> None:
        self.node_id = node_id
        self.peers = [n for n in nodes if n != node_id]
        self.boots = (durable or {}).get("boots", 0) + 1
        self.token = rng.random()  # shows which rng a boot got
        self.seq = 0
        self.got: list[tuple[str, int, float]] = []
        self.next = 0.0

    def start(self, now: float) -> Output:
        out = Output(persist={"boots": self.boots})
        self.next = now + INTERVAL
        return out

    def tick(self, now: float) -> Output:
        out = Output()
        if now >= self.next:
            self.seq += 1
            for peer in self.peers:
                out.send(peer, Ping(self.seq))
            self.next = now + INTERVAL
        return out

    def step(self, src: str, message: Any, now: float) -> Output:
        self.got.append((src, message.seq, now))
        out = Output()
        out.event("got", src=src, seq=message.seq)
        return out

    def next_deadline(self) -> float:
        return self.next

    def status(self, now: float) -> dict[str, Any]:
        return {"role": "member", "term": 0, "leader": "", "last_heard_s": -1.0}


PINGER = AlgorithmSpec(
    name="pinger",
    summary="test core",
    factory=Pinger,
    message_types=(Ping,),
    roles={"member": "follow"},
    ready=lambda statuses: True,
)


def sim_of(nodes: int = 3, seed: int = 1, **network: Any) -> Simulation:
    return Simulation(PINGER, nodes, seed, network=NetworkConfig(**network))


def core(sim: Simulation, node: str) -> Pinger:
    c = sim.nodes[node]
    assert isinstance(c, Pinger)
    return c


def senders(sim: Simulation, node: str, after: float = 0.0) -> set[str]:
    return {src for src, _, t in core(sim, node).got if t > after}


class TestVirtualTime:
    def test_run_for_advances_exactly(self) -> None:
        """run_for(s) processes everything due and leaves the clock at exactly now + s."""
        sim = sim_of()
        sim.run_for(1.0)
        assert sim.now == 1.0
        # pings 1..9 left at 0.1 .. 0.9 s and arrived; ping 10 leaves at 1.0 s and is still in flight
        assert sorted(seq for src, seq, _ in core(sim, "n1").got if src == "n2") == list(range(1, 10))

    def test_deliveries_respect_the_delay_range(self) -> None:
        """Every message arrives within [min, max) of its send time."""
        sim = sim_of(delay=(0.02, 0.03))
        sim.run_for(2.0)
        got = core(sim, "n2").got
        assert len(got) == 2 * 19
        for _, seq, t in got:  # ping seq leaves at seq * 100 ms
            assert 0.02 - 1e-9 <= t - seq * INTERVAL < 0.03 + 1e-9

    def test_run_until_reports_the_predicate(self) -> None:
        """run_until returns True as soon as the predicate holds, False (at now + timeout) otherwise."""
        sim = sim_of()
        assert sim.run_until(lambda s: len(core(s, "n1").got) >= 4, timeout=5.0)
        assert sim.now < 0.5
        start = sim.now
        assert not sim.run_until(lambda s: False, timeout=0.3)
        assert sim.now == pytest.approx(start + 0.3)

    def test_scheduled_actions_run_at_their_time(self) -> None:
        """sim.at(t, fn) runs fn(sim) at virtual time t."""
        sim = sim_of()
        seen: list[float] = []
        sim.at(0.25, lambda s: seen.append(s.now))
        sim.run_for(1.0)
        assert seen == [0.25]

    def test_a_core_that_never_advances_its_deadline_is_stopped(self) -> None:
        """A core asking to be ticked at the same instant forever is a bug reported, not a hang."""

        class Stuck(Pinger):
            def tick(self, now: float) -> Output:
                return Output()

        spec = dataclasses.replace(PINGER, name="stuck", factory=Stuck)
        sim = Simulation(spec, 2, seed=3)
        with pytest.raises(RuntimeError, match="seed=3"):
            sim.run_for(1.0)


class TestNetworkFaults:
    def test_no_faults_delivers_everything(self) -> None:
        """With a clean network every ping reaches every peer exactly once."""
        sim = sim_of()
        sim.run_for(1.05)
        got = core(sim, "n1").got
        assert sorted((src, seq) for src, seq, _ in got) == sorted(
            (src, seq) for src in ("n2", "n3") for seq in range(1, 11)
        )
        assert sim.messages_lost == 0

    def test_drop_all(self) -> None:
        """drop=1.0 loses every message."""
        sim = sim_of(drop=1.0)
        sim.run_for(1.0)
        assert sim.messages_delivered == 0 and sim.messages_lost == sim.messages_sent > 0

    def test_drop_rate_is_roughly_honoured(self) -> None:
        """drop=p loses about a fraction p of messages (seeded, so exact per seed)."""
        sim = sim_of(nodes=5, drop=0.3)
        sim.run_for(10.0)
        assert 0.25 < sim.messages_lost / sim.messages_sent < 0.35

    def test_duplicate_all(self) -> None:
        """duplicate=1.0 delivers every message twice."""
        sim = sim_of(duplicate=1.0)
        sim.run_for(0.55)
        seqs = [(src, seq) for src, seq, _ in core(sim, "n1").got]
        assert len(seqs) == 2 * len(set(seqs)) == 2 * 2 * 5

    def test_partition_cuts_between_groups_only(self) -> None:
        """partition([[n1, n2], [n3, n4, n5]]) cuts every link between the groups, none inside."""
        sim = sim_of(nodes=5)
        sim.partition([["n1", "n2"], ["n3", "n4", "n5"]])
        sim.run_for(1.0)
        assert senders(sim, "n1") == {"n2"}
        assert senders(sim, "n3") == {"n4", "n5"}

    def test_unlisted_nodes_form_their_own_group(self) -> None:
        """Nodes named in no group end up together in one more group."""
        sim = sim_of(nodes=5)
        sim.partition([["n1"], ["n2", "n3"]])
        sim.run_for(1.0)
        assert senders(sim, "n1") == set()
        assert senders(sim, "n4") == {"n5"}

    def test_isolate_cuts_a_node_off(self) -> None:
        """isolate(n) cuts both directions of every link of n."""
        sim = sim_of()
        sim.isolate("n3")
        sim.run_for(1.0)
        assert senders(sim, "n3") == set()
        assert senders(sim, "n1") == {"n2"}

    def test_block_is_one_way(self) -> None:
        """block(a, b) loses a -> b only; b -> a still works, until unblock."""
        sim = sim_of()
        sim.block("n1", "n2")
        sim.run_for(1.0)
        assert "n1" not in senders(sim, "n2")
        assert "n2" in senders(sim, "n1")
        sim.unblock("n1", "n2")
        sim.run_for(1.0)
        assert "n1" in senders(sim, "n2", after=1.1)

    def test_heal_restores_all_links(self) -> None:
        """heal() clears partitions, isolations and one-way blocks."""
        sim = sim_of()
        sim.partition([["n1"], ["n2", "n3"]])
        sim.block("n2", "n3")
        sim.heal()
        sim.run_for(1.0)
        assert senders(sim, "n1") == {"n2", "n3"} and senders(sim, "n3") == {"n1", "n2"}

    def test_links_keep_order_like_the_proxys(self) -> None:
        """Jitter wider than the send interval still delivers each link's pings in order (the
        proxy's FaultTable keeps links FIFO); reorder is the fault that lets later ones overtake."""
        sim = sim_of(delay=(0.0, 0.35))
        sim.run_for(3.0)
        for node in sim.node_ids:
            for src in sim.node_ids:
                seqs = [seq for s, seq, _ in core(sim, node).got if s == src]
                assert seqs == sorted(seqs)
        assert sim.links.table.counters("n1", "n2", sim.now).reordered == 0

    def test_reorder_holds_messages_back(self) -> None:
        """reorder=p holds about a fraction p of messages back 50-100 ms, as the proxy does."""
        sim = Simulation(PINGER, 3, 1, network=NetworkConfig(delay=(0.001, 0.001), reorder=0.5), trace_messages=True)
        sim.at(5.0, lambda s: [setattr(core(s, n), "next", math.inf) for n in s.node_ids])  # pingers fall quiet
        sim.run_for(5.2)  # and everything held back lands
        c = sim.links.table.counters("n1", "n2", sim.now)
        assert 0.35 < c.reordered / c.sent < 0.65
        late = [t - seq * INTERVAL for src, seq, t in core(sim, "n2").got if src == "n1"]
        assert sum(0.05 <= d <= 0.102 for d in late) == c.reordered
        assert sum("[reordered]" in line for line in sim.trace) == sum(
            sim.links.table.counters(a, b, sim.now).reordered for a in sim.node_ids for b in sim.node_ids if a != b)

    def test_partition_also_stops_messages_in_flight(self) -> None:
        """A message already on the wire when a partition starts is lost too."""
        sim = sim_of(delay=(0.05, 0.05))
        sim.at(INTERVAL + 0.01, lambda s: s.isolate("n1"))
        sim.run_for(INTERVAL + 0.06)
        assert core(sim, "n1").got == []

    def test_bad_fault_specs_are_rejected(self) -> None:
        """Unknown ids, overlapping groups and self-links are ValueErrors."""
        sim = sim_of()
        with pytest.raises(ValueError, match="unknown node 'n9'"):
            sim.partition([["n1"], ["n9"]])
        with pytest.raises(ValueError, match="more than one"):
            sim.partition([["n1", "n2"], ["n2"]])
        with pytest.raises(ValueError, match="itself"):
            sim.block("n1", "n1")
        with pytest.raises(ValueError):
            NetworkConfig(drop=1.5)
        with pytest.raises(ValueError):
            NetworkConfig(delay=(0.02, 0.01))


class TestCrashRestart:
    def test_crashed_node_receives_nothing_and_sends_nothing(self) -> None:
        """A crashed node is gone: no deliveries to it, no ticks for it."""
        sim = sim_of()
        sim.run_for(0.5)
        sim.crash("n3")
        sim.run_for(1.0)
        assert sim.nodes["n3"] is None and sim.down() == ["n3"]
        assert "n3" not in senders(sim, "n1", after=0.55)

    def test_messages_in_flight_to_a_crashed_node_vanish(self) -> None:
        """Deliveries pending for a node when it crashes never arrive, even if it restarts first."""
        sim = sim_of(delay=(0.05, 0.05))
        sim.at(INTERVAL + 0.01, lambda s: s.crash("n1"))
        sim.at(INTERVAL + 0.02, lambda s: s.restart("n1"))
        sim.run_for(INTERVAL + 0.06)
        assert core(sim, "n1").got == []

    def test_restart_rebuilds_from_durable_state_with_a_new_rng(self) -> None:
        """restart() builds a new core from the last persisted state and a freshly derived rng."""
        sim = sim_of()
        first_token = core(sim, "n2").token
        sim.crash("n2")
        sim.restart("n2")
        assert core(sim, "n2").boots == 2 and sim.durable["n2"].value == {"boots": 2}
        assert core(sim, "n2").token != first_token
        assert sim.restarts["n2"] == 1

    def test_crash_and_restart_misuse(self) -> None:
        """Crashing a crashed node or restarting a running one is a ValueError."""
        sim = sim_of()
        with pytest.raises(ValueError, match="crash it first"):
            sim.restart("n1")
        sim.crash("n1")
        with pytest.raises(ValueError, match="already down"):
            sim.crash("n1")


class TestInvariants:
    def test_violation_names_seed_time_and_replay(self) -> None:
        """An AssertionError from an invariant becomes InvariantViolation carrying the seed and a replay line."""
        sim = sim_of(seed=42)

        def never_twelve(s: Simulation) -> None:
            assert len(core(s, "n1").got) < 12, "n1 got 12 pings"

        sim.add_invariant(never_twelve)
        with pytest.raises(InvariantViolation) as info:
            sim.run_for(5.0)
        assert info.value.seed == 42
        assert str(info.value).startswith("[seed=42, t=")
        assert "n1 got 12 pings" in str(info.value)
        assert "python -m chaoslab.sim --algorithm pinger --seed 42" in str(info.value)

    def test_invariants_see_faults_applied_by_hand(self) -> None:
        """Events of faults applied between steps reach the invariants with the next step."""
        sim = sim_of()
        seen: list[str] = []
        sim.add_invariant(lambda s: seen.extend(e.kind for e in s.step_events if e.kind != "got"))
        sim.crash("n2")
        sim.restart("n2")
        sim.run_for(0.2)
        assert seen == ["crash", "restart"]


class TestDeterminism:
    def run(self, seed: int) -> list[str]:
        sim = Simulation(PINGER, 4, seed, network=NetworkConfig(drop=0.2, duplicate=0.1), trace_messages=True)
        Nemesis(sim).schedule(0.0, 3.0)
        sim.run_for(4.0)
        return sim.trace

    def test_same_seed_same_trace(self) -> None:
        """A seed names a run: the same seed gives the same trace, message for message."""
        assert self.run(5) == self.run(5)

    def test_different_seeds_differ(self) -> None:
        """Different seeds give different runs."""
        assert self.run(5) != self.run(6)

    def test_derived_rngs_are_independent_of_hash_seed(self) -> None:
        """derive_rng hashes its labels with blake2b, never hash(), so runs repeat across processes."""
        code = "from chaoslab.sim import derive_rng; print(derive_rng(7, 'node', 'n1', 0).random())"
        outs = {
            subprocess.run(
                [sys.executable, "-c", code],
                env={**os.environ, "PYTHONHASHSEED": str(h)},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for h in (1, 2)
        }
        assert outs == {f"{derive_rng(7, 'node', 'n1', 0).random()}\n"}


class TestCommandLine:
    def test_prints_trace_and_summary(self, capsys: pytest.CaptureFixture[str]) -> None:
        """python -m chaoslab.sim prints the trace, then an ok summary, and exits 0."""
        assert main(["--seed", "7", "--nodes", "3", "--duration", "2"]) == 0
        out = capsys.readouterr().out
        assert " role role=leader term=1" in out
        assert "ok: invariants held" in out

    def test_no_leader_in_time_exits_1(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A liveness failure (nobody can be elected in 0.1 s) is reported with exit status 1."""
        assert main(["--seed", "1", "--duration", "0", "--settle", "0.1", "--quiet"]) == 1
        assert "liveness: the cluster did not settle" in capsys.readouterr().out

    @pytest.mark.parametrize(
        "argv",
        [
            ["--algorithm", "paxos"],
            ["--nodes", "0"],
            ["--set", "heartbeat_ms=500"],
            ["--set", "nonsense"],
            ["--drop", "2"],
            ["--seed", "x"],
        ],
    )
    def test_bad_input_is_one_line_and_exit_2(self, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
        """Bad input gets one line on stderr and exit status 2, no traceback."""
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
        assert code == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1

    def test_module_entry_point_replays_identically(self) -> None:
        """`python -m chaoslab.sim --nemesis` prints the same trace on every run."""
        argv = [sys.executable, "-m", "chaoslab.sim", "--seed", "11", "--duration", "3", "--nemesis", "--messages"]
        digests = set()
        for hash_seed in ("0", "1"):
            proc = subprocess.run(
                argv, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": hash_seed}
            )
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
            digests.add(hashlib.sha256(proc.stdout.encode()).hexdigest())
        assert len(digests) == 1

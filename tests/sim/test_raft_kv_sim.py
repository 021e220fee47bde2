"""Raft's replicated log and key-value store in the deterministic simulator, over many seeds.

Clients (``Workload``) write and read through whichever node they believe
leads, retrying with the same (session, seq), while the nemesis partitions,
crashes, reboots and drops. After every step the simulator checks Election
Safety, Log Matching, State Machine Safety and Leader Completeness; after the
heal it checks that every acknowledged write survived and that all replicas
hold the same state. A failure names its seed and the command that replays it.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.kv import KVCode, KVCommand, KVOp, KVResult, KVStore, decode_commands
from chaoslab.algorithms.raft import RaftNode, parse_config
from chaoslab.algorithms.raft.durable import RaftPersist
from chaoslab.algorithms.raft.messages import EntryKind
from chaoslab.algorithms.raft.invariants import raft_caught_up, raft_converged, state_machine_of
from chaoslab.algorithms.raft.spec import check_final
from chaoslab.algorithms.registry import get_algorithm
from chaoslab.sim import (
    InvariantViolation,
    NetworkConfig,
    Simulation,
    Workload,
    invariants_for,
    run_scenario,
)
from chaoslab.sim.__main__ import main

FAST_SEEDS = range(150)
SLOW_SEEDS = range(150, 2150)
SLOW_CHUNK = 100
LOSSY = NetworkConfig(drop=0.05, delay=(0.001, 0.020), duplicate=0.02)
CONFIGS = [
    {},
    {"pre_vote": False, "check_quorum": False},
    # small snapshots, batches and windows: compaction, InstallSnapshot and flow control all the time
    {"snapshot_threshold": 25, "snapshot_threshold_bytes": 600, "snapshot_chunk_bytes": 96, "max_batch_entries": 4,
     "max_inflight": 2},
    # Fewer sessions than clients (3, or 8 in bursts): sessions are evicted all the time, and a
    # client's write of a forgotten session is refused (an unknown outcome), never applied twice.
    {"pre_vote": False, "check_quorum": True, "snapshot_threshold": 60, "max_sessions": 2},
]
SIZES = [3, 5, 5, 3]


def workload_run(seed: int, clients: int = 3, **kw: Any) -> Any:
    result = run_scenario(
        "raft",
        seed=seed,
        nodes=SIZES[seed % len(SIZES)],
        duration=4.0,
        nemesis=True,
        network=LOSSY,
        config=CONFIGS[seed % len(CONFIGS)],
        settle=6.0,
        workload=clients,
        **kw,
    )
    assert result.ok, result.violation
    assert result.workload is not None and result.workload.counts()["ok"] > 0
    return result


def simulation(seed: int, nodes: int = 5, config: dict | None = None, network: NetworkConfig | None = None):
    sim = Simulation("raft", nodes, seed, config, network or NetworkConfig())
    invariants = invariants_for("raft")
    for invariant in invariants:
        sim.add_invariant(invariant)
    machine = state_machine_of(invariants)
    assert machine is not None
    return sim, machine


def leader_of(sim: Simulation) -> str:
    assert sim.run_until(raft_converged, 2.0), f"seed={sim.seed}: no leader"
    term = max(sim.leaders().values())
    return next(n for n, t in sim.leaders().items() if t == term)


def put(key: str, value: str) -> KVCommand:
    return KVCommand(KVOp.PUT, key, value)  # no session: these tests never retry


class TestUnderNemesis:
    @pytest.mark.parametrize("seed", FAST_SEEDS, ids=lambda s: f"seed={s}")
    def test_clients_under_faults(self, seed: int) -> None:
        """Under partitions, crashes, reboots, drops, delays and duplicates, with clients writing and
        reading: the log and state-machine invariants hold on every step, and after the heal every
        acknowledged write is committed at its index and every replica holds the same state."""
        workload_run(seed)

    @pytest.mark.slow
    @pytest.mark.parametrize("bursts", [False, True], ids=["one-by-one", "bursts"])
    @pytest.mark.parametrize(
        "first", range(SLOW_SEEDS.start, SLOW_SEEDS.stop, SLOW_CHUNK), ids=lambda s: f"seeds={s}+{SLOW_CHUNK}"
    )
    def test_clients_under_faults_many_seeds(self, first: int, bursts: bool) -> None:
        """The same over two thousand more seeds, and the burst profile (below) over as many
        (run with --run-slow)."""
        for seed in range(first, first + SLOW_CHUNK):
            (burst_run if bursts else workload_run)(seed)


BURST_SEEDS = range(150)


def burst_run(seed: int) -> Any:
    """Eight clients whose requests reach a node within 5 ms go to it as one burst: the leader
    puts them in shared log entries (request_many), as the runtime does with each KVBatch."""
    return workload_run(seed, clients=8, rate=800.0, request_window=0.005)


class TestBursts:
    @pytest.mark.parametrize("seed", BURST_SEEDS, ids=lambda s: f"seed={s}")
    def test_bursts_under_faults(self, seed: int) -> None:
        """The same checks as above when writes share entries: every acknowledged write is in the
        entry committed at its index, after all earlier writes to its key, on every replica."""
        burst_run(seed)

    def test_bursts_do_share_entries(self) -> None:
        """The burst profile really puts several writes in one entry (or it would test nothing new)."""
        result = burst_run(0)
        machine = state_machine_of(result.sim._invariants)
        assert machine is not None
        sizes = [len(decode_commands(data)) for _, kind, data in machine.applied.values() if kind == EntryKind.NORMAL]
        assert max(sizes) >= 3, sizes

    def test_replay_names_the_window(self) -> None:
        assert "--request-window 0.005" in run_scenario("raft", seed=3, nodes=3, duration=0.5, workload=2,
                                                        request_window=0.005).replay


class TestCatchUp:
    def test_follower_away_for_thousands_of_commands_catches_up_by_snapshot(self) -> None:
        """A follower cut off while 2,500 commands commit finds the leader's log compacted past it
        (snapshot every 2,000 entries); it gets InstallSnapshot and converges."""
        sim, machine = simulation(3, nodes=3, config={"snapshot_threshold": 2000})
        leader = leader_of(sim)
        away = next(n for n in sim.node_ids if n != leader)
        sim.isolate(away)
        calls = []
        for batch in range(25):
            for i in range(100):
                n = batch * 100 + i
                calls.append(sim.request(leader, put(f"k{n % 50}", str(n))))
            sim.run_for(0.05)
        sim.run_for(0.5)
        assert all(c.done and c.result.code == KVCode.OK for c in calls)
        assert sim.nodes[leader].log.snapshot_index >= 2000
        sim.heal()
        assert sim.run_until(raft_caught_up, 3.0), f"{away} did not catch up"
        installed = [e for e in sim.events if e.kind == "snapshot" and e.node == away and e.data["how"] == "installed"]
        assert installed and installed[0].data["index"] >= 2000
        check_final(sim, machine)


class TestAvailability:
    def test_five_nodes_commit_with_two_down_and_acknowledge_nothing_with_three_down(self) -> None:
        """A majority (3 of 5) is enough to commit; with 3 of 5 crashed no write is acknowledged,
        and after a restart the cluster commits again."""
        sim, _ = simulation(11, nodes=5)
        leader = leader_of(sim)
        others = [n for n in sim.node_ids if n != leader]
        for node in others[:2]:
            sim.crash(node)
        ok = [sim.request(leader, put("x", str(i))) for i in range(20)]
        sim.run_for(1.0)
        assert all(c.done and c.result.code == KVCode.OK for c in ok)
        sim.crash(others[2])
        blocked = [sim.request(leader, put("y", str(i))) for i in range(20)]
        sim.run_for(3.0)
        assert not any(c.done and c.result.code == KVCode.OK for c in blocked)
        for node in sim.down():
            sim.restart(node)
        assert sim.run_until(raft_converged, 3.0)
        late = sim.request(leader_of(sim), put("z", "1"))
        assert sim.run_until(lambda s: late.done and late.result.code == KVCode.OK, 3.0)

    def test_minority_leader_acknowledges_nothing(self) -> None:
        """A leader cut off with a minority accepts writes but never acknowledges them; the majority's
        new leader serves reads of its own writes only."""
        sim, machine = simulation(5, nodes=5, config={"check_quorum": False})
        old = leader_of(sim)
        others = [n for n in sim.node_ids if n != old]
        sim.partition([[old, others[0]], others[1:]])
        stale = sim.request(old, put("x", "stale"))
        assert sim.run_until(lambda s: any(n in others[1:] for n in s.leaders()), 2.0)
        new = next(n for n in sim.leaders() if n in others[1:])
        fresh = sim.request(new, put("x", "fresh"))
        sim.run_for(1.0)
        read = sim.request(new, KVCommand(KVOp.GET, "x"))
        sim.run_for(0.5)
        assert not (stale.done and stale.result.code == KVCode.OK)
        assert fresh.result.code == KVCode.OK and read.result.value == "fresh"
        sim.heal()
        assert sim.run_until(raft_caught_up, 3.0)
        check_final(sim, machine)
        assert sim.nodes[old].state_machine.data == {"x": "fresh"}


class TestWorkloadAndHistory:
    def test_history_is_jepsen_shaped(self) -> None:
        """Every operation is an invoke followed by ok, fail or info from the same process, with
        virtual times in ns; ok writes carry their log index."""
        result = run_scenario("raft", seed=2, nodes=3, duration=2.0, nemesis=True, network=LOSSY, workload=4)
        assert result.ok, result.violation
        history = [op.as_dict() for op in result.workload.history]
        assert history and {"process", "type", "f", "key", "value", "time"} <= set(history[0])
        open_ops: dict[int, dict] = {}
        for op in history:
            if op["type"] == "invoke":
                assert op["process"] not in open_ops
                open_ops[op["process"]] = op
            else:
                invoke = open_ops.pop(op["process"])
                assert (op["f"], op["key"]) == (invoke["f"], invoke["key"]) and op["time"] >= invoke["time"]
                if op["type"] == "ok" and op["f"] != "get":
                    assert op["index"] > 0
        assert [op["time"] for op in history] == sorted(op["time"] for op in history)
        json.dumps(history)

    def test_same_seed_same_history(self) -> None:
        """A seed names a run, clients included: the same seed gives the same history."""

        def history() -> list[dict]:
            result = run_scenario("raft", seed=9, duration=2.0, nemesis=True, network=LOSSY, workload=3)
            return [op.as_dict() for op in result.workload.history]

        assert history() == history()

    def test_retries_keep_their_sequence_number(self) -> None:
        """A client that gets no answer retries the same (session, seq), so the write applies once."""
        sim, machine = simulation(4, nodes=3, network=NetworkConfig(drop=0.3))
        workload = Workload(sim, clients=2, keys=1, rate=40, mix={"append": 1})
        workload.start(until=4.0)  # long enough for a dozen appends after each client registers
        sim.run_for(4.0)
        assert sim.run_until(lambda s: workload.idle() and raft_caught_up(s), 10.0)
        assert sim.messages_lost > 0 and len(workload.acked) > 10
        appended = sim.nodes[sim.node_ids[0]].state_machine.data["k1"].split(";")[:-1]
        assert len(appended) == len(set(appended)), "a retried append was applied twice"
        acked = [a.command.value[:-1] for a in sorted(workload.acked, key=lambda a: a.index)]
        assert [t for t in appended if t in set(acked)] == acked  # each once, in log order
        check_final(sim, machine, workload)

    def test_command_line_workload_and_history(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """python -m chaoslab.sim --workload N runs clients, reports their counts and can write the history."""
        out = tmp_path / "history.jsonl"
        assert (
            main(
                ["--seed", "3", "--nodes", "3", "--duration", "2", "--workload", "3", "--quiet", "--history", str(out)]
            )
            == 0
        )
        printed = capsys.readouterr().out
        assert "client operations:" in printed and "ok: invariants held" in printed
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        assert lines and lines[0]["type"] == "invoke"


class TestSessions:
    """Client sessions (thesis §6.3) when the store keeps fewer sessions than there are clients."""

    def test_the_seed_that_found_evicted_sessions_applying_twice_passes(self) -> None:
        """Seed 11 with max_sessions=2 and 3 clients once applied an evicted client's retried write
        again (a delete answered not_found after it had deleted): the history was not
        linearizable. Now that write is refused SESSION_EXPIRED and recorded as unknown."""
        config = {"pre_vote": False, "check_quorum": True, "snapshot_threshold": 60, "max_sessions": 2}
        result = run_scenario("raft", seed=11, nodes=3, duration=4.0, settle=6.0, nemesis=True, network=LOSSY,
                              config=config, workload=3)
        assert result.ok, result.violation
        assert result.workload is not None
        expired = [op for op in result.workload.history if "expired" in op.error]
        assert expired and all(op.type == "info" for op in expired)

    @pytest.mark.parametrize("seed", range(6))
    def test_no_write_applies_twice_with_one_session_for_three_clients(self, seed: int) -> None:
        """Appends only, each of a unique token, through a network that loses and duplicates a lot,
        with room for one session: every token is in the final value at most once, every
        acknowledged one exactly once, and sessions did expire (the store refused, not re-applied)."""
        network = NetworkConfig(drop=0.2, delay=(0.001, 0.020), duplicate=0.1)
        sim = Simulation("raft", 3, seed, {"max_sessions": 1}, network)
        workload = Workload(sim, clients=3, keys=1, rate=60, mix={"append": 1}, timeout=0.05)
        workload.start(until=3.0)
        sim.run_for(3.0)
        assert sim.run_until(lambda s: workload.idle() and raft_caught_up(s), 10.0)
        for node in sim.node_ids:
            tokens = sim.nodes[node].state_machine.data["k1"].split(";")[:-1]
            assert len(tokens) == len(set(tokens)), f"seed={seed}: a write was applied twice on {node}"
            acked = [a.command.value[:-1] for a in workload.acked]
            assert acked and all(t in tokens for t in acked)
        assert any("expired" in op.error for op in workload.history)


def kv_for(section: dict[str, Any]) -> KVStore:
    """The key-value store the registry gives a raft core with this config section."""
    return KVStore(parse_config(section).max_sessions)


def broken(factory: Callable[..., RaftNode]):
    return dataclasses.replace(get_algorithm("raft"), factory=factory)


def first_failure(spec: Any, seeds: range, **kw: Any) -> str | None:
    for seed in seeds:
        try:
            result = run_scenario(spec, seed=seed, network=LOSSY, nemesis=True, settle=6.0, workload=3, **kw)
        except InvariantViolation as e:  # pragma: no cover - run_scenario reports these itself
            return str(e)
        except (AssertionError, ValueError) as e:
            return f"crash: {e}"
        if not result.ok:
            return result.violation
    return None


class TestCheckersHaveTeeth:
    def test_skipping_the_consistency_check_breaks_log_matching(self) -> None:
        """A follower that appends without checking prev_log_term is caught by Log Matching."""

        class Careless(RaftNode):
            def _handle_append(self, src, m, now, out):  # type: ignore[no-untyped-def]
                held = self.log.term_at(m.prev_log_index)
                if held is not None:
                    m.prev_log_term = held
                super()._handle_append(src, m, now, out)

        failure = first_failure(
            broken(lambda i, n, c, r, d: Careless(i, n, parse_config(c), r, d, kv_for(c))), range(30), duration=4.0
        )
        assert failure is not None and failure.startswith("[seed=") and "replay: python -m chaoslab.sim" in failure

    def test_voting_for_stale_logs_breaks_leader_completeness(self) -> None:
        """A server that ignores §5.4.1's up-to-date rule elects leaders missing committed entries."""

        class Blind(RaftNode):
            def _handle_vote_request(self, src, m, now, out):  # type: ignore[no-untyped-def]
                m.last_log_term = 10**9
                super()._handle_vote_request(src, m, now, out)

        failure = first_failure(
            broken(lambda i, n, c, r, d: Blind(i, n, parse_config(c), r, d, kv_for(c))), range(30), duration=4.0
        )
        assert failure is not None and ("leader completeness" in failure or "state machine safety" in failure)

    def test_acknowledging_before_commit_loses_writes(self) -> None:
        """A leader that answers OK as soon as it appends is caught: some acknowledged write is not the
        entry committed at its index after the heal."""

        class Hasty(RaftNode):
            def request(self, request_id: int, command: KVCommand, now: float) -> Output:
                out = super().request(request_id, command, now)
                if command.op != KVOp.GET and self.role == "leader" and not out.replies:
                    index = self.log.last_index
                    del self._pending_writes[index]
                    out.reply(request_id, KVResult(KVCode.OK, index=index))
                return out

        failure = first_failure(
            broken(lambda i, n, c, r, d: Hasty(i, n, parse_config(c), r, d, kv_for(c))), range(40), duration=4.0
        )
        # The history check sees it first (a read of a value that was never committed), or the end state does.
        assert failure is not None and ("acknowledged" in failure or "not linearizable" in failure)

    def test_not_persisting_entries_is_caught(self) -> None:
        """A follower that acknowledges entries without persisting them loses them in a reboot."""

        class Forgetful(RaftNode):
            def _finish(self, out: Output) -> Output:
                out = super()._finish(out)
                p = out.persist
                if p is not None and p.entries and self.role != "leader":
                    out.persist = RaftPersist(p.hard_state, [], p.snapshot)
                return out

        failure = first_failure(
            broken(lambda i, n, c, r, d: Forgetful(i, n, parse_config(c), r, d, kv_for(c))), range(10), duration=3.0
        )
        assert failure is not None


def test_workload_leaves_the_global_random_module_alone() -> None:
    """The workload draws from the simulation's seed, never from the global random module."""
    state = random.getstate()
    run_scenario("raft", seed=1, duration=1.0, workload=2)
    assert random.getstate() == state

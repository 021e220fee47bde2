"""What a crash loses in the simulator, and the faults aimed at that: fsync as the runtime's group
commit, crash points, and written schedules.

A tiny "ledger" core (not Raft) makes each effect visible: every tick it bumps a counter,
persists it, sends it to its peers and records an event, so what survived a crash, what left
and what was recorded can be read off directly.
"""

from __future__ import annotations

import dataclasses
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.spec import AlgorithmSpec, SimHooks
from chaoslab.sim import NetworkConfig, Simulation, run_scenario
from chaoslab.sim.__main__ import main
from chaoslab.sim.nemesis import CrashPoints
from chaoslab.sim.schedule import parse_schedule

INTERVAL = 0.1
ROOT = Path(__file__).resolve().parents[2]


@dataclass(slots=True)
class Count:
    n: int


class Ledger:
    def __init__(self, node_id: str, nodes: list[str], config: Any, rng: Any, durable: Any) -> None:
        self.node_id = node_id
        self.peers = [n for n in nodes if n != node_id]
        self.n = durable or 0
        self.got: list[tuple[str, int, float]] = []
        self.next = 0.0

    def start(self, now: float) -> Output:
        self.next = now + INTERVAL
        return Output()

    def tick(self, now: float) -> Output:
        out = Output()
        if now >= self.next:
            self.n += 1
            out.persist = self.n
            for peer in self.peers:
                out.send(peer, Count(self.n))
            out.event("count", n=self.n)
            self.next = now + INTERVAL
        return out

    def step(self, src: str, message: Any, now: float) -> Output:
        self.got.append((src, message.n, now))
        return Output()

    def next_deadline(self) -> float:
        return self.next

    def status(self, now: float) -> dict[str, Any]:
        return {"role": "member", "term": self.n, "leader": "", "last_heard_s": -1.0}


LEDGER = AlgorithmSpec(
    name="ledger", summary="test core", factory=Ledger, message_types=(Count,), roles={"member": "follow"},
    ready=lambda statuses: True,
    sim=SimHooks(crash_points=lambda: {"count": lambda sim, node, out: out.persist is not None}),
)


def ledger(sim: Simulation, node: str) -> Ledger:
    core = sim.nodes[node]
    assert isinstance(core, Ledger)
    return core


class TestFsync:
    def test_messages_leave_when_their_fsync_ends(self) -> None:
        """With a 30 ms fsync, a count sent at tick t arrives no sooner than t + 30 ms + the delay."""
        sim = Simulation(LEDGER, 2, seed=1, network=NetworkConfig(delay=(0.005, 0.005)), fsync=0.030)
        sim.run_for(1.0)
        got = ledger(sim, "n2").got
        assert [n for _, n, _ in got] == list(range(1, len(got) + 1)) and len(got) >= 8
        for _, n, t in got:
            assert t == pytest.approx(n * INTERVAL + 0.035)

    def test_events_are_recorded_after_the_fsync(self) -> None:
        """An output's events reach the trace when it is durable and sent, not when the core decided."""
        sim = Simulation(LEDGER, 2, seed=1, fsync=0.030)
        sim.run_for(0.25)
        counts = [e for e in sim.events if e.kind == "count" and e.node == "n1"]
        assert [e.time for e in counts] == pytest.approx([0.13, 0.23])

    def test_a_crash_mid_fsync_loses_what_was_not_durable(self) -> None:
        """Crashed while a count's fsync runs: its message never leaves, its event is never recorded,
        and the restarted node resumes from what the disk kept (the count before, or a prefix of the
        batch in flight); the crash line says how much was unsynced."""
        sim = Simulation(LEDGER, 2, seed=1, fsync=0.030)
        sim.run_for(0.31)  # count 3 decided at 0.30, durable at 0.33
        assert sim.durable["n1"].value == 2
        sim.crash("n1")
        crash = sim.events[-1]
        assert crash.kind == "crash" and crash.data["unsynced"] == 1 and crash.data["kept"] in (0, 1)
        sim.run_for(0.1)
        assert 3 not in [n for src, n, _ in ledger(sim, "n2").got if src == "n1"]
        assert not [e for e in sim.events if e.kind == "count" and e.node == "n1" and e.data["n"] == 3]
        sim.restart("n1")
        assert ledger(sim, "n1").n == 2 + crash.data["kept"]

    def test_messages_already_sent_still_arrive_after_a_crash(self) -> None:
        """A message handed to the network before its sender crashed is delivered."""
        sim = Simulation(LEDGER, 2, seed=1, network=NetworkConfig(delay=(0.05, 0.05)))
        sim.run_for(0.12)  # count 1 left at 0.10, arrives at 0.15
        sim.crash("n1")
        sim.run_for(0.1)
        assert [n for src, n, _ in ledger(sim, "n2").got if src == "n1"] == [1]

    def test_without_fsync_every_output_is_durable_at_once(self) -> None:
        """The default (no fsync time): a crash right after a step keeps that step's state."""
        sim = Simulation(LEDGER, 2, seed=1)
        sim.run_for(0.31)
        sim.crash("n1")
        assert sim.events[-1].data == {} and sim.durable["n1"].value == 3

    def test_fsync_must_be_a_duration(self) -> None:
        with pytest.raises(ValueError, match="fsync"):
            Simulation(LEDGER, 2, seed=1, fsync=-1.0)


class TestCrashPoints:
    def test_crashes_right_after_the_named_output_then_restarts(self) -> None:
        """Each crash comes right after a count was made durable and sent (so none is ever lost), the
        node is back within the down window, and the trace says why it crashed."""
        sim = Simulation(LEDGER, 3, seed=4)
        points = CrashPoints(sim, ["count"], chance=0.5, down=(0.01, 0.05))
        points.schedule(0.0, 2.0)
        sim.run_for(2.5)
        crashes = [e for e in sim.events if e.kind == "crash"]
        assert crashes and all(e.data == {"after": "count"} for e in crashes)
        assert points.counts["count"] == len(crashes)
        assert sim.down() == []
        for e in crashes:
            counted = [c for c in sim.events if c.kind == "count" and c.node == e.node and c.time <= e.time]
            assert counted and counted[-1].time == e.time

    def test_unknown_points_are_refused(self) -> None:
        sim = Simulation(LEDGER, 3, seed=4)
        with pytest.raises(ValueError, match="unknown crash point 'vote'"):
            CrashPoints(sim, ["vote"])
        with pytest.raises(ValueError, match="names no crash points"):
            CrashPoints(Simulation(dataclasses.replace(LEDGER, sim=SimHooks()), 3, seed=4))
        with pytest.raises(ValueError, match="bully names no crash points"):
            run_scenario("bully", seed=1, crash_points=["all"])

    @pytest.mark.parametrize("point", ["vote", "append", "snapshot"])
    def test_raft_names_vote_append_and_snapshot(self, point: str) -> None:
        """Each of Raft's points strikes in a run with clients, the nemesis and small snapshots,
        and the cluster stays safe, linearizable and settles."""
        result = run_scenario("raft", seed=0, nodes=3, duration=4.0, workload=3, nemesis=True, crash_points=[point],
                              config={"snapshot_threshold": 10}, settle=6.0)
        assert result.ok, result.summary()
        assert result.crash_points is not None and result.crash_points.counts[point] > 0
        assert any(e.kind == "crash" and e.data.get("after") == point for e in result.sim.events)


class TestSchedule:
    def test_parse_and_print(self) -> None:
        actions = parse_schedule("2 heal; 1 crash n1,leader ;1.5 partition n1,n2|n3; 3 drop 0.2; 2.5 restart all",
                                 ["n1", "n2", "n3"])
        assert [str(a) for a in actions] == [
            "1 crash n1,leader", "1.5 partition n1,n2|n3", "2 heal", "2.5 restart all", "3 drop 0.2"]

    @pytest.mark.parametrize(("text", "message"), [
        ("x crash n1", "not a time"),
        ("1 explode n1", "expected one of"),
        ("1 crash n9", "unknown node 'n9'"),
        ("1 heal n1", "heal takes nothing"),
        ("1 drop 2", "probability"),
        ("1 partition n1,n2", "two groups"),
        ("1 isolate n1,n2", "one node"),
        ("1 restart all extra", "one argument"),
    ])
    def test_bad_schedules_are_one_line(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=message) as e:
            parse_schedule(text, ["n1", "n2", "n3"])
        assert "\n" not in str(e.value) and text.split()[0] in str(e.value)

    def test_actions_that_cannot_apply_are_skipped_and_said(self) -> None:
        """Crashing a node that is down is skipped with a line in the trace, so one schedule fits any seed."""
        result = run_scenario(LEDGER, seed=1, nodes=3, duration=1.0, schedule="0.2 crash n1; 0.4 crash n1; 0.6 restart n1")
        assert result.ok
        assert any("skip" in line and "n1 is down" in line for line in result.sim.trace)

    def test_the_command_line_refuses_a_bad_schedule(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--schedule", "1 crash n9", "--quiet"]) == 2
        assert "unknown node 'n9'" in capsys.readouterr().err
        assert main(["--schedule", "9 heal", "--duration", "2", "--quiet"]) == 2


class TestReplay:
    def test_the_replay_line_carries_every_new_option_and_reproduces(self) -> None:
        """fsync time, crash points, a schedule and the stall bound are in the replay line, and the
        line reruns the same trace from the shell."""
        result = run_scenario("raft", seed=5, nodes=3, duration=2.0, workload=2, fsync=0.002,
                              crash_points=["vote", "append"], schedule="0.5 isolate leader; 1.2 heal",
                              max_stall=3.0)
        for flag in ("--fsync-ms 2", "--crash-after vote,append", "--schedule", "--max-stall 3"):
            assert flag in result.replay
        proc = subprocess.run([sys.executable, *shlex.split(result.replay)[1:]], capture_output=True, text=True,
                              cwd=ROOT)
        assert proc.returncode == (0 if result.ok else 1), proc.stderr
        assert proc.stdout.splitlines()[: len(result.sim.trace)] == result.sim.trace


class TestHistoryCheck:
    def test_the_workload_reads_and_compares_and_the_checker_judges_it(self) -> None:
        """The clients' history holds reads, cas, appends and deletes as well as puts, in the names
        the kv model knows, and every run with clients gets a verdict."""
        result = run_scenario("raft", seed=1, nodes=3, duration=3.0, workload=3)
        assert result.workload is not None and result.linearizable is not None
        assert {op.f for op in result.workload.history} == {"get", "put", "append", "cas", "delete"}
        assert result.linearizable.verdict == "valid" and "linearizability: valid" in result.summary()

    def test_a_check_that_times_out_is_unknown_not_a_failure(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A history too hard to decide in time is reported as unknown, with the reason, and the run
        still passes: only an invalid verdict is a violation."""
        import chaoslab.sim.scenario as scenario
        from chaoslab.check import CheckResult

        def too_slow(history: Any, model: str, *, timeout: float, source: str) -> CheckResult:
            return CheckResult("unknown", model, source, [], [], timeout, reason=f"timed out after {timeout:g}s")

        monkeypatch.setattr(scenario, "check_history", too_slow)
        result = run_scenario("raft", seed=1, nodes=3, duration=3.0, workload=3, check_timeout=0.5)
        assert result.ok and result.linearizable is not None and result.linearizable.verdict == "unknown"
        assert "linearizability: unknown (timed out after 0.5s)" in result.summary()

"""Chaos workload clients against real clusters: a correct Raft passes the verdicts, broken ones do not.

The broken ones are tests/plugins/buggy_raft (Raft with one rule broken, picked by
``--set bug=...``), run as real processes like any plug-in; each runs beside a
control (``bug=none``) under the same faults, so the verdict that fails is the
bug's doing and not the faults'.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from chaoslab.chaos.history import HistoryRecorder
from chaoslab.chaos.scenario import WorkloadSection
from chaoslab.chaos.verdicts import agreement, election_safety, leader_within, linearizable, no_lost_writes
from chaoslab.chaos.workload import KVWorkload, OrdersWorkload
from chaoslab.check.history import read_history
from chaoslab.events import read_events
from chaoslab.testing import wait_until

SECTION = WorkloadSection(clients=4, rate=100.0, keys=3, timeout=1.0)


class Run:
    """A workload on ``cluster`` recording to ``path``; ``progress(n)`` waits for n more ok operations
    (``kind="invoke"``: n more operations begun, whatever became of them)."""

    def __init__(self, cluster: Any, path: Path, section: WorkloadSection = SECTION, seed: int = 7) -> None:
        self.path = path
        self.recorder = HistoryRecorder(path, time.time_ns())
        self.workload = KVWorkload(cluster, section, random.Random(seed), self.recorder)
        self.workload.start()

    def progress(self, n: int, what: str = "operations", timeout: float = 15.0, kind: str = "ok") -> None:
        target = self.workload.counts()[kind] + n
        wait_until(lambda: self.workload.counts()[kind] >= target, timeout, what=f"{n} more {kind} {what}")

    def finish(self) -> dict[str, Any]:
        self.workload.stop()
        started = time.monotonic()
        finals = self.workload.final_reads(timeout=10.0)
        self.final_s = time.monotonic() - started
        self.recorder.close()
        return finals


class HomesOnly:
    """``cluster`` as a workload sees it, with ``nodes`` as its only nodes to bind clients to
    (its clients still reach every node: the addresses come from the run directory)."""

    def __init__(self, cluster: Any, *nodes: str) -> None:
        self._cluster = cluster
        self.node_ids = list(nodes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cluster, name)


def up_and_restarted(cluster: Any, node: str) -> bool:
    return any(n.id == node and n.state == "up" and n.HasField("status") for n in cluster.status().nodes)


class TestRaft:
    def test_leader_crash_keeps_every_verdict_and_a_doctored_history_fails(self, chaoslab_clusters, tmp_path: Path) -> None:
        """Clients run through a leader crash and restart: the history is linearizable, no acknowledged write
        is lost, one leader per term, a new one within 2 s. Then the same history with one final read
        turned back to an older value: both history verdicts catch it."""
        cluster = chaoslab_clusters.up("raft", nodes=3, seed=11)
        old = cluster.wait_for_leader()
        run = Run(cluster, tmp_path / "history.jsonl")
        run.progress(60)
        crashed_at = time.time()
        assert cluster.crash(old) == [old]
        cluster.wait_for_leader(exclude=(old,))
        run.progress(60, "operations under the new leader")
        cluster.restart(old)
        wait_until(lambda: up_and_restarted(cluster, old), 15, what=f"{old} back up")
        run.progress(30)
        finals = run.finish()

        assert sorted(finals) == ["k1", "k2", "k3"]
        assert run.final_s < 1.0  # a healthy cluster answers the final reads at once
        counts = run.workload.counts()
        assert counts["invoke"] == counts["ok"] + counts["fail"] + counts["info"] >= 150
        assert {op.f for op in read_history(run.path)} == {"read", "write", "cas"}
        v = linearizable(run.path)
        assert v.status == "valid", v.summary
        v = no_lost_writes(run.path)
        assert v.status == "valid", v.summary
        assert v.details["acknowledged"] >= 50
        events, _ = read_events(cluster.run.events)
        v = election_safety(events, cluster.algorithm)
        assert v.status == "valid", v.summary
        v = leader_within(events, cluster.algorithm, since=crashed_at, bound=2.0)
        assert v.status == "valid", v.summary

        doctored = tmp_path / "doctored.jsonl"
        doctored.write_text(_roll_back_a_final_read(run.path))
        assert no_lost_writes(doctored).status == "invalid"
        v = linearizable(doctored)
        assert v.status == "invalid"
        assert "read" in v.summary and v.ops


def _roll_back_a_final_read(history: Path) -> str:
    """The history with one key's final read returning the first value acknowledged for that key,
    a value overwritten (by later acknowledged writes) long before the final read."""
    ops = read_history(history)
    final = max((op for op in ops if op.f == "read" and op.status == "ok"), key=lambda op: op.call)
    first = next(op for op in ops if op.key == final.key and op.f == "write" and op.status == "ok")
    assert first.value != final.output
    lines = history.read_text().splitlines()
    record = json.loads(lines[final.ret_line - 1])
    record["value"] = first.value
    lines[final.ret_line - 1] = json.dumps(record)
    return "\n".join(lines) + "\n"


@pytest.mark.usefixtures("plugin_algorithms")
class TestPlantedBugs:
    @pytest.mark.parametrize(("bug", "want"), [("stale_reads", "invalid"), ("none", "valid")])
    def test_stale_reads(self, chaoslab_clusters, tmp_path: Path, bug: str, want: str) -> None:
        """n1 is cut off while writes go on; then the leader crashes, and clients that lost their leader ask
        n1 first. Serving reads from local state (no ReadIndex) answers them with old values: not linearizable."""
        cluster = chaoslab_clusters.up("buggy_raft", nodes=3, seed=5, overrides=[f"bug={bug}"])
        cluster.wait_for_leader()
        run = Run(cluster, tmp_path / "history.jsonl")
        run.progress(40)
        cluster.partition("n1", "n2,n3")
        leader = cluster.wait_for_leader(exclude=("n1",))
        run.progress(60, "operations while n1 is cut off")
        cluster.crash(leader)
        run.progress(12, "operations without a quorum", kind="invoke")  # a correct cluster answers none
        cluster.restart(leader)
        cluster.heal()
        wait_until(lambda: up_and_restarted(cluster, leader), 15, what=f"{leader} back up")
        run.progress(20)
        run.finish()
        v = linearizable(run.path)
        assert v.status == want, v.summary

    @pytest.mark.parametrize(("bug", "want"), [("apply_before_commit", "invalid"), ("none", "valid")])
    def test_apply_before_commit(self, chaoslab_clusters, tmp_path: Path, bug: str, want: str) -> None:
        """Writers keep writing to a leader cut off from its followers (check_quorum off, so it does not step
        down); once healed, the final reads come from the leader the others elected. A leader that
        acknowledged writes before a majority had them lost every one of them."""
        cluster = chaoslab_clusters.up("buggy_raft", nodes=3, seed=5, overrides=[f"bug={bug}", "check_quorum=false"])
        old = cluster.wait_for_leader()
        # Every client bound to the old leader: the writes it acknowledges alone are then the last
        # of their keys. With clients bound to the new leader too, their later writes superseded
        # the lost ones now and then, and the run passed (3 runs in 8).
        run = Run(HomesOnly(cluster, old), tmp_path / "history.jsonl",
                  WorkloadSection(clients=4, rate=100.0, keys=3, mix={"write": 1}))
        run.progress(40)
        cluster.partition(f"isolate:{old}")
        cluster.wait_for_leader(exclude=(old,))
        # The buggy leader acknowledges writes alone; the correct one cannot (they time out as info).
        run.progress(20, "writes during the partition", kind="invoke")
        run.workload.stop()
        cluster.heal()
        run.finish()
        v = no_lost_writes(run.path)
        assert v.status == want, v.summary
        if want == "invalid":
            assert linearizable(run.path).status == "invalid"


class TestOrders:
    @pytest.mark.parametrize(("settings", "want"), [
        (["traitor_ids=n4"], "valid"),  # OM(1), one traitorous lieutenant: agreement holds
        (["traitor_ids=n1", "m=0"], "invalid"),  # OM(0) with an equivocating commander: lieutenants split
    ])
    def test_orders_and_their_agreement(self, chaoslab_clusters, tmp_path: Path, settings: list[str], want: str) -> None:
        """Orders from n1, one agreement at a time; each is a history line pair, and the verdict comes
        from the agreement reports."""
        cluster = chaoslab_clusters.up("byzantine", nodes=4, seed=3, overrides=settings)
        path = tmp_path / "history.jsonl"
        recorder = HistoryRecorder(path, time.time_ns())
        orders = OrdersWorkload(cluster, WorkloadSection(kind="orders", rate=4.0), random.Random(2), recorder)
        orders.start()
        wait_until(lambda: len(orders.reports) >= 3, 30, what="three agreements")
        orders.stop(timeout=10)
        recorder.close()
        assert orders.counts()["invoke"] >= 3 and not orders.errors
        ops = read_history(path)
        assert {op.f for op in ops} == {"order"} and all(op.key == "n1" for op in ops)
        assert [op.value for op in ops][: len(orders.reports)] == [r.order for r in orders.reports]
        v = agreement(orders.reports)
        assert v.status == want, v.summary

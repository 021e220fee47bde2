"""The history recorder and the key-value workload's clients, against in-memory stores (no processes).

A fake ``KVClient`` stands in for the real one: a store behind a lock (each
operation atomic, so any history of it is linearizable), or one with a planted
bug. The real client against real clusters is tests/integration/test_chaos_workload_cluster.py.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chaoslab.chaos import workload as workload_module
from chaoslab.chaos.history import HistoryRecorder
from chaoslab.chaos.scenario import WorkloadSection
from chaoslab.chaos.verdicts import linearizable, no_lost_writes
from chaoslab.chaos.clients import pace
from chaoslab.chaos.workload import KVWorkload, outcome
from chaoslab.check.history import read_history
from chaoslab.client import CAS_MISMATCH, NOT_FOUND, OK, NotAcknowledged, Result
from chaoslab.errors import LabError
from chaoslab.testing import wait_until
from chaoslab.v1 import kv_pb2


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class TestHistoryRecorder:
    def test_lines_as_they_happen(self, tmp_path: Path) -> None:
        """An invoke and its completion, Jepsen-shaped, on disk before the recorder closes; times from t0."""
        path = tmp_path / "history.jsonl"
        t0 = time.time_ns()
        rec = HistoryRecorder(path, t0)
        h = rec.invoke(3, "write", "k1", "p3-1")
        assert len(lines(path)) == 1  # flushed at once: a run that dies still leaves its history
        rec.complete(h, "ok", node="n2")
        h = rec.invoke(3, "read", "k1", None)
        rec.complete(h, "ok", "p3-1", node="n2")
        h = rec.invoke(4, "cas", "k1", ["p3-1", "p4-1"])
        rec.complete(h, "fail", error="cas_mismatch")
        got = lines(path)
        assert [{k: v for k, v in r.items() if k != "time"} for r in got] == [
            {"process": 3, "type": "invoke", "f": "write", "key": "k1", "value": "p3-1"},
            {"process": 3, "type": "ok", "f": "write", "key": "k1", "value": "p3-1", "node": "n2"},
            {"process": 3, "type": "invoke", "f": "read", "key": "k1", "value": None},
            {"process": 3, "type": "ok", "f": "read", "key": "k1", "value": "p3-1", "node": "n2"},
            {"process": 4, "type": "invoke", "f": "cas", "key": "k1", "value": ["p3-1", "p4-1"]},
            {"process": 4, "type": "fail", "f": "cas", "key": "k1", "value": ["p3-1", "p4-1"], "error": "cas_mismatch"},
        ]
        times = [r["time"] for r in got]
        assert times == sorted(times) and 0 <= times[0] < time.time_ns() - t0
        assert rec.counts() == {"invoke": 3, "ok": 2, "fail": 1, "info": 0}
        rec.close()

    def test_close_completes_open_operations_as_info(self, tmp_path: Path) -> None:
        """Operations still open at the end have an unknown outcome; a late completion is ignored."""
        path = tmp_path / "history.jsonl"
        rec = HistoryRecorder(path, time.time_ns())
        w = rec.invoke(0, "write", "k1", "p0-1")
        r = rec.invoke(1, "read", "k2", None)
        rec.close()
        rec.complete(w, "ok")  # a client thread that outlived the run
        got = lines(path)
        assert [(g["type"], g["value"], g.get("error")) for g in got[2:]] == [
            ("info", "p0-1", "run ended"), ("info", None, "run ended")]
        assert rec.counts() == {"invoke": 2, "ok": 0, "fail": 0, "info": 2}
        assert r != w
        with pytest.raises(ValueError):
            rec.invoke(2, "read", "k1", None)

    def test_misuse_is_refused(self, tmp_path: Path) -> None:
        """Two open operations of one process, or a completion type that is not one, would make a bad history."""
        with HistoryRecorder(tmp_path / "h.jsonl", time.time_ns()) as rec:
            h = rec.invoke(0, "read", "k1", None)
            with pytest.raises(ValueError, match="line 1"):
                rec.invoke(0, "read", "k2", None)
            with pytest.raises(ValueError):
                rec.complete(h, "done")
            rec.complete(h, "ok", None)
            rec.complete(h, "fail")  # completed already: nothing written
        assert len(lines(tmp_path / "h.jsonl")) == 2

    def test_many_threads_one_valid_history(self, tmp_path: Path) -> None:
        """Eight threads recording at once leave a file the checker pairs without complaint."""
        path = tmp_path / "history.jsonl"
        rec = HistoryRecorder(path, time.time_ns())

        def client(process: int) -> None:
            for i in range(300):
                h = rec.invoke(process, "write", f"k{i % 3}", f"p{process}-{i}")
                rec.complete(h, "ok")

        threads = [threading.Thread(target=client, args=(p,)) for p in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rec.close()
        ops = read_history(path)
        assert len(ops) == 2400 and all(op.status == "ok" for op in ops)
        assert rec.counts()["invoke"] == 2400


def result(code: int, value: str = "", node: str = "n1") -> Result:
    return Result(code, value, 7, node)


class TestOutcome:
    @pytest.mark.parametrize(("f", "answer", "want"), [
        ("read", result(OK, "a"), ("ok", "a", "n1", "")),
        ("read", result(NOT_FOUND), ("ok", None, "n1", "")),
        ("write", result(OK), ("ok", None, "n1", "")),
        ("cas", result(OK), ("ok", None, "n1", "")),
        ("cas", result(CAS_MISMATCH, "b"), ("fail", None, "n1", "cas_mismatch")),
        ("cas", result(NOT_FOUND), ("fail", None, "n1", "not_found")),
        ("write", result(kv_pb2.KV_CODE_NOT_FOUND), ("info", None, "n1", "unexpected not_found")),
    ])
    def test_answers(self, f: str, answer: Result, want: tuple) -> None:
        assert outcome(f, answer) == want

    def test_no_answer(self) -> None:
        """Unacknowledged: a write that may have landed is info; one that surely did not, and any read, fail."""
        maybe, never = NotAcknowledged("late", unknown=True), NotAcknowledged("refused", unknown=False)
        assert outcome("write", None, maybe)[0] == "info"
        assert outcome("cas", None, maybe)[0] == "info"
        assert outcome("write", None, never)[0] == "fail"
        assert outcome("read", None, maybe)[:2] == ("fail", None)
        assert outcome("write", None, LabError("bad request: x"))[3] == "bad request: x"


class TestPace:
    def test_fixed_interval_with_jitter(self) -> None:
        rng = random.Random(1)
        gaps = []
        due = 0.0
        for _ in range(1000):
            nxt = pace(due, 0.1, rng, now=due)
            gaps.append(nxt - due)
            due = nxt
        assert min(gaps) >= 0.075 and max(gaps) <= 0.125
        assert sum(gaps) / len(gaps) == pytest.approx(0.1, rel=0.02)

    def test_no_burst_after_an_overrun(self) -> None:
        """A client 3 s behind (a timeout) catches up by one interval, not thirty operations."""
        assert pace(0.0, 0.1, random.Random(1), now=3.0) == pytest.approx(2.9)


class Store:
    """A key-value store behind one lock: every operation atomic, so its histories are linearizable.
    ``lose_every``: acknowledge every n-th write without applying it (a planted bug)."""

    def __init__(self, lose_every: int = 0) -> None:
        self.data: dict[str, str] = {}
        self.lock = threading.Lock()
        self.lose_every = lose_every
        self.writes = 0

    def apply(self, op: str, key: str, value: str = "", expected: str | None = None) -> Result:
        with self.lock:
            current = self.data.get(key)
            if op == "get":
                return result(OK, current) if current is not None else result(NOT_FOUND)
            if op == "cas" and current != expected:
                return result(CAS_MISMATCH, current) if current is not None else result(NOT_FOUND)
            self.writes += 1
            if not (self.lose_every and self.writes % self.lose_every == 0):
                self.data[key] = value
            return result(OK)


class FakeClient:
    def __init__(self, store: Store, block: threading.Event | None = None) -> None:
        self.store, self.block = store, block

    def get(self, key: str, timeout: float | None = None) -> Result:
        return self.store.apply("get", key)

    def put(self, key: str, value: str, timeout: float | None = None) -> Result:
        if self.block is not None:
            self.block.wait()
        return self.store.apply("put", key, value)

    def cas(self, key: str, expected: str | None, value: str, timeout: float | None = None) -> Result:
        return self.store.apply("cas", key, value, expected)

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


CLUSTER = SimpleNamespace(node_ids=["n1", "n2", "n3"])  # what the workload asks of a cluster beside its clients


@pytest.fixture
def fake_clients(monkeypatch: pytest.MonkeyPatch):
    """Make KVClient.for_cluster hand out FakeClients of the store the test sets."""
    made: dict[str, Any] = {"store": Store(), "block": None}

    def for_cluster(cls, cluster: Any, **kwargs: Any) -> FakeClient:
        return FakeClient(made["store"], made["block"])

    monkeypatch.setattr(workload_module.KVClient, "for_cluster", classmethod(for_cluster))
    return made


def run(tmp_path: Path, section: WorkloadSection, seconds: float, seed: int = 7) -> tuple[KVWorkload, Path]:
    path = tmp_path / "history.jsonl"
    rec = HistoryRecorder(path, time.time_ns())
    w = KVWorkload(CLUSTER, section, random.Random(seed), rec)  # type: ignore[arg-type]
    w.start()
    wait_until(lambda: w.counts()["invoke"] >= section.rate * seconds, timeout=10 * seconds + 5, what="operations")
    w.stop()
    w.final_reads(timeout=2.0)
    rec.close()
    return w, path


class TestKVWorkload:
    SECTION = WorkloadSection(clients=4, rate=400.0, keys=3, mix={"read": 0.4, "write": 0.4, "cas": 0.2})

    def test_a_correct_store_gives_a_valid_history(self, tmp_path: Path, fake_clients: dict) -> None:
        """Clients, final reads and the recorder together: the checker and no_lost_writes find nothing."""
        w, path = run(tmp_path, self.SECTION, 0.5)
        ops = read_history(path)
        assert {op.f for op in ops} == {"read", "write", "cas"}
        written = [op.value for op in ops if op.f == "write"]
        assert len(written) == len(set(written))  # every written value distinct
        assert any(op.f == "cas" and op.status == "ok" for op in ops)  # cas expects what the client saw
        finals = [op for op in ops if op.process >= 4]
        assert [op.key for op in finals] == ["k1", "k2", "k3"] and all(op.status == "ok" for op in finals)
        c = w.counts()
        assert c["invoke"] == len(ops) == c["ok"] + c["fail"] + c["info"]
        assert linearizable(path).status == "valid"
        assert no_lost_writes(path).status == "valid"

    def test_a_store_that_drops_writes_is_caught(self, tmp_path: Path, fake_clients: dict) -> None:
        """Every 3rd write acknowledged but not applied: the verdicts are invalid."""
        fake_clients["store"] = Store(lose_every=3)
        _, path = run(tmp_path, self.SECTION, 0.5)
        assert linearizable(path).status == "invalid"

    def test_the_rate_is_kept(self, tmp_path: Path, fake_clients: dict) -> None:
        """Open loop: 4 clients at 200 ops/s in all issue about 200 a second, however fast the store."""
        path = tmp_path / "history.jsonl"
        rec = HistoryRecorder(path, time.time_ns())
        w = KVWorkload(CLUSTER, WorkloadSection(clients=4, rate=200.0), random.Random(1), rec)  # type: ignore[arg-type]
        w.start()
        start = time.monotonic()
        wait_until(lambda: time.monotonic() - start >= 1.0, timeout=5, what="a second")
        w.stop()
        rec.close()
        assert 120 <= w.counts()["invoke"] <= 230

    def test_the_seed_fixes_each_clients_operations(self, tmp_path: Path, fake_clients: dict) -> None:
        """Same seed, same sequence of (f, key) per client, however the threads interleave."""
        def sequences(seed: int, sub: str) -> dict[int, list[tuple[str, str]]]:
            (tmp_path / sub).mkdir()
            _, path = run(tmp_path / sub, self.SECTION, 0.3, seed=seed)
            out: dict[int, list[tuple[str, str]]] = {}
            for op in read_history(path):
                if op.process < 4:
                    out.setdefault(op.process, []).append((op.f, op.key))
            return {p: s[:20] for p, s in out.items()}

        assert sequences(5, "a") == sequences(5, "b")
        assert sequences(5, "c") != sequences(6, "d")

    def test_stop_gives_up_on_a_stuck_client(self, tmp_path: Path, fake_clients: dict) -> None:
        """A write that never returns becomes info at stop; its late answer writes nothing more."""
        block = fake_clients["block"] = threading.Event()
        path = tmp_path / "history.jsonl"
        rec = HistoryRecorder(path, time.time_ns())
        w = KVWorkload(CLUSTER, WorkloadSection(clients=1, rate=100.0, mix={"write": 1}), random.Random(1), rec)  # type: ignore[arg-type]
        w.start()
        wait_until(lambda: w.counts()["invoke"] == 1, timeout=5, what="a write in flight")
        w.stop(timeout=0.2)
        assert lines(path)[-1]["type"] == "info"
        block.set()
        w._threads[0].join(5)
        rec.close()
        assert len(lines(path)) == 2 and w.counts() == {"invoke": 1, "ok": 0, "fail": 0, "info": 1}

    def test_bad_sections(self) -> None:
        rec = None
        for section, message in [
            (WorkloadSection(clients=0), "at least one client"),
            (WorkloadSection(rate=0), "rate and timeout"),
            (WorkloadSection(mix={"read": 1, "append": 1}), "unknown operation 'append'"),
            (WorkloadSection(mix={"read": 0}), "no operation"),
        ]:
            with pytest.raises(LabError, match=message):
                KVWorkload(CLUSTER, section, random.Random(1), rec)  # type: ignore[arg-type]

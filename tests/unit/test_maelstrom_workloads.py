"""Maelstrom's echo, broadcast and g-counter workloads against programs kept in memory: the messages
they send, the history they record, how replies and errors become completions, and the final reads
the verdicts judge. Runs last a fraction of a second."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from chaoslab.algorithms import get_algorithm
from chaoslab.algorithms.registry import load_ref
from chaoslab.algorithms.maelstrom.adapters.workloads import BroadcastWorkload, EchoWorkload, GCounterWorkload
from chaoslab.chaos.history import HistoryRecorder
from chaoslab.chaos.runner import WORKLOADS
from chaoslab.chaos.scenario import DEFAULT_MIX, WorkloadSection
from chaoslab.chaos.verdicts import all_delivered, counter_sum, echoes_match
from chaoslab.errors import LabError, NotDelivered
from chaoslab.testing import wait_until


class Programs:
    """Every node's program, in memory: echo; broadcast (a set of messages a node); g-counter (a count
    a node). ``spread``: a broadcast or add reaches every node at once (a correct program on a healthy
    network), else only the node it was sent to. ``down`` nodes refuse the connection, ``silent`` ones
    time out, ``replies`` answers a node's every message with a fixed body."""

    def __init__(self, n: int = 3, spread: bool = True, counter: bool = False) -> None:
        self.counter = counter  # reads answer a count (g-counter), else messages (broadcast)
        self.node_ids = [f"n{i}" for i in range(1, n + 1)]
        self.algorithm = get_algorithm("maelstrom")
        self.name = "fake"
        self.spread = spread
        self.messages: dict[str, set[int]] = {node: set() for node in self.node_ids}
        self.counts = dict.fromkeys(self.node_ids, 0)
        self.down: set[str] = set()
        self.silent: set[str] = set()
        self.replies: dict[str, Any] = {}
        self.sent: list[tuple[str, str, dict[str, Any]]] = []  # (node, client id, body)
        self.lock = threading.Lock()

    def command(self, node: str, name: str, args: dict[str, Any], timeout: float) -> Any:
        assert name == "client" and timeout > 0
        body = args["body"]
        with self.lock:
            self.sent.append((node, args["client"], body))
            if node in self.down:
                raise NotDelivered(f"{node} did not answer 'client' (connection refused)")
            if node in self.silent:
                raise LabError(f"{node} did not answer 'client' (client: no result within {timeout:g}s)")
            if node in self.replies:
                return self.replies[node]
            targets = self.node_ids if self.spread else [node]
            kind = body["type"]
            if kind == "echo":
                return {"type": "echo_ok", "echo": body["echo"], "in_reply_to": 1}
            if kind == "broadcast":
                for target in targets:
                    self.messages[target].add(body["message"])
                return {"type": "broadcast_ok"}
            if kind == "add":
                for target in targets:
                    self.counts[target] += body["delta"]
                return {"type": "add_ok"}
            assert kind == "read"
            if self.counter:
                return {"type": "read_ok", "value": self.counts[node]}
            return {"type": "read_ok", "messages": sorted(self.messages[node], reverse=True)}


def run(tmp_path: Path, kind: type, cluster: Programs, seconds: float = 0.4, *, final: float | None = 0.5,
        **section: Any) -> tuple[Any, Path]:
    """Run a workload for ``seconds``, stop it, do its final reads (if it has any); returns it and its history."""
    options = {"clients": 3, "rate": 150.0, "timeout": 0.5, **section}
    options.setdefault("mix", dict(DEFAULT_MIX.get({BroadcastWorkload: "broadcast", GCounterWorkload: "g-counter"}
                                                   .get(kind, ""), {})))
    path = tmp_path / "history.jsonl"
    with HistoryRecorder(path, 0) as recorder:
        workload = kind(cluster, WorkloadSection(kind="x", **options), random.Random(3), recorder)
        workload.start()
        wait_until(lambda: recorder.counts()["ok"] + recorder.counts()["fail"] >= seconds * options["rate"] * 0.5,
                   timeout=10, what="the clients at work")
        workload.stop()
        if final is not None and hasattr(workload, "final_reads"):
            workload.final_reads(timeout=final)
    return workload, path


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class TestEcho:
    def test_each_client_echoes_unique_strings_to_its_own_node(self, tmp_path: Path) -> None:
        """Client i is bound to node i mod N with its own client id; every string is new; all came back."""
        cluster = Programs()
        _, path = run(tmp_path, EchoWorkload, cluster)
        texts = [body["echo"] for _, _, body in cluster.sent]
        assert len(texts) == len(set(texts)) > 10
        by_client: dict[str, set[str]] = {}
        for node, client, _ in cluster.sent:
            by_client.setdefault(client, set()).add(node)
        assert sorted(map(sorted, by_client.values())) == [["n1"], ["n2"], ["n3"]]
        ops = lines(path)
        assert {op["f"] for op in ops} == {"echo"} and {op["process"] for op in ops} == {0, 1, 2}
        assert echoes_match(path).status == "valid"

    def test_a_wrong_echo_is_recorded_as_it_came(self, tmp_path: Path) -> None:
        """The completion holds what came back (also nothing), so echoes_match can see it."""
        cluster = Programs()
        cluster.replies["n2"] = {"type": "echo_ok"}
        _, path = run(tmp_path, EchoWorkload, cluster)
        wrong = [op for op in lines(path) if op["type"] == "ok" and op["value"] is None]
        assert wrong and {op["node"] for op in wrong} == {"n2"}
        assert echoes_match(path).status == "invalid"


class TestBroadcast:
    def test_a_correct_program_delivers_everything(self, tmp_path: Path) -> None:
        """Unique ints, reads of each client's node (key = the node); the final reads hold every
        acknowledged message: valid, with a latency for each."""
        cluster = Programs()
        workload, path = run(tmp_path, BroadcastWorkload, cluster)
        sent = [body["message"] for _, _, body in cluster.sent if body["type"] == "broadcast"]
        assert len(sent) == len(set(sent)) > 5
        reads = [op for op in lines(path) if op["f"] == "read" and op["type"] == "ok"]
        assert {op["key"] for op in reads} == {"n1", "n2", "n3"} and all(op["key"] == op["node"] for op in reads)
        assert all(op["value"] == sorted(op["value"]) for op in reads)  # sorted, whatever order the node used
        v = all_delivered(path)
        assert v.status == "valid", v.summary
        assert v.details["latency"]["count"] == len(workload.acknowledged) == v.details["acknowledged"]

    def test_a_program_that_keeps_messages_to_itself_is_caught(self, tmp_path: Path) -> None:
        """Each node holds only what was broadcast to it: the final reads (polled to their deadline)
        lack the others' messages."""
        _, path = run(tmp_path, BroadcastWorkload, Programs(spread=False), final=0.3)
        v = all_delivered(path)
        assert v.status == "invalid" and set(v.details["lost"]) == {"n1", "n2", "n3"}

    def test_final_reads_poll_until_a_node_holds_everything(self, tmp_path: Path) -> None:
        """A node still catching up is read again, until its read holds every acknowledged message."""
        cluster = Programs(spread=False)
        workload, path = run(tmp_path, BroadcastWorkload, cluster, final=None)
        behind = {node: 0 for node in cluster.node_ids}
        real = cluster.command

        def catching_up(node: str, name: str, args: dict[str, Any], timeout: float) -> Any:
            behind[node] += 1
            if behind[node] == 3:  # the third read finds the gossip arrived
                cluster.messages[node] |= set(workload.acknowledged)
            return real(node, name, args, timeout)

        cluster.command = catching_up  # type: ignore[method-assign]
        recorder = HistoryRecorder(tmp_path / "final.jsonl", 0)
        workload.recorder = recorder
        found = workload.final_reads(timeout=5.0)
        recorder.close()
        assert behind == {"n1": 3, "n2": 3, "n3": 3}
        assert all(set(workload.acknowledged) <= set(messages) for messages in found.values())
        assert {op["process"] for op in lines(tmp_path / "final.jsonl")} == {3, 4, 5}


class TestGCounter:
    def test_a_correct_counter_agrees_on_the_sum(self, tmp_path: Path) -> None:
        cluster = Programs(counter=True)
        workload, path = run(tmp_path, GCounterWorkload, cluster)
        deltas = [body["delta"] for _, _, body in cluster.sent if body["type"] == "add"]
        assert deltas and all(0 <= d <= 5 for d in deltas)
        low, high = workload.bounds()
        assert low == high == sum(deltas)
        v = counter_sum(path)
        assert v.status == "valid", v.summary
        assert set(v.details["final"].values()) == {low}

    def test_a_counter_that_keeps_adds_to_itself_is_caught(self, tmp_path: Path) -> None:
        _, path = run(tmp_path, GCounterWorkload, Programs(spread=False, counter=True), final=0.3)
        assert counter_sum(path).status == "invalid"


class TestOutcomes:
    @pytest.mark.parametrize(("f", "problem", "want"), [
        ("add", NotDelivered("n1 did not answer 'client' (connection refused)"), "fail"),  # never reached it
        ("add", LabError("n1 did not answer 'client' (no result within 0.5s)"), "info"),  # may have applied
        ("add", {"type": "error", "code": 11, "text": "busy"}, "fail"),  # temporarily-unavailable: definite
        ("add", {"type": "error", "code": 0}, "info"),  # timeout: indefinite
        ("add", {"type": "error", "code": 999}, "info"),  # unknown: better unknown than wrong
        ("add", {"type": "read_ok"}, "info"),  # an answer to something else
        ("broadcast", {"type": "error", "code": 13}, "info"),  # crash: indefinite
        ("broadcast", {"type": "error", "code": 10}, "fail"),  # not-supported
        ("echo", LabError("n1 did not answer 'client'"), "fail"),  # an echo changes nothing
        ("echo", {"type": "error", "code": 0}, "fail"),
        ("read", LabError("n1 did not answer 'client'"), "fail"),
    ])
    def test_replies_and_errors(self, tmp_path: Path, f: str, problem: Any, want: str) -> None:
        """Maelstrom's rules: definite errors and undelivered requests fail, indefinite ones and no
        reply leave a change unknown; an operation that changes nothing is never unknown."""
        cluster = Programs()
        if isinstance(problem, NotDelivered):
            cluster.down.add("n1")
        elif isinstance(problem, Exception):
            cluster.silent.add("n1")
        else:
            cluster.replies["n1"] = problem
        body, value = {"add": ({"type": "add", "delta": 2}, 2), "broadcast": ({"type": "broadcast", "message": 7}, 7),
                       "echo": ({"type": "echo", "echo": "x"}, "x"), "read": ({"type": "read"}, None)}[f]
        with HistoryRecorder(tmp_path / "h.jsonl", 0) as recorder:
            workload = EchoWorkload(cluster, WorkloadSection(kind="echo", clients=1, timeout=0.2), random.Random(1),
                                    recorder)
            workload.call(0, workload.connect(0, "n1"), f, "n1" if f == "read" else None, value, body, lambda ok: None)
        done = lines(tmp_path / "h.jsonl")[-1]
        assert (done["f"], done["type"]) == (f, want)

    def test_a_mix_of_another_kind_is_refused(self, tmp_path: Path) -> None:
        with HistoryRecorder(tmp_path / "h.jsonl", 0) as recorder, \
                pytest.raises(LabError, match=r"workload mix: unknown operation 'write' \(known: add, read\)"):
            GCounterWorkload(Programs(), WorkloadSection(kind="g-counter", mix={"write": 1.0}), random.Random(1),
                             recorder)


class TestKindTable:
    def test_every_kind_loads(self) -> None:
        """The runner's table names a workload class for every kind a scenario can ask for."""
        from chaoslab.chaos.parse import WORKLOAD_KINDS

        assert set(WORKLOADS) == set(WORKLOAD_KINDS)
        for ref in WORKLOADS.values():
            cls = load_ref(ref)
            assert callable(getattr(cls, "start")) and callable(getattr(cls, "stop"))

    def test_the_runner_imports_no_adapter(self) -> None:
        """chaos/ names Maelstrom's workloads by reference only: importing the runner loads no adapter."""
        code = "import sys, chaoslab.chaos.runner; print([m for m in sys.modules if '.adapters' in m])"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip() == "[]"

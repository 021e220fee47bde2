"""One seed scheme: derive_rng, the streams drivers take from it, and Cluster.partition's draws."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.spec import AlgorithmSpec
from chaoslab.lab.cluster import Cluster
from chaoslab.net.rules import FaultChange
from chaoslab.process.rundir import RunDir
from chaoslab.process.spec import ClusterSpec
from chaoslab.seeds import derive_rng, derive_seed
from chaoslab.sim import Simulation


class TestDeriveRng:
    def test_labels_name_independent_streams(self) -> None:
        """The same seed and labels give the same stream; another label or seed, another one."""
        draw = lambda *key: [derive_rng(*key).random() for _ in range(3)]  # noqa: E731
        assert draw(7, "node", "n1", 0) == draw(7, "node", "n1", 0)
        assert len({tuple(draw(*k)) for k in [(7, "node", "n1", 0), (7, "node", "n1", 1), (8, "node", "n1", 0)]}) == 3

    def test_seed_is_64_bits_and_label_boundaries_count(self) -> None:
        """derive_seed fits in 64 bits, and ("a", "bc") is not ("ab", "c")."""
        assert 0 <= derive_seed(1, "x") < 2**64
        assert derive_seed(1, "a", "bc") != derive_seed(1, "ab", "c")

    def test_the_simulator_hands_a_core_the_nodes_stream(self) -> None:
        """A simulated node gets derive_rng(seed, "node", id, incarnation): the stream the node
        process of a real cluster with that seed hands the same node (runtime/node.py)."""
        sim = Simulation(RECORDER, 3, seed=11)
        assert sim.nodes["n2"].first == derive_rng(11, "node", "n2", 0).random()  # type: ignore[union-attr]
        sim.crash("n2")
        sim.restart("n2")
        assert sim.nodes["n2"].first == derive_rng(11, "node", "n2", 1).random()  # type: ignore[union-attr]


class Recorder:
    """A core that only notes the first number its rng gives."""

    def __init__(self, node_id: str, nodes: list[str], config: Any, rng: Any, durable: Any) -> None:
        self.first = rng.random()

    def start(self, now: float) -> Output:
        return Output()

    def next_deadline(self) -> float:
        return math.inf

    def status(self, now: float) -> dict[str, Any]:
        return {"role": "member", "term": 0, "leader": ""}


RECORDER = AlgorithmSpec(name="recorder", summary="test core", factory=Recorder, message_types=(),
                         roles={"member": "follow"}, ready=lambda statuses: True)


class TestClusterPartitionDraws:
    @staticmethod
    def partitions(tmp_path: Path, name: str, seed: int, calls: int, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
        run = RunDir(tmp_path / name)
        run.path.mkdir()
        ClusterSpec(name=name, algorithm="raft", nodes=5, seed=seed).save(run.spec)
        monkeypatch.setattr(Cluster, "_change", lambda self, change: change)
        groups = []
        for _ in range(calls):
            change: FaultChange = Cluster(run).partition("random-halves")  # a new handle each time, as the CLI
            groups.append(change.partition_groups)
        return groups

    def test_same_seed_same_partitions(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Successive random partitions differ, and a cluster with the same seed gets the same
        sequence: the n-th draws from derive_rng(seed, "partition", n), never from the clock."""
        first = self.partitions(tmp_path, "a", 7, 6, monkeypatch)
        assert first == self.partitions(tmp_path, "b", 7, 6, monkeypatch)
        assert len(set(first)) > 1
        assert first != self.partitions(tmp_path, "c", 8, 6, monkeypatch)

    def test_an_explicit_seed_wins(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """partition(seed=S) draws from S alone, whatever the cluster's seed and history."""
        run = RunDir(tmp_path / "d")
        run.path.mkdir()
        ClusterSpec(name="d", algorithm="raft", nodes=5, seed=1).save(run.spec)
        monkeypatch.setattr(Cluster, "_change", lambda self, change: change)
        picks = {Cluster(run).partition("random-halves", seed=3).partition_groups for _ in range(4)}
        assert len(picks) == 1

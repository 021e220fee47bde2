"""Fakes for the runner's unit tests: a cluster that keeps its state in memory and a clock that
only moves when slept on. The fake cluster's network is a real :class:`FaultTable` fed by the
real partition builder, so rule ids, replacement and removal behave as the proxy's do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from chaoslab.errors import LabError
from chaoslab.net.partitions import build, parse_spec
from chaoslab.net.rules import (
    FaultChange,
    FaultState,
    FaultTable,
    delay_rule,
    drop_rule,
    duplicate_rule,
    reorder_rule,
)
from chaoslab.v1 import control_pb2, node_pb2


class FakeClock:
    """Virtual seconds since t0; ``sleep`` moves time on and runs what was due meanwhile."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []
        self.hooks: list[tuple[float, Callable[[], None]]] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.t += seconds
        for when, hook in [h for h in self.hooks if h[0] <= self.t]:
            self.hooks.remove((when, hook))
            hook()

    def advance(self, seconds: float) -> None:
        self.t += seconds


class FakeCluster:
    """The parts of :class:`chaoslab.lab.cluster.Cluster` a run uses, in memory."""

    def __init__(self, n: int = 5, leader: str | None = "n1", run_dir: Path | None = None) -> None:
        self.node_ids = [f"n{i}" for i in range(1, n + 1)]
        self.states = dict.fromkeys(self.node_ids, "up")
        self.leader_id = leader
        self.table = FaultTable(seed=1)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.commands: list[tuple[str, str, dict[str, Any]]] = []
        base = run_dir or Path("/nonexistent")
        self.run = type("Run", (), {"events": base / "events.jsonl", "supervisor_log": base / "supervisor.log",
                                    "proxy_log": base / "proxy.log",
                                    "node_log": lambda _self, node: base / "nodes" / node / "node.log"})()
        self.name = "fake"
        self.downed = False

    # -- looking
    def status(self, **_: Any) -> control_pb2.ClusterStatus:
        nodes = []
        for node, state in self.states.items():
            info = control_pb2.NodeInfo(id=node, state=state)
            if state == "up":
                role = "leader" if node == self.leader() else "follower"
                info.status.CopyFrom(node_pb2.NodeStatus(id=node, algorithm="raft", role=role, term=1))
            nodes.append(info)
        return control_pb2.ClusterStatus(cluster="fake", algorithm="raft", nodes=nodes)

    def leader(self) -> str | None:
        return self.leader_id if self.leader_id and self.states[self.leader_id] == "up" else None

    def wait_for_leader(self, timeout: float = 10.0) -> str:
        leader = self.leader()
        if leader is None:
            raise TimeoutError(f"a leader not reached within {timeout:g}s")
        return leader

    # -- process faults
    def _act(self, verb: str, nodes: Sequence[str], before: str, after: str) -> list[str]:
        self.calls.append((verb, tuple(nodes)))
        for node in nodes:
            if node not in self.states:
                raise LabError(f"unknown node {node!r}")
            if self.states[node] != before:
                raise LabError(f"{node} is {self.states[node]}; cannot {verb} it")
        for node in nodes:
            self.states[node] = after
        return list(nodes)

    def crash(self, *nodes: str, seed: int = 0) -> list[str]:
        return self._act("crash", nodes, "up", "crashed")

    def restart(self, *nodes: str) -> list[str]:
        return self._act("restart", nodes, "crashed", "up")

    def pause(self, *nodes: str, seed: int = 0) -> list[str]:
        return self._act("pause", nodes, "up", "paused")

    def resume(self, *nodes: str) -> list[str]:
        return self._act("resume", nodes, "paused", "up")

    # -- network faults
    def _change(self, change: FaultChange) -> FaultState:
        try:
            self.table.apply(change, 0.0)
        except ValueError as exc:
            raise LabError(str(exc)) from None
        return self.table.state(0.0)

    def partition(self, *spec: str, for_s: float | None = None, seed: int | None = None) -> FaultState:
        self.calls.append(("partition", spec))
        try:
            part = build(self.node_ids, parse_spec(list(spec)), leader=self.leader())
        except ValueError as exc:
            raise LabError(str(exc)) from None
        return self._change(FaultChange(heal=True, add=tuple(part.rules()), partition_groups=tuple(part.group_labels())))

    def _link(self, make: Callable[..., Any], *args: Any, src: Sequence[str] = (), dst: Sequence[str] = (),
              for_s: float | None = None, **kwargs: Any) -> FaultState:
        self.calls.append((make.__name__, args))
        return self._change(FaultChange(add=(make(*args, src=src, dst=dst, **kwargs),)))

    def drop(self, p: float, **kw: Any) -> FaultState:
        return self._link(drop_rule, p, **kw)

    def delay(self, s: float, **kw: Any) -> FaultState:
        return self._link(delay_rule, s, **kw)

    def duplicate(self, p: float, **kw: Any) -> FaultState:
        return self._link(duplicate_rule, p, **kw)

    def reorder(self, p: float, **kw: Any) -> FaultState:
        return self._link(reorder_rule, p, **kw)

    def heal(self) -> FaultState:
        self.calls.append(("heal", ()))
        return self._change(FaultChange(heal=True))

    def clear(self) -> FaultState:
        self.calls.append(("clear", ()))
        return self._change(FaultChange(clear_all=True))

    def remove_faults(self, *ids: str) -> FaultState:
        self.calls.append(("remove_faults", ids))
        return self._change(FaultChange(remove=ids))

    def faults(self) -> FaultState:
        return self.table.state(0.0)

    def command(self, node: str, name: str, args: Any = None, timeout: float = 5.0) -> Any:
        self.commands.append((node, name, dict(args or {})))
        return {"ok": True}

    def down(self) -> None:
        self.downed = True

    # -- for the tests
    def rule_kinds(self) -> list[str]:
        return [r.kind for r in self.table.rules()]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


@pytest.fixture
def make_cluster() -> type[FakeCluster]:
    """The fake cluster's class, for a test that wants another size or no leader."""
    return FakeCluster

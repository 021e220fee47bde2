"""The seam between Raft and the state machine it replicates (chaoslab.algorithms.statemachine).

Raft must know nothing of keys and sessions: here the same ``RaftNode`` replicates a
tiny counter in the deterministic simulator, through elections, a crash, a snapshot
install and a restart, and every replica ends with the same count.
"""

from __future__ import annotations

import ast
import dataclasses
import struct
from pathlib import Path
from typing import Any

import chaoslab.algorithms.raft as raft_pkg

from chaoslab.algorithms.raft import RaftNode, parse_config
from chaoslab.algorithms.raft.invariants import raft_caught_up
from chaoslab.algorithms.registry import get_algorithm
from chaoslab.algorithms.statemachine import Refusal, StateMachine
from chaoslab.sim import Simulation, invariants_for

_ADD = struct.Struct("<q")


class Counter:
    """A replicated counter: a command is an int to add, or ``"read"``; a result is
    ``("ok", value, index)`` or ``("refused", reason, leader_hint)``."""

    def __init__(self) -> None:
        self.value = 0
        self.adds = 0  # how many additions applied (snapshots carry it too)

    @classmethod
    def of(cls, value: int, adds: int) -> Counter:
        counter = cls()
        counter.value, counter.adds = value, adds
        return counter

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Counter) and (self.value, self.adds) == (other.value, other.adds)

    def split(self, requests: Any) -> tuple[list[tuple[int, Any]], list[int], list[Any], list[tuple[int, Any]]]:
        reads, ids, writes, rejected = [], [], [], []
        for request_id, command in requests:
            if command == "read":
                reads.append((request_id, command))
            elif isinstance(command, int):
                ids.append(request_id)
                writes.append(command)
            else:
                rejected.append((request_id, ("bad", command, "")))
        return reads, ids, writes, rejected

    def encode(self, commands: list[int]) -> bytes:
        return b"".join(_ADD.pack(n) for n in commands)

    def apply(self, index: int, data: bytes) -> None:
        if len(data) % _ADD.size:
            return  # not ours: applies as nothing
        self.apply_own(index, [n for (n,) in _ADD.iter_unpack(data)])

    def apply_own(self, index: int, commands: list[int]) -> list[Any]:
        results = []
        for n in commands:
            self.value += n
            self.adds += 1
            results.append(("ok", self.value, index))
        return results

    def query(self, index: int, command: Any) -> Any:
        return ("ok", self.value, index)

    def refuse(self, reason: Refusal, leader_hint: str) -> Any:
        return ("refused", reason, leader_hint)

    def snapshot(self) -> bytes:
        return struct.pack("<qq", self.value, self.adds)

    def restore(self, data: bytes) -> None:
        if len(data) != 16:
            raise ValueError(f"not a counter snapshot: {data!r}")
        self.value, self.adds = struct.unpack("<qq", data)

    def describe(self, data: bytes) -> str:
        return "add " + ",".join(str(n) for (n,) in _ADD.iter_unpack(data))


def counter_spec() -> Any:
    """Raft as the registry builds it, but replicating a Counter."""
    return dataclasses.replace(
        get_algorithm("raft"),
        factory=lambda i, n, c, r, d: RaftNode(i, n, parse_config(c), r, d, Counter()),
    )


def leader_of(sim: Simulation) -> str:
    assert sim.run_until(lambda s: len(s.leaders()) == 1, timeout=5.0)
    return next(iter(sim.leaders()))


class TestCounterOverRaft:
    def test_replicas_agree_through_a_crash_and_a_snapshot_install(self) -> None:
        """Every replica applies the same additions: a follower that was down while the log was
        compacted catches up by InstallSnapshot, and all end with the same count."""
        sim = Simulation(counter_spec(), nodes=3, seed=7, config={"snapshot_threshold": 5})
        for invariant in invariants_for("raft"):
            sim.add_invariant(invariant)
        leader = leader_of(sim)
        follower = next(n for n in sim.node_ids if n != leader)
        calls = [sim.request(leader, n) for n in range(1, 11)]
        sim.run_for(0.5)
        sim.crash(follower)
        calls += [sim.request(leader, n) for n in range(11, 31)]
        sim.run_for(0.5)
        sim.restart(follower)
        assert sim.run_until(raft_caught_up, timeout=10.0)
        assert all(call.done and call.result[0] == "ok" for call in calls)
        cores = [sim.nodes[n] for n in sim.node_ids]
        machines: list[StateMachine] = [core.state_machine for core in cores]  # type: ignore[union-attr]
        assert all(m == machines[0] for m in machines)
        assert machines[0] == Counter.of(sum(range(1, 31)), 30)
        installed = [e for e in sim.events if e.node == follower and e.kind == "snapshot"]
        assert any(e.data.get("how") == "installed" for e in installed)

    def test_reads_go_through_read_index_and_bad_commands_are_refused(self) -> None:
        """A read is answered by the machine's query after ReadIndex, at the leader's commit index;
        a command the machine does not know is refused by it, never logged."""
        sim = Simulation(counter_spec(), nodes=3, seed=3)
        leader = leader_of(sim)
        add = sim.request(leader, 5)
        sim.run_for(0.3)
        read, bad = sim.request(leader, "read"), sim.request(leader, "noise")
        sim.run_for(0.3)
        assert add.result == ("ok", 5, add.result[2]) and add.result[2] > 0
        assert read.result == ("ok", 5, add.result[2])
        assert bad.result == ("bad", "noise", "")
        assert sim.nodes[leader].log.last_index == add.result[2]  # type: ignore[union-attr]

    def test_a_follower_refuses_through_the_machine(self) -> None:
        """A command sent to a follower comes back as the machine's own refusal, with the leader hint."""
        sim = Simulation(counter_spec(), nodes=3, seed=5)
        leader = leader_of(sim)
        follower = next(n for n in sim.node_ids if n != leader)
        sim.run_for(0.2)
        call = sim.request(follower, 1)
        sim.run_for(0.2)
        assert call.result == ("refused", Refusal.NOT_LEADER, leader)

    def test_status_describes_entries_through_the_machine(self) -> None:
        """The log tail in status is rendered by the machine's describe."""
        sim = Simulation(counter_spec(), nodes=3, seed=9)
        leader = leader_of(sim)
        sim.request(leader, 4)
        sim.run_for(0.3)
        core = sim.nodes[leader]
        tail = core.status(sim.now, log_tail=1)["raft"]["log_tail"]  # type: ignore[union-attr]
        assert tail[0]["text"] == "add 4"


class TestRaftKnowsNoKV:
    def test_only_the_spec_imports_the_key_value_store(self) -> None:
        """No module of chaoslab/algorithms/raft but spec.py (where Raft is given its state machine)
        imports chaoslab.algorithms.kv."""
        root = Path(raft_pkg.__file__).parent
        offenders = []
        for path in sorted(root.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names.append(node.module)
                if any(n == "chaoslab.algorithms.kv" or n.startswith("chaoslab.algorithms.kv.") for n in names):
                    offenders.append(str(path.relative_to(root)))
        assert sorted(set(offenders)) == ["spec.py"]


"""Raft as chaoslab sees it: the one place the rest of the lab learns about Raft.

It is also where Raft meets the state machine it runs: the key-value store
(:mod:`chaoslab.algorithms.kv`). No other module of this package imports it;
another spec could hand the same ``RaftNode`` another machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Algorithm
from chaoslab.algorithms.kv import KVStore
from chaoslab.algorithms.kv.checks import check_acknowledged_writes
from chaoslab.algorithms.raft import invariants
from chaoslab.algorithms.raft.config import parse_config
from chaoslab.algorithms.raft.core import CANDIDATE, FOLLOWER, LEADER, PRE_CANDIDATE, RaftNode
from chaoslab.algorithms.raft.durable import RaftDurable
from chaoslab.algorithms.raft.invariants import (
    StateMachineSafety,
    raft_caught_up,
    raft_converged,
    raft_crash_points,
    raft_invariants,
    raft_leader_bound,
)
from chaoslab.algorithms.raft.messages import MESSAGE_TYPES
from chaoslab.algorithms.spec import AlgorithmSpec, SimHooks, StatusColumn

if TYPE_CHECKING:
    import random

    from chaoslab.algorithms.spec import Invariant
    from chaoslab.sim.simulation import Simulation


def _factory(node_id: str, nodes: list[str], config: Mapping[str, Any], rng: random.Random, durable: Any) -> Algorithm:
    # max_sessions and max_value_bytes are the store's settings; cluster files keep them in [raft],
    # so RaftConfig parses them.
    raft = parse_config(config)
    return RaftNode(node_id, nodes, raft, rng, durable, KVStore(raft.max_sessions, raft.max_value_bytes))


def check_final(sim: Simulation, machine: StateMachineSafety, workload: Any = None) -> None:
    """Raft's end-of-run check (replicas agree) with the store's (acknowledged writes survive)."""
    invariants.check_final(sim, machine, workload, check_acknowledged_writes)


def _final_check(sim: Simulation, found: list[Invariant], workload: Any) -> None:
    invariants.final_check(sim, found, workload, check_acknowledged_writes)


def _check_config(config: Mapping[str, Any]) -> None:
    parse_config(config)


SPEC = AlgorithmSpec(
    name="raft",
    summary="Raft consensus (elections, replicated log, key-value store)",
    factory=_factory,
    message_types=MESSAGE_TYPES,
    roles={FOLLOWER: "follow", PRE_CANDIDATE: "campaign", CANDIDATE: "campaign", LEADER: "lead"},
    check_config=_check_config,
    durable_model=RaftDurable,
    storage="chaoslab.algorithms.raft.adapters.wal:RaftLogStorage",
    client_api="kv",
    default_checks={"linearizable": True, "no_lost_writes": True, "election_safety": True, "leader_within": 5.0},
    status_columns=(
        StatusColumn("commit", "raft.commit_index"),
        StatusColumn("apply", "raft.applied_index", label="appl", optional=True, warn_below="raft.commit_index"),
        StatusColumn("last", "raft.last_index", label="log"),
    ),
    panel="chaoslab.algorithms.raft.adapters.panel:raft_panel",
    sim=SimHooks(
        invariants=raft_invariants,
        converged=raft_converged,
        caught_up=raft_caught_up,
        check_final=_final_check,
        crash_points=raft_crash_points,
        leader_bound=raft_leader_bound,
    ),
)

"""Raft as chaoslab sees it: the one place the rest of the lab learns about Raft."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Algorithm
from chaoslab.algorithms.raft.config import parse_config
from chaoslab.algorithms.raft.core import CANDIDATE, FOLLOWER, LEADER, PRE_CANDIDATE, RaftNode
from chaoslab.algorithms.raft.durable import RaftDurable
from chaoslab.algorithms.raft.invariants import final_check, raft_caught_up, raft_converged, raft_invariants
from chaoslab.algorithms.raft.messages import MESSAGE_TYPES
from chaoslab.algorithms.spec import AlgorithmSpec, SimHooks, StatusColumn

if TYPE_CHECKING:
    import random


def _factory(node_id: str, nodes: list[str], config: Mapping[str, Any], rng: random.Random, durable: Any) -> Algorithm:
    return RaftNode(node_id, nodes, parse_config(config), rng, durable)


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
        check_final=final_check,
    ),
)

"""The buggy Raft's spec: Raft's own, with a core that breaks one rule (see the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chaoslab.algorithms.base import Algorithm
from chaoslab.algorithms.kv import KVStore
from chaoslab.algorithms.raft.config import parse_config
from chaoslab.algorithms.raft.invariants import raft_leader_bound
from chaoslab.algorithms.raft.spec import SPEC as RAFT

from .core import BUGS


def _split(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    rest = dict(config)
    bug = rest.pop("bug", "none")
    if bug not in BUGS:
        raise ValueError(f"bug must be one of {', '.join(BUGS)}, got {bug!r}")
    return bug, rest


def _check_config(config: Mapping[str, Any]) -> None:
    parse_config(_split(config)[1])


def _factory(node_id: str, nodes: list[str], config: Mapping[str, Any], rng: Any, durable: Any) -> Algorithm:
    bug, rest = _split(config)
    raft = parse_config(rest)
    return BUGS[bug](node_id, nodes, raft, rng, durable, KVStore(raft.max_sessions))


SPEC = replace(
    RAFT,
    name="buggy_raft",
    summary=f"Raft with a planted bug (config key bug: {', '.join(b for b in BUGS if b != 'none')})",
    factory=_factory,
    check_config=_check_config,
    detail_key="raft",  # status carries Raft's own detail
    sim=replace(RAFT.sim, leader_bound=lambda config: raft_leader_bound(_split(config)[1])),
    ref="",
)

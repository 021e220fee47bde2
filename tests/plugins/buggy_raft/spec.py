"""The buggy Raft's spec: Raft's own, with a core that breaks one rule (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from chaoslab.algorithms.base import Algorithm, Output
from chaoslab.algorithms.kv import KVStore
from chaoslab.algorithms.kv.commands import OPS, KVOp
from chaoslab.algorithms.raft.config import parse_config
from chaoslab.algorithms.raft.core import LEADER, RaftNode
from chaoslab.algorithms.raft.spec import SPEC as RAFT

BUGS = ("none", "stale_reads", "apply_before_commit")


class BuggyRaftNode(RaftNode):
    def __init__(self, *args: Any, bug: str) -> None:
        super().__init__(*args)
        self.bug = bug

    def request_many(self, requests: Iterable[tuple[int, Any]], now: float) -> Output:
        if self.bug != "stale_reads" or not self._started:
            return super().request_many(requests, now)
        requests = list(requests)
        reads = [(rid, c) for rid, c in requests if OPS.get(c.op) == KVOp.GET]
        rest = [(rid, c) for rid, c in requests if OPS.get(c.op) != KVOp.GET]
        out = super().request_many(rest, now) if rest else Output()
        for request_id, command in reads:
            # THE BUG: no ReadIndex round, no leadership check: whatever this node has applied.
            out.reply(request_id, self.state_machine.query(self.applied_index, command))
        return out

    def _maybe_commit(self, out: Output) -> None:
        if self.bug == "apply_before_commit" and self.role == LEADER:
            last = self.log.last_index
            if last > self.commit_index and self.log.term_at(last) == self.term:
                # THE BUG: committed once in the leader's own log, before a majority holds it.
                self.commit_index = last
                self._dirty = True
                self._apply(out)
            return
        super()._maybe_commit(out)


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
    return BuggyRaftNode(node_id, nodes, raft, rng, durable, KVStore(raft.max_sessions), bug=bug)


SPEC = replace(
    RAFT,
    name="buggy_raft",
    summary="Raft with a planted bug (config key bug: stale_reads, apply_before_commit)",
    factory=_factory,
    check_config=_check_config,
    detail_key="raft",  # status carries Raft's own detail
    ref="",
)

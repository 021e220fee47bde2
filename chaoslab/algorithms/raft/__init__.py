"""Raft: leader election, the replicated log, and a linearizable key-value store.

``RaftNode`` is the sans-I/O core (:mod:`.core`); ``parse_config`` checks a
cluster file's ``[raft]`` section (:mod:`.config`). The core's parts, one idea
a module: :mod:`.log` (the in-memory log around the snapshot),
:mod:`.progress` (the leader's view of each follower), :mod:`.readindex`
(linearizable reads), :mod:`.kv` (the state machine, its client sessions and
snapshots), :mod:`.durable` (what survives a crash), :mod:`.commands` (client
commands and results) and :mod:`.messages` (the wire dataclasses).
"""

from chaoslab.algorithms.raft.commands import KVCode, KVCommand, KVOp, KVResult
from chaoslab.algorithms.raft.config import RaftConfig, parse_config
from chaoslab.algorithms.raft.core import CANDIDATE, FOLLOWER, LEADER, PRE_CANDIDATE, ROLES, RaftNode
from chaoslab.algorithms.raft.durable import HardState, RaftDurable, RaftPersist, Snapshot

__all__ = [
    "CANDIDATE",
    "FOLLOWER",
    "LEADER",
    "PRE_CANDIDATE",
    "ROLES",
    "HardState",
    "KVCode",
    "KVCommand",
    "KVOp",
    "KVResult",
    "RaftConfig",
    "RaftDurable",
    "RaftNode",
    "RaftPersist",
    "Snapshot",
    "parse_config",
]

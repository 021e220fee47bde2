"""Raft: leader election and the replicated log, feeding a state machine.

``RaftNode`` is the sans-I/O core (:mod:`.core`); it replicates any
:class:`~chaoslab.algorithms.statemachine.StateMachine` it is given (the
registry gives it the key-value store, :mod:`chaoslab.algorithms.kv`).
``parse_config`` checks a cluster file's ``[raft]`` section (:mod:`.config`).
The core's parts, one idea a module: :mod:`.log` (the in-memory log around
the snapshot), :mod:`.progress` (the leader's view of each follower),
:mod:`.readindex` (linearizable reads), :mod:`.durable` (what survives a
crash) and :mod:`.messages` (the wire dataclasses).
"""

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
    "RaftConfig",
    "RaftDurable",
    "RaftNode",
    "RaftPersist",
    "Snapshot",
    "parse_config",
]

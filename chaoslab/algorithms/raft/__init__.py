"""Raft: leader election now; the replicated log and key-value store come next.

``RaftNode`` is the sans-I/O core (:mod:`.core`), ``parse_config`` checks a
cluster file's ``[raft]`` section (:mod:`.config`), and :mod:`.messages` holds
the wire dataclasses.
"""

from chaoslab.algorithms.raft.config import RaftConfig, parse_config
from chaoslab.algorithms.raft.core import CANDIDATE, FOLLOWER, LEADER, PRE_CANDIDATE, ROLES, RaftNode

__all__ = ["CANDIDATE", "FOLLOWER", "LEADER", "PRE_CANDIDATE", "ROLES", "RaftConfig", "RaftNode", "parse_config"]

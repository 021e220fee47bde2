"""The key-value state machine: any log-based core can host it (pure, no I/O).

Not an algorithm: a :class:`~chaoslab.algorithms.statemachine.StateMachine`
that Raft (or another replicated log) runs. :mod:`.commands` holds the
commands and results (numbered as ``proto/chaoslab/v1/kv.proto``),
:mod:`.encoding` their binary form in log entries, and :mod:`.store` the map
with its client sessions (registered through the log; exactly once by ``(session, seq)``) and snapshots.
"""

from chaoslab.algorithms.kv.commands import OPS, KVCode, KVCommand, KVOp, KVResult
from chaoslab.algorithms.kv.encoding import (
    decode_command,
    decode_commands,
    describe,
    describe_entry,
    encode_command,
    encode_commands,
)
from chaoslab.algorithms.kv.store import DEFAULT_MAX_SESSIONS, KVStore, Session

__all__ = [
    "DEFAULT_MAX_SESSIONS",
    "OPS",
    "KVCode",
    "KVCommand",
    "KVOp",
    "KVResult",
    "KVStore",
    "Session",
    "decode_command",
    "decode_commands",
    "describe",
    "describe_entry",
    "encode_command",
    "encode_commands",
]

"""Client commands for the key-value store, and their results.

Field names match ``KVRequest`` / ``KVReply`` in ``proto/chaoslab/v1/kv.proto``
and the enums share their numbers (``KV_OP_PUT`` is ``KVOp.PUT``; a unit test
fails if they drift). The store reads a command only through these field
names, so the runtime hands it the ``KVRequest`` it received as is (``op``
then is a plain int, which compares equal to its ``KVOp``). A request's
``client_id`` is the client's label for matching replies, not state: no
command carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class KVOp(IntEnum):
    GET = 1
    PUT = 2
    CAS = 3
    APPEND = 4
    DELETE = 5
    REGISTER = 6  # open a client session (no key); the result's ``session`` is its id


# number -> KVOp: a dict lookup, where KVOp(n) costs more than handling a whole request
OPS: dict[int, KVOp] = {int(op): op for op in KVOp}


class KVCode(IntEnum):
    OK = 0
    NOT_FOUND = 1  # get/delete/cas of a missing key
    CAS_MISMATCH = 2  # value = the current value
    NOT_LEADER = 3  # leader_hint says where to go (may be empty)
    UNAVAILABLE = 4  # could not be answered (lost leadership before commit: outcome unknown)
    BAD_REQUEST = 5
    SESSION_EXPIRED = 6  # the write's session was forgotten: not applied now, maybe by an earlier try


@dataclass(slots=True)
class KVCommand:
    op: KVOp
    key: str
    value: str = ""
    expected: str = ""
    expect_absent: bool = False
    session: int = 0  # with seq: a retried write applies once (0: no session, no such promise)
    seq: int = 0


@dataclass(slots=True)
class KVResult:
    code: KVCode
    value: str = ""
    leader_hint: str = ""
    index: int = 0  # log index a write committed at; for reads, the read index
    error: str = ""
    session: int = 0  # REGISTER: the new session's id

"""Raft's messages as plain dataclasses.

Names and fields match ``proto/chaoslab/v1/peer.proto`` one to one: the wire
codec maps them by name, so a field added here must be added there too (a
unit test checks both agree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class EntryKind(IntEnum):
    NORMAL = 0
    NOOP = 1
    CONFIG = 2


@dataclass(slots=True)
class Entry:
    index: int
    term: int
    kind: EntryKind = EntryKind.NORMAL
    data: bytes = b""


@dataclass(slots=True)
class RequestVote:
    term: int
    candidate: str
    last_log_index: int
    last_log_term: int
    pre_vote: bool = False
    transfer: bool = False


@dataclass(slots=True)
class RequestVoteReply:
    term: int
    granted: bool
    pre_vote: bool = False


@dataclass(slots=True)
class AppendEntries:
    term: int
    leader: str
    prev_log_index: int
    prev_log_term: int
    entries: list[Entry] = field(default_factory=list)
    leader_commit: int = 0
    read_ctx: int = 0


@dataclass(slots=True)
class AppendEntriesReply:
    term: int
    success: bool
    match_index: int = 0
    conflict_index: int = 0
    conflict_term: int = 0
    read_ctx: int = 0


@dataclass(slots=True)
class InstallSnapshot:
    term: int
    leader: str
    last_index: int
    last_term: int
    offset: int = 0
    data: bytes = b""
    done: bool = True


@dataclass(slots=True)
class InstallSnapshotReply:
    term: int
    last_index: int
    success: bool = True


@dataclass(slots=True)
class TimeoutNow:
    term: int


MESSAGE_TYPES: tuple[type, ...] = (
    RequestVote,
    RequestVoteReply,
    AppendEntries,
    AppendEntriesReply,
    InstallSnapshot,
    InstallSnapshotReply,
    TimeoutNow,
)

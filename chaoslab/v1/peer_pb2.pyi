from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EntryKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTRY_KIND_NORMAL: _ClassVar[EntryKind]
    ENTRY_KIND_NOOP: _ClassVar[EntryKind]
    ENTRY_KIND_CONFIG: _ClassVar[EntryKind]
ENTRY_KIND_NORMAL: EntryKind
ENTRY_KIND_NOOP: EntryKind
ENTRY_KIND_CONFIG: EntryKind

class Envelope(_message.Message):
    __slots__ = ("src", "dst", "term", "trace_id", "seq", "request_vote", "request_vote_reply", "append_entries", "append_entries_reply", "install_snapshot", "install_snapshot_reply", "timeout_now", "bully_election", "bully_answer", "bully_coordinator", "bully_heartbeat", "bully_heartbeat_reply", "byzantine_value", "plugin_message")
    SRC_FIELD_NUMBER: _ClassVar[int]
    DST_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    REQUEST_VOTE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_VOTE_REPLY_FIELD_NUMBER: _ClassVar[int]
    APPEND_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    APPEND_ENTRIES_REPLY_FIELD_NUMBER: _ClassVar[int]
    INSTALL_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    INSTALL_SNAPSHOT_REPLY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_NOW_FIELD_NUMBER: _ClassVar[int]
    BULLY_ELECTION_FIELD_NUMBER: _ClassVar[int]
    BULLY_ANSWER_FIELD_NUMBER: _ClassVar[int]
    BULLY_COORDINATOR_FIELD_NUMBER: _ClassVar[int]
    BULLY_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    BULLY_HEARTBEAT_REPLY_FIELD_NUMBER: _ClassVar[int]
    BYZANTINE_VALUE_FIELD_NUMBER: _ClassVar[int]
    PLUGIN_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    src: str
    dst: str
    term: int
    trace_id: str
    seq: int
    request_vote: RequestVote
    request_vote_reply: RequestVoteReply
    append_entries: AppendEntries
    append_entries_reply: AppendEntriesReply
    install_snapshot: InstallSnapshot
    install_snapshot_reply: InstallSnapshotReply
    timeout_now: TimeoutNow
    bully_election: BullyElection
    bully_answer: BullyAnswer
    bully_coordinator: BullyCoordinator
    bully_heartbeat: BullyHeartbeat
    bully_heartbeat_reply: BullyHeartbeatReply
    byzantine_value: ByzantineValue
    plugin_message: PluginMessage
    def __init__(self, src: _Optional[str] = ..., dst: _Optional[str] = ..., term: _Optional[int] = ..., trace_id: _Optional[str] = ..., seq: _Optional[int] = ..., request_vote: _Optional[_Union[RequestVote, _Mapping]] = ..., request_vote_reply: _Optional[_Union[RequestVoteReply, _Mapping]] = ..., append_entries: _Optional[_Union[AppendEntries, _Mapping]] = ..., append_entries_reply: _Optional[_Union[AppendEntriesReply, _Mapping]] = ..., install_snapshot: _Optional[_Union[InstallSnapshot, _Mapping]] = ..., install_snapshot_reply: _Optional[_Union[InstallSnapshotReply, _Mapping]] = ..., timeout_now: _Optional[_Union[TimeoutNow, _Mapping]] = ..., bully_election: _Optional[_Union[BullyElection, _Mapping]] = ..., bully_answer: _Optional[_Union[BullyAnswer, _Mapping]] = ..., bully_coordinator: _Optional[_Union[BullyCoordinator, _Mapping]] = ..., bully_heartbeat: _Optional[_Union[BullyHeartbeat, _Mapping]] = ..., bully_heartbeat_reply: _Optional[_Union[BullyHeartbeatReply, _Mapping]] = ..., byzantine_value: _Optional[_Union[ByzantineValue, _Mapping]] = ..., plugin_message: _Optional[_Union[PluginMessage, _Mapping]] = ...) -> None: ...

class PluginMessage(_message.Message):
    __slots__ = ("type", "json")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    type: str
    json: str
    def __init__(self, type: _Optional[str] = ..., json: _Optional[str] = ...) -> None: ...

class RequestVote(_message.Message):
    __slots__ = ("term", "candidate", "last_log_index", "last_log_term", "pre_vote", "transfer")
    TERM_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    LAST_LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_LOG_TERM_FIELD_NUMBER: _ClassVar[int]
    PRE_VOTE_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    term: int
    candidate: str
    last_log_index: int
    last_log_term: int
    pre_vote: bool
    transfer: bool
    def __init__(self, term: _Optional[int] = ..., candidate: _Optional[str] = ..., last_log_index: _Optional[int] = ..., last_log_term: _Optional[int] = ..., pre_vote: _Optional[bool] = ..., transfer: _Optional[bool] = ...) -> None: ...

class RequestVoteReply(_message.Message):
    __slots__ = ("term", "granted", "pre_vote")
    TERM_FIELD_NUMBER: _ClassVar[int]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    PRE_VOTE_FIELD_NUMBER: _ClassVar[int]
    term: int
    granted: bool
    pre_vote: bool
    def __init__(self, term: _Optional[int] = ..., granted: _Optional[bool] = ..., pre_vote: _Optional[bool] = ...) -> None: ...

class Entry(_message.Message):
    __slots__ = ("index", "term", "kind", "data")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    index: int
    term: int
    kind: EntryKind
    data: bytes
    def __init__(self, index: _Optional[int] = ..., term: _Optional[int] = ..., kind: _Optional[_Union[EntryKind, str]] = ..., data: _Optional[bytes] = ...) -> None: ...

class AppendEntries(_message.Message):
    __slots__ = ("term", "leader", "prev_log_index", "prev_log_term", "entries", "leader_commit", "read_ctx")
    TERM_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    PREV_LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    PREV_LOG_TERM_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    LEADER_COMMIT_FIELD_NUMBER: _ClassVar[int]
    READ_CTX_FIELD_NUMBER: _ClassVar[int]
    term: int
    leader: str
    prev_log_index: int
    prev_log_term: int
    entries: _containers.RepeatedCompositeFieldContainer[Entry]
    leader_commit: int
    read_ctx: int
    def __init__(self, term: _Optional[int] = ..., leader: _Optional[str] = ..., prev_log_index: _Optional[int] = ..., prev_log_term: _Optional[int] = ..., entries: _Optional[_Iterable[_Union[Entry, _Mapping]]] = ..., leader_commit: _Optional[int] = ..., read_ctx: _Optional[int] = ...) -> None: ...

class AppendEntriesReply(_message.Message):
    __slots__ = ("term", "success", "match_index", "conflict_index", "conflict_term", "read_ctx")
    TERM_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    MATCH_INDEX_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_INDEX_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_TERM_FIELD_NUMBER: _ClassVar[int]
    READ_CTX_FIELD_NUMBER: _ClassVar[int]
    term: int
    success: bool
    match_index: int
    conflict_index: int
    conflict_term: int
    read_ctx: int
    def __init__(self, term: _Optional[int] = ..., success: _Optional[bool] = ..., match_index: _Optional[int] = ..., conflict_index: _Optional[int] = ..., conflict_term: _Optional[int] = ..., read_ctx: _Optional[int] = ...) -> None: ...

class InstallSnapshot(_message.Message):
    __slots__ = ("term", "leader", "last_index", "last_term", "offset", "data", "done")
    TERM_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    LAST_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_TERM_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    term: int
    leader: str
    last_index: int
    last_term: int
    offset: int
    data: bytes
    done: bool
    def __init__(self, term: _Optional[int] = ..., leader: _Optional[str] = ..., last_index: _Optional[int] = ..., last_term: _Optional[int] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., done: _Optional[bool] = ...) -> None: ...

class InstallSnapshotReply(_message.Message):
    __slots__ = ("term", "last_index", "success")
    TERM_FIELD_NUMBER: _ClassVar[int]
    LAST_INDEX_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    term: int
    last_index: int
    success: bool
    def __init__(self, term: _Optional[int] = ..., last_index: _Optional[int] = ..., success: _Optional[bool] = ...) -> None: ...

class TimeoutNow(_message.Message):
    __slots__ = ("term",)
    TERM_FIELD_NUMBER: _ClassVar[int]
    term: int
    def __init__(self, term: _Optional[int] = ...) -> None: ...

class BullyElection(_message.Message):
    __slots__ = ("epoch",)
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    def __init__(self, epoch: _Optional[int] = ...) -> None: ...

class BullyAnswer(_message.Message):
    __slots__ = ("epoch",)
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    def __init__(self, epoch: _Optional[int] = ...) -> None: ...

class BullyCoordinator(_message.Message):
    __slots__ = ("epoch", "coordinator")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    COORDINATOR_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    coordinator: str
    def __init__(self, epoch: _Optional[int] = ..., coordinator: _Optional[str] = ...) -> None: ...

class BullyHeartbeat(_message.Message):
    __slots__ = ("epoch",)
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    def __init__(self, epoch: _Optional[int] = ...) -> None: ...

class BullyHeartbeatReply(_message.Message):
    __slots__ = ("epoch", "ok")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    ok: bool
    def __init__(self, epoch: _Optional[int] = ..., ok: _Optional[bool] = ...) -> None: ...

class ByzantineValue(_message.Message):
    __slots__ = ("instance", "round", "value", "path", "signatures")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    instance: str
    round: int
    value: str
    path: _containers.RepeatedScalarFieldContainer[str]
    signatures: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, instance: _Optional[str] = ..., round: _Optional[int] = ..., value: _Optional[str] = ..., path: _Optional[_Iterable[str]] = ..., signatures: _Optional[_Iterable[bytes]] = ...) -> None: ...

class EnvelopeBatch(_message.Message):
    __slots__ = ("envelopes",)
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    envelopes: _containers.RepeatedCompositeFieldContainer[Envelope]
    def __init__(self, envelopes: _Optional[_Iterable[_Union[Envelope, _Mapping]]] = ...) -> None: ...

class PeerAck(_message.Message):
    __slots__ = ("received",)
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    received: int
    def __init__(self, received: _Optional[int] = ...) -> None: ...

from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EntryKindSummary(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTRY_KIND_SUMMARY_NORMAL: _ClassVar[EntryKindSummary]
    ENTRY_KIND_SUMMARY_NOOP: _ClassVar[EntryKindSummary]
    ENTRY_KIND_SUMMARY_CONFIG: _ClassVar[EntryKindSummary]
ENTRY_KIND_SUMMARY_NORMAL: EntryKindSummary
ENTRY_KIND_SUMMARY_NOOP: EntryKindSummary
ENTRY_KIND_SUMMARY_CONFIG: EntryKindSummary

class StatusRequest(_message.Message):
    __slots__ = ("log_tail",)
    LOG_TAIL_FIELD_NUMBER: _ClassVar[int]
    log_tail: int
    def __init__(self, log_tail: _Optional[int] = ...) -> None: ...

class NodeStatus(_message.Message):
    __slots__ = ("id", "algorithm", "role", "term", "leader", "pid", "uptime_s", "last_heard_s", "messages_in", "messages_out", "raft", "bully", "byzantine", "plugin")
    ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARD_S_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_IN_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_OUT_FIELD_NUMBER: _ClassVar[int]
    RAFT_FIELD_NUMBER: _ClassVar[int]
    BULLY_FIELD_NUMBER: _ClassVar[int]
    BYZANTINE_FIELD_NUMBER: _ClassVar[int]
    PLUGIN_FIELD_NUMBER: _ClassVar[int]
    id: str
    algorithm: str
    role: str
    term: int
    leader: str
    pid: int
    uptime_s: float
    last_heard_s: float
    messages_in: int
    messages_out: int
    raft: RaftStatus
    bully: BullyStatus
    byzantine: ByzantineStatus
    plugin: PluginStatus
    def __init__(self, id: _Optional[str] = ..., algorithm: _Optional[str] = ..., role: _Optional[str] = ..., term: _Optional[int] = ..., leader: _Optional[str] = ..., pid: _Optional[int] = ..., uptime_s: _Optional[float] = ..., last_heard_s: _Optional[float] = ..., messages_in: _Optional[int] = ..., messages_out: _Optional[int] = ..., raft: _Optional[_Union[RaftStatus, _Mapping]] = ..., bully: _Optional[_Union[BullyStatus, _Mapping]] = ..., byzantine: _Optional[_Union[ByzantineStatus, _Mapping]] = ..., plugin: _Optional[_Union[PluginStatus, _Mapping]] = ...) -> None: ...

class PluginStatus(_message.Message):
    __slots__ = ("key", "json")
    KEY_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    key: str
    json: str
    def __init__(self, key: _Optional[str] = ..., json: _Optional[str] = ...) -> None: ...

class LogEntrySummary(_message.Message):
    __slots__ = ("index", "term", "kind", "text")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    index: int
    term: int
    kind: EntryKindSummary
    text: str
    def __init__(self, index: _Optional[int] = ..., term: _Optional[int] = ..., kind: _Optional[_Union[EntryKindSummary, str]] = ..., text: _Optional[str] = ...) -> None: ...

class FollowerProgress(_message.Message):
    __slots__ = ("peer", "match_index", "next_index", "recent_active", "state")
    PEER_FIELD_NUMBER: _ClassVar[int]
    MATCH_INDEX_FIELD_NUMBER: _ClassVar[int]
    NEXT_INDEX_FIELD_NUMBER: _ClassVar[int]
    RECENT_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    peer: str
    match_index: int
    next_index: int
    recent_active: bool
    state: str
    def __init__(self, peer: _Optional[str] = ..., match_index: _Optional[int] = ..., next_index: _Optional[int] = ..., recent_active: _Optional[bool] = ..., state: _Optional[str] = ...) -> None: ...

class RaftStatus(_message.Message):
    __slots__ = ("voted_for", "commit_index", "applied_index", "last_index", "snapshot_index", "snapshot_term", "log_tail", "progress", "votes")
    VOTED_FOR_FIELD_NUMBER: _ClassVar[int]
    COMMIT_INDEX_FIELD_NUMBER: _ClassVar[int]
    APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_INDEX_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_INDEX_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_TERM_FIELD_NUMBER: _ClassVar[int]
    LOG_TAIL_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    VOTES_FIELD_NUMBER: _ClassVar[int]
    voted_for: str
    commit_index: int
    applied_index: int
    last_index: int
    snapshot_index: int
    snapshot_term: int
    log_tail: _containers.RepeatedCompositeFieldContainer[LogEntrySummary]
    progress: _containers.RepeatedCompositeFieldContainer[FollowerProgress]
    votes: int
    def __init__(self, voted_for: _Optional[str] = ..., commit_index: _Optional[int] = ..., applied_index: _Optional[int] = ..., last_index: _Optional[int] = ..., snapshot_index: _Optional[int] = ..., snapshot_term: _Optional[int] = ..., log_tail: _Optional[_Iterable[_Union[LogEntrySummary, _Mapping]]] = ..., progress: _Optional[_Iterable[_Union[FollowerProgress, _Mapping]]] = ..., votes: _Optional[int] = ...) -> None: ...

class BullyStatus(_message.Message):
    __slots__ = ("coordinator", "priority", "electing", "elections_started", "waiting", "votes", "quorum")
    COORDINATOR_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ELECTING_FIELD_NUMBER: _ClassVar[int]
    ELECTIONS_STARTED_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    VOTES_FIELD_NUMBER: _ClassVar[int]
    QUORUM_FIELD_NUMBER: _ClassVar[int]
    coordinator: str
    priority: int
    electing: bool
    elections_started: int
    waiting: str
    votes: int
    quorum: bool
    def __init__(self, coordinator: _Optional[str] = ..., priority: _Optional[int] = ..., electing: _Optional[bool] = ..., elections_started: _Optional[int] = ..., waiting: _Optional[str] = ..., votes: _Optional[int] = ..., quorum: _Optional[bool] = ...) -> None: ...

class ByzantineReceived(_message.Message):
    __slots__ = ("path", "value")
    PATH_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    path: _containers.RepeatedScalarFieldContainer[str]
    value: str
    def __init__(self, path: _Optional[_Iterable[str]] = ..., value: _Optional[str] = ...) -> None: ...

class ByzantineStatus(_message.Message):
    __slots__ = ("mode", "faults", "commander", "traitor", "order", "received", "decision", "instance", "strategy", "traitors", "sent", "received_total", "missing", "defaulted", "discarded", "rounds", "decided_after_s", "agreements")
    MODE_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    COMMANDER_FIELD_NUMBER: _ClassVar[int]
    TRAITOR_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    TRAITORS_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    DEFAULTED_FIELD_NUMBER: _ClassVar[int]
    DISCARDED_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AFTER_S_FIELD_NUMBER: _ClassVar[int]
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    mode: str
    faults: int
    commander: str
    traitor: bool
    order: str
    received: _containers.RepeatedCompositeFieldContainer[ByzantineReceived]
    decision: str
    instance: str
    strategy: str
    traitors: _containers.RepeatedScalarFieldContainer[str]
    sent: int
    received_total: int
    missing: int
    defaulted: bool
    discarded: int
    rounds: int
    decided_after_s: float
    agreements: int
    def __init__(self, mode: _Optional[str] = ..., faults: _Optional[int] = ..., commander: _Optional[str] = ..., traitor: _Optional[bool] = ..., order: _Optional[str] = ..., received: _Optional[_Iterable[_Union[ByzantineReceived, _Mapping]]] = ..., decision: _Optional[str] = ..., instance: _Optional[str] = ..., strategy: _Optional[str] = ..., traitors: _Optional[_Iterable[str]] = ..., sent: _Optional[int] = ..., received_total: _Optional[int] = ..., missing: _Optional[int] = ..., defaulted: _Optional[bool] = ..., discarded: _Optional[int] = ..., rounds: _Optional[int] = ..., decided_after_s: _Optional[float] = ..., agreements: _Optional[int] = ...) -> None: ...

class CommandRequest(_message.Message):
    __slots__ = ("name", "args_json", "timeout_s")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    name: str
    args_json: str
    timeout_s: float
    def __init__(self, name: _Optional[str] = ..., args_json: _Optional[str] = ..., timeout_s: _Optional[float] = ...) -> None: ...

class CommandReply(_message.Message):
    __slots__ = ("result_json",)
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    result_json: str
    def __init__(self, result_json: _Optional[str] = ...) -> None: ...

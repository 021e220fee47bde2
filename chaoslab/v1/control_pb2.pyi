from chaoslab.v1 import node_pb2 as _node_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LinkRule(_message.Message):
    __slots__ = ("id", "src", "dst", "blackhole", "drop", "delay_ms", "jitter_ms", "jitter_dist", "duplicate", "reorder", "seed", "expires_at", "label", "kind")
    ID_FIELD_NUMBER: _ClassVar[int]
    SRC_FIELD_NUMBER: _ClassVar[int]
    DST_FIELD_NUMBER: _ClassVar[int]
    BLACKHOLE_FIELD_NUMBER: _ClassVar[int]
    DROP_FIELD_NUMBER: _ClassVar[int]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    JITTER_MS_FIELD_NUMBER: _ClassVar[int]
    JITTER_DIST_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    REORDER_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    id: str
    src: _containers.RepeatedScalarFieldContainer[str]
    dst: _containers.RepeatedScalarFieldContainer[str]
    blackhole: bool
    drop: float
    delay_ms: float
    jitter_ms: float
    jitter_dist: str
    duplicate: float
    reorder: float
    seed: int
    expires_at: float
    label: str
    kind: str
    def __init__(self, id: _Optional[str] = ..., src: _Optional[_Iterable[str]] = ..., dst: _Optional[_Iterable[str]] = ..., blackhole: _Optional[bool] = ..., drop: _Optional[float] = ..., delay_ms: _Optional[float] = ..., jitter_ms: _Optional[float] = ..., jitter_dist: _Optional[str] = ..., duplicate: _Optional[float] = ..., reorder: _Optional[float] = ..., seed: _Optional[int] = ..., expires_at: _Optional[float] = ..., label: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class LinkCounters(_message.Message):
    __slots__ = ("src", "dst", "sent", "delivered", "dropped", "duplicated", "delayed", "reordered", "bytes", "rate")
    SRC_FIELD_NUMBER: _ClassVar[int]
    DST_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATED_FIELD_NUMBER: _ClassVar[int]
    DELAYED_FIELD_NUMBER: _ClassVar[int]
    REORDERED_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    src: str
    dst: str
    sent: int
    delivered: int
    dropped: int
    duplicated: int
    delayed: int
    reordered: int
    bytes: int
    rate: float
    def __init__(self, src: _Optional[str] = ..., dst: _Optional[str] = ..., sent: _Optional[int] = ..., delivered: _Optional[int] = ..., dropped: _Optional[int] = ..., duplicated: _Optional[int] = ..., delayed: _Optional[int] = ..., reordered: _Optional[int] = ..., bytes: _Optional[int] = ..., rate: _Optional[float] = ...) -> None: ...

class FaultState(_message.Message):
    __slots__ = ("rules", "links", "partition_groups")
    RULES_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_GROUPS_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[LinkRule]
    links: _containers.RepeatedCompositeFieldContainer[LinkCounters]
    partition_groups: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, rules: _Optional[_Iterable[_Union[LinkRule, _Mapping]]] = ..., links: _Optional[_Iterable[_Union[LinkCounters, _Mapping]]] = ..., partition_groups: _Optional[_Iterable[str]] = ...) -> None: ...

class FaultChange(_message.Message):
    __slots__ = ("clear_all", "heal", "add", "remove", "partition_groups")
    CLEAR_ALL_FIELD_NUMBER: _ClassVar[int]
    HEAL_FIELD_NUMBER: _ClassVar[int]
    ADD_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    PARTITION_GROUPS_FIELD_NUMBER: _ClassVar[int]
    clear_all: bool
    heal: bool
    add: _containers.RepeatedCompositeFieldContainer[LinkRule]
    remove: _containers.RepeatedScalarFieldContainer[str]
    partition_groups: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, clear_all: _Optional[bool] = ..., heal: _Optional[bool] = ..., add: _Optional[_Iterable[_Union[LinkRule, _Mapping]]] = ..., remove: _Optional[_Iterable[str]] = ..., partition_groups: _Optional[_Iterable[str]] = ...) -> None: ...

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NodeInfo(_message.Message):
    __slots__ = ("id", "pid", "state", "port", "proxy_port", "restarts", "status", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    PROXY_PORT_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    pid: int
    state: str
    port: int
    proxy_port: int
    restarts: int
    status: _node_pb2.NodeStatus
    error: str
    def __init__(self, id: _Optional[str] = ..., pid: _Optional[int] = ..., state: _Optional[str] = ..., port: _Optional[int] = ..., proxy_port: _Optional[int] = ..., restarts: _Optional[int] = ..., status: _Optional[_Union[_node_pb2.NodeStatus, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class ClusterStatus(_message.Message):
    __slots__ = ("cluster", "algorithm", "seed", "started_at", "supervisor_pid", "proxy_pid", "nodes", "faults", "run_dir")
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    SUPERVISOR_PID_FIELD_NUMBER: _ClassVar[int]
    PROXY_PID_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    RUN_DIR_FIELD_NUMBER: _ClassVar[int]
    cluster: str
    algorithm: str
    seed: int
    started_at: float
    supervisor_pid: int
    proxy_pid: int
    nodes: _containers.RepeatedCompositeFieldContainer[NodeInfo]
    faults: FaultState
    run_dir: str
    def __init__(self, cluster: _Optional[str] = ..., algorithm: _Optional[str] = ..., seed: _Optional[int] = ..., started_at: _Optional[float] = ..., supervisor_pid: _Optional[int] = ..., proxy_pid: _Optional[int] = ..., nodes: _Optional[_Iterable[_Union[NodeInfo, _Mapping]]] = ..., faults: _Optional[_Union[FaultState, _Mapping]] = ..., run_dir: _Optional[str] = ...) -> None: ...

class ClusterStatusRequest(_message.Message):
    __slots__ = ("log_tail", "faults")
    LOG_TAIL_FIELD_NUMBER: _ClassVar[int]
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    log_tail: int
    faults: bool
    def __init__(self, log_tail: _Optional[int] = ..., faults: _Optional[bool] = ...) -> None: ...

class NodeTarget(_message.Message):
    __slots__ = ("nodes", "seed")
    NODES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedScalarFieldContainer[str]
    seed: int
    def __init__(self, nodes: _Optional[_Iterable[str]] = ..., seed: _Optional[int] = ...) -> None: ...

class ActionReply(_message.Message):
    __slots__ = ("nodes", "message")
    NODES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedScalarFieldContainer[str]
    message: str
    def __init__(self, nodes: _Optional[_Iterable[str]] = ..., message: _Optional[str] = ...) -> None: ...

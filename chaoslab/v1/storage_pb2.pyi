from chaoslab.v1 import peer_pb2 as _peer_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HardStateRecord(_message.Message):
    __slots__ = ("term", "voted_for", "commit")
    TERM_FIELD_NUMBER: _ClassVar[int]
    VOTED_FOR_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    term: int
    voted_for: str
    commit: int
    def __init__(self, term: _Optional[int] = ..., voted_for: _Optional[str] = ..., commit: _Optional[int] = ...) -> None: ...

class SnapshotMarker(_message.Message):
    __slots__ = ("index", "term")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    index: int
    term: int
    def __init__(self, index: _Optional[int] = ..., term: _Optional[int] = ...) -> None: ...

class WalRecord(_message.Message):
    __slots__ = ("hard_state", "entries", "snapshot")
    HARD_STATE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    hard_state: HardStateRecord
    entries: EntryBatch
    snapshot: SnapshotMarker
    def __init__(self, hard_state: _Optional[_Union[HardStateRecord, _Mapping]] = ..., entries: _Optional[_Union[EntryBatch, _Mapping]] = ..., snapshot: _Optional[_Union[SnapshotMarker, _Mapping]] = ...) -> None: ...

class EntryBatch(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_peer_pb2.Entry]
    def __init__(self, entries: _Optional[_Iterable[_Union[_peer_pb2.Entry, _Mapping]]] = ...) -> None: ...

class SnapshotFile(_message.Message):
    __slots__ = ("index", "term", "data")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    index: int
    term: int
    data: bytes
    def __init__(self, index: _Optional[int] = ..., term: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

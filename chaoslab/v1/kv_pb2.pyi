from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KVOp(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KV_OP_UNSPECIFIED: _ClassVar[KVOp]
    KV_OP_GET: _ClassVar[KVOp]
    KV_OP_PUT: _ClassVar[KVOp]
    KV_OP_CAS: _ClassVar[KVOp]
    KV_OP_APPEND: _ClassVar[KVOp]
    KV_OP_DELETE: _ClassVar[KVOp]
    KV_OP_REGISTER: _ClassVar[KVOp]

class KVCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KV_CODE_OK: _ClassVar[KVCode]
    KV_CODE_NOT_FOUND: _ClassVar[KVCode]
    KV_CODE_CAS_MISMATCH: _ClassVar[KVCode]
    KV_CODE_NOT_LEADER: _ClassVar[KVCode]
    KV_CODE_UNAVAILABLE: _ClassVar[KVCode]
    KV_CODE_BAD_REQUEST: _ClassVar[KVCode]
    KV_CODE_SESSION_EXPIRED: _ClassVar[KVCode]
KV_OP_UNSPECIFIED: KVOp
KV_OP_GET: KVOp
KV_OP_PUT: KVOp
KV_OP_CAS: KVOp
KV_OP_APPEND: KVOp
KV_OP_DELETE: KVOp
KV_OP_REGISTER: KVOp
KV_CODE_OK: KVCode
KV_CODE_NOT_FOUND: KVCode
KV_CODE_CAS_MISMATCH: KVCode
KV_CODE_NOT_LEADER: KVCode
KV_CODE_UNAVAILABLE: KVCode
KV_CODE_BAD_REQUEST: KVCode
KV_CODE_SESSION_EXPIRED: KVCode

class KVRequest(_message.Message):
    __slots__ = ("client_id", "seq", "op", "key", "value", "expected", "expect_absent", "session")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    EXPECT_ABSENT_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    seq: int
    op: KVOp
    key: str
    value: str
    expected: str
    expect_absent: bool
    session: int
    def __init__(self, client_id: _Optional[str] = ..., seq: _Optional[int] = ..., op: _Optional[_Union[KVOp, str]] = ..., key: _Optional[str] = ..., value: _Optional[str] = ..., expected: _Optional[str] = ..., expect_absent: _Optional[bool] = ..., session: _Optional[int] = ...) -> None: ...

class KVReply(_message.Message):
    __slots__ = ("code", "value", "leader_hint", "leader_address", "index", "error", "client_id", "seq", "session")
    CODE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LEADER_HINT_FIELD_NUMBER: _ClassVar[int]
    LEADER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    code: KVCode
    value: str
    leader_hint: str
    leader_address: str
    index: int
    error: str
    client_id: str
    seq: int
    session: int
    def __init__(self, code: _Optional[_Union[KVCode, str]] = ..., value: _Optional[str] = ..., leader_hint: _Optional[str] = ..., leader_address: _Optional[str] = ..., index: _Optional[int] = ..., error: _Optional[str] = ..., client_id: _Optional[str] = ..., seq: _Optional[int] = ..., session: _Optional[int] = ...) -> None: ...

class KVBatch(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[KVRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[KVRequest, _Mapping]]] = ...) -> None: ...

class KVReplyBatch(_message.Message):
    __slots__ = ("replies",)
    REPLIES_FIELD_NUMBER: _ClassVar[int]
    replies: _containers.RepeatedCompositeFieldContainer[KVReply]
    def __init__(self, replies: _Optional[_Iterable[_Union[KVReply, _Mapping]]] = ...) -> None: ...

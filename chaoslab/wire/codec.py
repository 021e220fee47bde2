"""Map algorithm message dataclasses to and from ``Envelope`` by name.

Each body type in ``Envelope``'s ``body`` oneof has a dataclass of the same
name in an algorithm's ``messages`` module. Conversion walks dataclass fields
and the protobuf descriptor together, so neither side needs hand-written
mapping code, and a mismatch fails loudly at registration time.
"""

from __future__ import annotations

import dataclasses
import typing
from enum import IntEnum
from typing import Any

from chaoslab.v1 import peer_pb2

_BODY = peer_pb2.Envelope.DESCRIPTOR.oneofs_by_name["body"]
_FIELD_BY_TYPE_NAME = {f.message_type.name: f.name for f in _BODY.fields}


class Codec:
    """Encodes and decodes one algorithm's message types."""

    def __init__(self, message_types: typing.Iterable[type]) -> None:
        self._field_by_type: dict[type, str] = {}
        self._type_by_field: dict[str, type] = {}
        self._plans: dict[type, list[tuple[str, bool, type | None]]] = {}
        for cls in message_types:
            try:
                name = _FIELD_BY_TYPE_NAME[cls.__name__]
            except KeyError:
                raise TypeError(f"{cls.__name__} is not a body type of Envelope") from None
            self._field_by_type[cls] = name
            self._type_by_field[name] = cls
            self._learn(cls)

    def _learn(self, cls: type) -> None:
        """Plan each field's conversion once: scalar, enum, nested dataclass, or lists of them."""
        if cls in self._plans:
            return
        desc = getattr(peer_pb2, cls.__name__).DESCRIPTOR
        hints = typing.get_type_hints(cls)
        plan: list[tuple[str, bool, type | None]] = []
        for f in dataclasses.fields(cls):
            if f.name not in desc.fields_by_name:
                raise TypeError(f"{cls.__name__}.{f.name} is not in the proto message")
            hint = hints[f.name]
            inner = typing.get_args(hint)[0] if typing.get_origin(hint) is list else hint
            convert = inner if dataclasses.is_dataclass(inner) or _is_enum(inner) else None
            plan.append((f.name, desc.fields_by_name[f.name].is_repeated, convert))
        self._plans[cls] = plan
        for _, _, inner in plan:
            if inner is not None and dataclasses.is_dataclass(inner):
                self._learn(inner)

    def encode(self, src: str, dst: str, message: Any, seq: int = 0) -> peer_pb2.Envelope:
        env = peer_pb2.Envelope(src=src, dst=dst, seq=seq, trace_id=f"{src}-{seq}")
        env.term = getattr(message, "term", 0) or getattr(message, "epoch", 0) or 0
        self._fill(getattr(env, self._field_by_type[type(message)]), message)
        return env

    def _fill(self, pb: Any, obj: Any) -> None:
        for name, repeated, inner in self._plans[type(obj)]:
            value = getattr(obj, name)
            if inner is not None and dataclasses.is_dataclass(inner):
                if repeated:
                    target = getattr(pb, name)
                    for item in value:
                        self._fill(target.add(), item)
                elif value is not None:
                    self._fill(getattr(pb, name), value)
            elif repeated:
                getattr(pb, name).extend(value)
            elif value is not None:
                setattr(pb, name, value)

    def decode(self, env: peer_pb2.Envelope) -> Any:
        """The dataclass inside ``env``; ``None`` for a body this algorithm does not know."""
        name = env.WhichOneof("body")
        cls = self._type_by_field.get(name) if name else None
        if cls is None:
            return None
        return self._build(cls, getattr(env, name))

    def _build(self, cls: type, pb: Any) -> Any:
        kwargs: dict[str, Any] = {}
        for name, repeated, inner in self._plans[cls]:
            value = getattr(pb, name)
            if inner is None:
                kwargs[name] = list(value) if repeated else value
            elif dataclasses.is_dataclass(inner):
                kwargs[name] = [self._build(inner, v) for v in value] if repeated else self._build(inner, value)
            else:  # an enum
                kwargs[name] = [inner(v) for v in value] if repeated else inner(value)
        return cls(**kwargs)


def _is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, IntEnum)

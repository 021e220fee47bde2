"""Map algorithm message dataclasses to and from ``Envelope`` by name.

Each body type in ``Envelope``'s ``body`` oneof has a dataclass of the same
name in an algorithm's ``messages`` module. Conversion walks dataclass fields
and the protobuf descriptor together, so neither side needs hand-written
mapping code, and a mismatch fails loudly at registration time.

Each class's conversion is planned once into a :class:`_Plan`; the per-message
work is then a getattr/setattr per field (``attrgetter`` on the way in). Every
log entry crosses this code on every follower, so it is on the write path.

A dataclass with no body type of its name (an algorithm from a plug-in) travels
as a ``PluginMessage``: its name and its fields as JSON (:class:`_JsonPlan`),
so a new algorithm needs no edit of the wire contract.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import typing
from enum import IntEnum
from operator import attrgetter, is_
from typing import Any

from chaoslab.v1 import peer_pb2

_BODY = peer_pb2.Envelope.DESCRIPTOR.oneofs_by_name["body"]
_FIELD_BY_TYPE_NAME = {f.message_type.name: f.name for f in _BODY.fields}


class _Plan:
    """How one dataclass maps onto its protobuf message, field by field."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        desc = getattr(peer_pb2, cls.__name__).DESCRIPTOR
        hints = typing.get_type_hints(cls)
        self.names: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(cls))
        self.get = attrgetter(*self.names) if len(self.names) > 1 else (lambda pb, _n=self.names[0]: (getattr(pb, _n),))
        self.scalars: list[str] = []  # set as they are (enums included: an IntEnum is an int)
        self.repeated_scalars: list[tuple[int, str]] = []
        self.enums: list[tuple[int, typing.Callable[[int], Any], bool]] = []  # (position, to enum, repeated), on decode
        self.nested: list[tuple[int, str, type, bool]] = []  # (position, name, dataclass, repeated)
        for pos, name in enumerate(self.names):
            if name not in desc.fields_by_name:
                raise TypeError(f"{cls.__name__}.{name} is not in the proto message")
            hint = hints[name]
            repeated = desc.fields_by_name[name].is_repeated
            inner = typing.get_args(hint)[0] if typing.get_origin(hint) is list else hint
            if dataclasses.is_dataclass(inner):
                self.nested.append((pos, name, inner, repeated))  # type: ignore[arg-type]
            else:
                if _is_enum(inner):
                    self.enums.append((pos, _enum_of(inner), repeated))
                if repeated:
                    self.repeated_scalars.append((pos, name))
                else:
                    self.scalars.append(name)


class _JsonPlan:
    """How one plug-in dataclass maps to and from JSON: scalars, strings, bytes (base64),
    enums, nested dataclasses and lists of any of these."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.hints = typing.get_type_hints(cls)
        self.names = tuple(f.name for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> str:
        return json.dumps({name: _to_json(getattr(obj, name)) for name in self.names}, separators=(",", ":"))

    def decode(self, text: str) -> Any:
        raw = json.loads(text)
        return self.cls(**{name: _from_json(self.hints[name], raw[name]) for name in self.names if name in raw})


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, IntEnum):
        return int(value)
    return value


def _from_json(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (list, tuple):
        args = typing.get_args(hint)
        items = [_from_json(args[0] if args else Any, v) for v in value]
        return items if origin is list else tuple(items)
    if origin is typing.Union or type(hint).__name__ == "UnionType":  # X | None
        if value is None:
            return None
        return _from_json(next(a for a in typing.get_args(hint) if a is not type(None)), value)
    if dataclasses.is_dataclass(hint):
        inner = typing.get_type_hints(hint)
        return hint(**{k: _from_json(inner[k], v) for k, v in value.items()})  # type: ignore[operator]
    if hint is bytes:
        return base64.b64decode(value)
    if _is_enum(hint):
        return hint(value)
    return value


class Codec:
    """Encodes and decodes one algorithm's message types.

    ``term_field`` names the message attribute copied into ``Envelope.term``
    (for traces and the proxy); a message without it travels with term 0.
    """

    def __init__(self, message_types: typing.Iterable[type], term_field: str = "term") -> None:
        self._term_field = term_field
        self._field_by_type: dict[type, str] = {}
        self._type_by_field: dict[str, type] = {}
        self._plans: dict[type, _Plan] = {}
        self._json_plans: dict[type, _JsonPlan] = {}
        self._json_by_name: dict[str, _JsonPlan] = {}
        # The last repeated field of dataclasses encoded: (its items, its protobuf container).
        # Messages are not changed once made and the items are held here, so the same objects
        # in the same order encode the same.
        self._last_list: tuple[tuple[Any, ...], Any] | None = None
        for cls in message_types:
            name = _FIELD_BY_TYPE_NAME.get(cls.__name__)
            if name is None or name == "plugin_message":
                if not dataclasses.is_dataclass(cls):
                    raise TypeError(f"{cls.__name__} is neither a body type of Envelope nor a dataclass")
                plan = self._json_plans[cls] = _JsonPlan(cls)
                self._json_by_name[cls.__name__] = plan
                continue
            self._field_by_type[cls] = name
            self._type_by_field[name] = cls
            self._learn(cls)

    def _learn(self, cls: type) -> None:
        if cls in self._plans:
            return
        plan = self._plans[cls] = _Plan(cls)
        for _, _, inner, _ in plan.nested:
            self._learn(inner)

    def encode(self, src: str, dst: str, message: Any, seq: int = 0) -> peer_pb2.Envelope:
        env = peer_pb2.Envelope(src=src, dst=dst, seq=seq, trace_id=f"{src}-{seq}")
        env.term = getattr(message, self._term_field, 0) or 0
        field = self._field_by_type.get(type(message))
        if field is None:
            body = env.plugin_message
            body.type = type(message).__name__
            body.json = self._json_plans[type(message)].encode(message)
            return env
        self._fill(getattr(env, field), message)
        return env

    def _fill(self, pb: Any, obj: Any) -> None:
        plan = self._plans[type(obj)]
        for name in plan.scalars:
            value = getattr(obj, name)
            if value is not None:
                setattr(pb, name, value)
        for _, name in plan.repeated_scalars:
            getattr(pb, name).extend(getattr(obj, name))
        for _, name, _, repeated in plan.nested:
            value = getattr(obj, name)
            if repeated:
                target = getattr(pb, name)
                last = self._last_list
                if last is not None and len(value) > 1 and len(last[0]) == len(value) and all(map(is_, last[0], value)):
                    # The very items of the message before (a leader's AppendEntries to each
                    # follower): copying the built messages costs half of building them.
                    target.MergeFrom(last[1])
                    continue
                for item in value:
                    self._fill(target.add(), item)
                if len(value) > 1:
                    self._last_list = (tuple(value), target)
            elif value is not None:
                self._fill(getattr(pb, name), value)

    def decode(self, env: peer_pb2.Envelope) -> Any:
        """The dataclass inside ``env``; ``None`` for a body this algorithm does not know."""
        name = env.WhichOneof("body")
        if name == "plugin_message":
            plan = self._json_by_name.get(env.plugin_message.type)
            return None if plan is None else plan.decode(env.plugin_message.json)
        cls = self._type_by_field.get(name) if name else None
        if cls is None:
            return None
        return self._build(self._plans[cls], getattr(env, name))

    def _build(self, plan: _Plan, pb: Any) -> Any:
        values = plan.get(pb)
        if plan.nested or plan.enums or plan.repeated_scalars:
            values = list(values)
            for pos, _ in plan.repeated_scalars:
                values[pos] = list(values[pos])
            for pos, enum, repeated in plan.enums:
                values[pos] = [enum(v) for v in values[pos]] if repeated else enum(values[pos])
            for pos, _, inner, repeated in plan.nested:
                sub = self._plans[inner]
                values[pos] = [self._build(sub, v) for v in values[pos]] if repeated else self._build(sub, values[pos])
        return plan.cls(*values)


def _enum_of(enum: type[IntEnum]) -> typing.Callable[[int], Any]:
    """``enum(v)`` with a dict lookup first (the call costs more than the field's whole decode)."""
    members = enum._value2member_map_
    return lambda v: members[v] if v in members else enum(v)


def _is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, IntEnum)

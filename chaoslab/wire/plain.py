"""Protobuf messages as plain Python data for JSON output.

``json_format.MessageToDict`` renders 64-bit integers as strings (JSON's
numbers are doubles); our terms and indexes never come near 2**53, and users
of ``--json`` expect numbers, so this walks the descriptor instead.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message


def to_plain(message: Message) -> dict[str, Any]:
    """Every scalar field (defaults included), set sub-messages, lists, enums by name."""
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry:
                out[field.name] = {k: _scalar(field.message_type.fields_by_name["value"], v) for k, v in value.items()}
            elif field.is_repeated:
                out[field.name] = [to_plain(v) for v in value]
            elif message.HasField(field.name):
                out[field.name] = to_plain(value)
        elif field.is_repeated:
            out[field.name] = [_scalar(field, v) for v in value]
        else:
            out[field.name] = _scalar(field, value)
    return out


def _scalar(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return field.enum_type.values_by_number[value].name if value in field.enum_type.values_by_number else value
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return to_plain(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return value.hex()
    return value

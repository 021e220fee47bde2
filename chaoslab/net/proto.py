"""The fault model's ``chaoslab.v1`` messages: one mapping for the proxy, the supervisor and the lab.

Kept apart from :mod:`chaoslab.net.rules` so that the rules stay pure and the
simulator can use them without protobuf.
"""

from __future__ import annotations

from dataclasses import fields
from functools import singledispatch
from typing import Any

from chaoslab.net.rules import FaultChange, FaultState, LinkCounters, LinkRule
from chaoslab.v1 import control_pb2 as pb

__all__ = ["from_proto", "to_proto"]


_RULE_FIELDS = tuple(f.name for f in fields(LinkRule))
_COUNTER_FIELDS = tuple(f.name for f in fields(LinkCounters))


@singledispatch
def to_proto(obj: Any) -> Any:
    """The ``chaoslab.v1`` message for a :class:`LinkRule`, :class:`LinkCounters`,
    :class:`FaultState` or :class:`FaultChange`."""
    raise TypeError(f"no proto message for {type(obj).__name__}")


@to_proto.register
def _(rule: LinkRule) -> pb.LinkRule:
    return pb.LinkRule(**{name: getattr(rule, name) for name in _RULE_FIELDS})


@to_proto.register
def _(counters: LinkCounters) -> pb.LinkCounters:
    return pb.LinkCounters(**{name: getattr(counters, name) for name in _COUNTER_FIELDS})


@to_proto.register
def _(state: FaultState) -> pb.FaultState:
    return pb.FaultState(rules=[to_proto(r) for r in state.rules], links=[to_proto(c) for c in state.links],
                         partition_groups=state.partition_groups)


@to_proto.register
def _(change: FaultChange) -> pb.FaultChange:
    return pb.FaultChange(clear_all=change.clear_all, heal=change.heal, add=[to_proto(r) for r in change.add],
                          remove=change.remove, partition_groups=change.partition_groups)


def from_proto(msg: Any) -> Any:
    """The dataclass for a ``chaoslab.v1`` LinkRule, LinkCounters, FaultState or FaultChange.

    A LinkRule with bad values (drop above 1, negative delay) raises ValueError.
    """
    if isinstance(msg, pb.LinkRule):
        return LinkRule(**{name: getattr(msg, name) for name in _RULE_FIELDS})
    if isinstance(msg, pb.LinkCounters):
        return LinkCounters(**{name: getattr(msg, name) for name in _COUNTER_FIELDS})
    if isinstance(msg, pb.FaultState):
        return FaultState(tuple(from_proto(r) for r in msg.rules), tuple(from_proto(c) for c in msg.links),
                          tuple(msg.partition_groups))
    if isinstance(msg, pb.FaultChange):
        return FaultChange(clear_all=msg.clear_all, heal=msg.heal, add=tuple(from_proto(r) for r in msg.add),
                           remove=tuple(msg.remove), partition_groups=tuple(msg.partition_groups))
    raise TypeError(f"no dataclass for {type(msg).__name__}")

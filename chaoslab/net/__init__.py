"""The fault model: rules, fates, counters, partitions and their parsers, and the proxy.

The modules imported here are pure (no sockets, no clock, no protobuf): the
simulator drives them on virtual time, the proxy process on real time.
:mod:`chaoslab.net.proto` maps them to ``chaoslab.v1`` messages and
:mod:`chaoslab.net.proxy` is the proxy process.
"""

from chaoslab.net.partitions import Partition, PartitionSpec, build, parse_spec
from chaoslab.net.rules import (
    DeliveryQueue,
    Fate,
    FaultChange,
    FaultState,
    FaultTable,
    LinkCounters,
    LinkRule,
)

__all__ = [
    "DeliveryQueue",
    "Fate",
    "FaultChange",
    "FaultState",
    "FaultTable",
    "LinkCounters",
    "LinkRule",
    "Partition",
    "PartitionSpec",
    "build",
    "parse_spec",
]

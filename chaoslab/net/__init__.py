"""The fault proxy's pure core: rules, fates, counters, partitions and their parsers.

No sockets here: the proxy process (and the supervisor) drive these objects
with the time and the messages they see.
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
    from_proto,
    to_proto,
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
    "from_proto",
    "parse_spec",
    "to_proto",
]

"""Sans-I/O algorithm cores.

Nothing under this package touches sockets, threads, the clock or unseeded
randomness: every input (a message or a tick) carries the current time, and
every output is returned as data. The node runtime and the simulator are the
two drivers; see :mod:`chaoslab.algorithms.base` for the contract they share.
"""

from chaoslab.algorithms.base import Algorithm, Event, Output
from chaoslab.algorithms.registry import ALGORITHMS, get_algorithm
from chaoslab.algorithms.spec import AlgorithmSpec, RoleKind, SimHooks, StatusColumn

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "AlgorithmSpec",
    "Event",
    "Output",
    "RoleKind",
    "SimHooks",
    "StatusColumn",
    "get_algorithm",
]

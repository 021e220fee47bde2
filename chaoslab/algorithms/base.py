"""The contract between an algorithm core and its drivers.

A driver (the node runtime or the simulator) owns time, the network and the
disk. It feeds the core one input at a time and acts on the returned
:class:`Output` in this order, as etcd/raft's Ready does:

1. persist ``output.persist`` (durably: fsync) if it is not ``None``;
2. send ``output.messages``;
3. record ``output.events``.

It calls :meth:`Algorithm.tick` no later than the time
:meth:`Algorithm.next_deadline` returns; ticking early or late is harmless
(the core compares deadlines itself), so a driver may use any timer.

Messages are plain dataclasses (see each algorithm's ``messages`` module); the
wire codec maps them to and from ``chaoslab.v1.Envelope`` by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class Event:
    """Something worth a line in events.jsonl: an election won, a term change."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Output:
    """What one input produced. Empty by default, so cores can build it up."""

    messages: list[tuple[str, Any]] = field(default_factory=list)  # (dst node id, message)
    persist: Any = None  # algorithm-defined durable state, written before messages go out
    events: list[Event] = field(default_factory=list)

    def send(self, dst: str, message: Any) -> None:
        self.messages.append((dst, message))

    def event(self, kind: str, **data: Any) -> None:
        self.events.append(Event(kind, data))

    def extend(self, other: Output) -> None:
        self.messages.extend(other.messages)
        if other.persist is not None:
            self.persist = other.persist
        self.events.extend(other.events)


class Algorithm(Protocol):
    """What every core offers its drivers. Times are seconds on the driver's clock."""

    node_id: str

    def start(self, now: float) -> Output:
        """Called once, after construction from (possibly restored) durable state."""
        ...

    def tick(self, now: float) -> Output:
        """Time has advanced to ``now``: fire whatever timers are due."""
        ...

    def step(self, src: str, message: Any, now: float) -> Output:
        """A message from peer ``src`` arrived at ``now``."""
        ...

    def next_deadline(self) -> float:
        """The earliest time at which :meth:`tick` has something to do."""
        ...

    def status(self, now: float) -> dict[str, Any]:
        """A JSON-able snapshot shaped like ``chaoslab.v1.NodeStatus``: keys ``role``,
        ``term``, ``leader``, ``last_heard_s`` and the algorithm's detail (e.g. ``raft``)."""
        ...

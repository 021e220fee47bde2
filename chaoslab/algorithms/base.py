"""The contract between an algorithm core and its drivers.

A driver (the node runtime or the simulator) owns time, the network and the
disk. It feeds the core one input at a time and acts on the returned
:class:`Output` in this order, as etcd/raft's Ready does:

1. persist ``output.persist`` (durably: fsync) if it is not ``None``;
2. send ``output.messages`` and deliver ``output.replies`` to waiting clients;
3. record ``output.events``.

A driver may gather the outputs of several inputs and act on them together
(one fsync for many steps), as long as it keeps that order for the batch: no
message or reply of any of them leaves before all their state is durable.

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
    persist: Any = None  # algorithm-defined durable change, written before messages go out
    events: list[Event] = field(default_factory=list)
    replies: list[tuple[int, Any]] = field(default_factory=list)  # (request id, result) for clients

    def send(self, dst: str, message: Any) -> None:
        self.messages.append((dst, message))

    def event(self, kind: str, **data: Any) -> None:
        self.events.append(Event(kind, data))

    def reply(self, request_id: int, result: Any) -> None:
        self.replies.append((request_id, result))


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

    def request(self, request_id: int, command: Any, now: float) -> Output:
        """A client command (only algorithms that serve clients have this). The result
        comes back in ``Output.replies`` under ``request_id``, now or from a later input."""
        ...

    def request_many(self, requests: list[tuple[int, Any]], now: float) -> Output:
        """Several ``(request_id, command)`` at once, as one input (drivers use this for a
        burst of client requests: one output for all, not one each)."""
        ...

    def command(self, request_id: int, name: str, args: dict[str, Any], now: float) -> Output:
        """An operator's request to this node (e.g. "start an agreement"), from the lab's
        control path, not the network (only algorithms that take commands have this). The
        JSON-able result comes back in ``Output.replies`` under ``request_id``, now or from a
        later input; an unknown ``name`` or bad ``args`` raises ``ValueError`` saying why."""
        ...

    def next_deadline(self) -> float:
        """The earliest time at which :meth:`tick` has something to do."""
        ...

    def status(self, now: float, log_tail: int = 0) -> dict[str, Any]:
        """A JSON-able snapshot shaped like ``chaoslab.v1.NodeStatus``: keys ``role``,
        ``term``, ``leader``, ``last_heard_s`` and the algorithm's detail (e.g. ``raft``),
        with up to ``log_tail`` trailing log entries where the algorithm has a log."""
        ...


class LatestState:
    """Durable model for cores whose ``persist`` is their whole durable state.

    Drivers keep one durable model per node: ``apply`` each persisted change,
    and on restart hand ``restore()`` to the algorithm's factory. Raft's model
    is :class:`chaoslab.algorithms.raft.durable.RaftDurable` (a log, not a value).
    """

    def __init__(self) -> None:
        self.value: Any = None

    def apply(self, persist: Any) -> None:
        self.value = persist

    def restore(self) -> Any:
        import copy

        return copy.deepcopy(self.value)

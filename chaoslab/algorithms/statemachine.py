"""The contract between a log-based core (Raft) and the state machine it replicates.

The core orders commands; the state machine gives them meaning. Raft knows
nothing of keys or sessions: it asks the machine to sort a burst of client
commands into reads and writes, to encode each group of writes as one log
entry's ``data``, and, once an entry is committed, to apply it. The key-value
store (:mod:`chaoslab.algorithms.kv`) is one such machine; a counter or a
queue is another (etcd's raft hands committed entries to its server the same
way).

A machine is handed to the core empty; the core restores it from a snapshot
when it boots from one or installs one. Everything here runs on every replica
for every committed entry, so the contract is:

- **Deterministic.** :meth:`StateMachine.apply` and :meth:`~StateMachine.apply_own`
  change the state as a function of (current state, index, entry) alone; two
  replicas that applied the same entries in the same order are equal (``==``)
  and give equal :meth:`~StateMachine.snapshot` bytes. No clock, no
  randomness, no I/O.
- **Total.** ``apply`` never raises: data that is not a valid entry applies as
  nothing (alike on every replica). ``restore`` raises ``ValueError`` on bytes
  that are not a snapshot and then leaves the state as it was.
- **Exactly one result per write.** ``apply_own`` returns one result per
  command, in order; results are not changed once returned (a machine may hand
  the same object to a retry).
- **Batch-shaped.** Each method takes a whole burst or a whole entry, so the
  boundary costs the core one call per burst or entry, never one per command;
  the leader applies its own proposals from the commands it still holds
  (``apply_own``), without decoding what it encoded.

Commands and results are the machine's own types; the core only moves them
between the driver (``request_many`` / ``Output.replies``) and the machine.
When the core must answer a command itself (not the leader, leadership lost),
it asks the machine to build that result (:meth:`StateMachine.refuse`).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any, Protocol


class Refusal(Enum):
    """Why the core answered a command without the state machine running it; the value is
    the text a client sees."""

    NOT_LEADER = "not the leader"  # definitely not applied: retry at the hinted leader
    OUTCOME_UNKNOWN = "leadership lost; outcome unknown"  # a write's entry may still commit: retry as is
    READ_ABANDONED = "leadership lost"  # a read not served; reads have no effect, so retry anywhere


class StateMachine(Protocol):
    """What Raft needs of the machine it replicates. See the module docstring for the contract."""

    def split(
        self, requests: Iterable[tuple[int, Any]]
    ) -> tuple[list[tuple[int, Any]], list[int], list[Any], list[tuple[int, Any]]]:
        """Sort a burst of ``(request_id, command)``, keeping order within each group, into
        ``(reads, write_ids, writes, rejected)``: reads as pairs (served by :meth:`query`
        after ReadIndex, never logged); the writes' request ids and commands side by side
        (to be logged); and ``(request_id, result)`` for commands refused outright."""
        ...

    def encode(self, commands: list[Any]) -> bytes:
        """One log entry's ``data`` holding these writes, to be applied in this order."""
        ...

    def apply(self, index: int, data: bytes) -> None:
        """Apply the entry committed at ``index`` (as :meth:`encode` made it, on some replica)."""
        ...

    def apply_own(self, index: int, commands: list[Any]) -> list[Any]:
        """Apply the entry committed at ``index`` from the commands it was encoded from; their
        results, one per command, in order. Same effect as ``apply(index, encode(commands))``."""
        ...

    def query(self, index: int, command: Any) -> Any:
        """The result of a read, served once everything up to read index ``index`` is applied."""
        ...

    def refuse(self, reason: Refusal, leader_hint: str) -> Any:
        """The result the core returns for a command it did not run, for ``reason``."""
        ...

    def snapshot(self) -> bytes:
        """The whole state as bytes (equal states give equal bytes)."""
        ...

    def restore(self, data: bytes) -> None:
        """Replace the whole state with a :meth:`snapshot`'s; ``ValueError`` (state untouched) if
        ``data`` is not one."""
        ...

    def describe(self, data: bytes) -> str:
        """A short rendering of an entry's data for status and dashboards; ``ValueError`` if
        it is not an entry of this machine."""
        ...

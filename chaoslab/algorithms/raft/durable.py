"""What a Raft node keeps across crashes, and how one step's changes apply to it.

The core hands its driver a :class:`RaftPersist` (in ``Output.persist``) for
every input that changed durable state. A driver makes it durable *before*
sending the step's messages or replies, by applying it to a
:class:`RaftDurable`: the simulator keeps that object in memory, the node
runtime mirrors it in a write-ahead log (``chaoslab.algorithms.raft.adapters.wal``) that
rebuilds the same object on restart. ``RaftDurable.apply`` is the one
definition of what "persisted" means; both storages are tested against it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from chaoslab.algorithms.raft.messages import Entry


@dataclass(slots=True)
class HardState:
    """Raft Figure 2's persistent state, plus the commit index (a hint that speeds up restart)."""

    term: int = 0
    voted_for: str | None = None
    commit: int = 0


@dataclass(slots=True)
class Snapshot:
    """The state machine as of ``index`` (which had ``term``), serialized by the core."""

    index: int
    term: int
    data: bytes = b""


@dataclass(slots=True)
class RaftPersist:
    """One step's durable changes, applied in this order: snapshot, entries, hard state.

    ``entries`` are appended; when the first one's index is at or below the
    last stored index, the stored log is first truncated from that index
    (a follower overwriting a conflicting suffix). ``snapshot`` replaces the
    log prefix up to ``snapshot.index``: entries after it survive only if the
    stored log holds ``snapshot.index`` with ``snapshot.term`` (local
    compaction); otherwise the whole log is discarded (InstallSnapshot).
    """

    hard_state: HardState | None = None
    entries: list[Entry] = field(default_factory=list)
    snapshot: Snapshot | None = None


@dataclass(slots=True)
class RaftDurable:
    """Everything a restarted node gets back: hard state, latest snapshot, the log after it."""

    hard_state: HardState = field(default_factory=HardState)
    snapshot: Snapshot | None = None
    entries: list[Entry] = field(default_factory=list)  # contiguous, first index = snapshot index + 1

    @property
    def first_index(self) -> int:
        return (self.snapshot.index if self.snapshot else 0) + 1

    @property
    def last_index(self) -> int:
        if self.entries:
            return self.entries[-1].index
        return self.snapshot.index if self.snapshot else 0

    def apply(self, p: RaftPersist) -> None:
        if p.snapshot is not None:
            snap = p.snapshot
            if self.snapshot is None or snap.index > self.snapshot.index:
                keep = [e for e in self.entries if e.index > snap.index]
                held = next((e for e in self.entries if e.index == snap.index), None)
                self.entries = keep if held is not None and held.term == snap.term else []
                self.snapshot = snap
        if p.entries:
            first = p.entries[0].index
            if first > self.last_index + 1:
                raise ValueError(f"gap in the log: appending {first} after {self.last_index}")
            if first < self.first_index:
                raise ValueError(f"appending {first} inside snapshot {self.first_index - 1}")
            # Contiguous from first_index, so truncation is by position: cost follows the
            # batch, not the log (this runs for every fsync batch on the hot path).
            del self.entries[first - self.first_index :]
            self.entries.extend(p.entries)
        if p.hard_state is not None:
            self.hard_state = p.hard_state

    def restore(self) -> RaftDurable:
        """A deep copy for a restarting core (which may then mutate it freely)."""
        return copy.deepcopy(self)

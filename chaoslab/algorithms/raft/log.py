"""Raft's in-memory log: the entries after the latest snapshot.

Indexes start at 1; index 0 is the empty log's sentinel (term 0). After a
snapshot at ``(snapshot_index, snapshot_term)`` the entries up to
``snapshot_index`` are gone, but the term at ``snapshot_index`` is still known
(the consistency check of the next AppendEntries needs it). Every lookup goes
through :meth:`RaftLog.term_at`, which answers ``None`` for an index it cannot
see (compacted, or past the end), so callers cannot confuse "unknown" with a
real term.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from chaoslab.algorithms.raft.messages import Entry


class RaftLog:
    """Entries ``snapshot_index + 1 .. last_index``, contiguous, plus the snapshot's position."""

    __slots__ = ("entries", "snapshot_index", "snapshot_term")

    def __init__(self, snapshot_index: int = 0, snapshot_term: int = 0, entries: Iterable[Entry] = ()) -> None:
        self.snapshot_index = snapshot_index
        self.snapshot_term = snapshot_term
        self.entries: list[Entry] = []
        self.append(list(entries))

    def __repr__(self) -> str:
        return f"RaftLog(snapshot=({self.snapshot_index}, {self.snapshot_term}), last={self.last_index})"

    # ------------------------------------------------------------------ reading

    @property
    def first_index(self) -> int:
        """The first index still held as an entry (``last_index + 1`` when none are)."""
        return self.snapshot_index + 1

    @property
    def last_index(self) -> int:
        return self.snapshot_index + len(self.entries)

    @property
    def last_term(self) -> int:
        return self.entries[-1].term if self.entries else self.snapshot_term

    def term_at(self, index: int) -> int | None:
        """The term of the entry at ``index``; ``None`` if compacted away or beyond the end."""
        if index == self.snapshot_index:
            return self.snapshot_term
        if index < self.snapshot_index or index > self.last_index:
            return None
        return self.entries[index - self.snapshot_index - 1].term

    def entry(self, index: int) -> Entry:
        """The entry at ``index``; ``IndexError`` if it is not held."""
        if not self.snapshot_index < index <= self.last_index:
            raise IndexError(f"log index {index} not in {self.first_index}..{self.last_index}")
        return self.entries[index - self.snapshot_index - 1]

    def between(self, lo: int, hi: int) -> list[Entry]:
        """Entries ``lo..hi`` inclusive; ``IndexError`` unless all are held."""
        if not self.snapshot_index < lo <= hi + 1 <= self.last_index + 1:
            raise IndexError(f"log indexes {lo}..{hi} not in {self.first_index}..{self.last_index}")
        return self.entries[lo - self.snapshot_index - 1 : hi - self.snapshot_index]

    def matches(self, index: int, term: int) -> bool:
        """Does our entry at ``index`` have ``term`` (Raft §5.3's consistency check)?"""
        return self.term_at(index) == term

    def slice(self, lo: int, max_entries: int, max_bytes: int) -> list[Entry]:
        """Entries from ``lo`` on, at most ``max_entries`` and about ``max_bytes`` of data.

        At least one entry is returned when there is one, however large, so a
        big entry cannot stall replication.
        """
        if lo <= self.snapshot_index:
            raise IndexError(f"log index {lo} is compacted (snapshot at {self.snapshot_index})")
        start = lo - self.snapshot_index - 1
        chunk = self.entries[start : start + max_entries]
        size = 0
        for i, e in enumerate(chunk):
            size += len(e.data) + 16  # index, term, kind: a rough fixed cost per entry
            if size > max_bytes and i > 0:
                return chunk[:i]
        return chunk

    def find_conflict(self, entries: Sequence[Entry]) -> int:
        """The first index of ``entries`` whose term differs from ours or that we lack; 0 if none.

        etcd's ``findConflict``: entries we already hold with the same term are
        identical (Log Matching), so a retransmission changes nothing.
        """
        for e in entries:
            if self.term_at(e.index) != e.term:
                return e.index
        return 0

    def find_conflict_by_term(self, index: int, term: int) -> tuple[int, int | None]:
        """The largest index <= ``index`` whose term is <= ``term``, with that term.

        etcd's ``findConflictByTerm`` (thesis §5.3's fast backtracking): every
        entry after the answer has a later term, so it cannot match an entry
        of ``term``. Stops at the snapshot (the term is then ``snapshot_term``,
        or ``None`` when even that is later than ``term``).
        """
        index = min(index, self.last_index)
        while index > self.snapshot_index:
            t = self.entries[index - self.snapshot_index - 1].term
            if t <= term:
                return index, t
            index -= 1
        if index == self.snapshot_index and self.snapshot_term <= term:
            return index, self.snapshot_term
        return index, None

    def first_index_of_term(self, index: int, floor: int) -> int:
        """The first index of the run of ``term_at(index)`` that ends at ``index``, not below ``floor``."""
        term = self.term_at(index)
        while index - 1 >= max(floor, self.first_index) and self.term_at(index - 1) == term:
            index -= 1
        return index

    # ------------------------------------------------------------------ writing

    def append(self, entries: Sequence[Entry]) -> None:
        """Append ``entries``; if the first is at or below ``last_index``, truncate from it first.

        Truncating into the snapshot is a bug (committed entries never change).
        """
        if not entries:
            return
        first = entries[0].index
        if first <= self.snapshot_index:
            raise ValueError(f"cannot overwrite compacted index {first} (snapshot at {self.snapshot_index})")
        if first > self.last_index + 1:
            raise ValueError(f"gap in the log: appending {first} after {self.last_index}")
        del self.entries[first - self.snapshot_index - 1 :]
        self.entries.extend(entries)

    def compact(self, index: int) -> None:
        """Drop the entries up to ``index`` (now covered by a snapshot taken at ``index``)."""
        if index <= self.snapshot_index:
            return
        term = self.term_at(index)
        if term is None:
            raise ValueError(f"cannot compact to {index}: the log ends at {self.last_index}")
        del self.entries[: index - self.snapshot_index]
        self.snapshot_index, self.snapshot_term = index, term

    def restore(self, index: int, term: int) -> None:
        """Start over from a snapshot at ``(index, term)`` that our log does not contain."""
        self.entries = []
        self.snapshot_index, self.snapshot_term = index, term

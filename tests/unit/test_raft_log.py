"""Raft's in-memory log (chaoslab.algorithms.raft.log): indexes and terms around the snapshot."""

from __future__ import annotations

import pytest

from chaoslab.algorithms.raft.log import RaftLog
from chaoslab.algorithms.raft.messages import Entry, EntryKind


def entries(*terms: int, start: int = 1) -> list[Entry]:
    """Entries with these terms at indexes start, start+1, ..."""
    return [Entry(start + i, t, EntryKind.NORMAL, f"e{start + i}".encode()) for i, t in enumerate(terms)]


class TestEmptyLog:
    def test_index_zero_is_the_sentinel(self) -> None:
        """An empty log ends at index 0, term 0; index 0 has term 0 and anything else is unknown."""
        log = RaftLog()
        assert (log.first_index, log.last_index, log.last_term) == (1, 0, 0)
        assert log.term_at(0) == 0
        assert log.term_at(1) is None
        assert log.matches(0, 0) and not log.matches(1, 1)


class TestReading:
    def test_terms_and_entries_by_index(self) -> None:
        """term_at and entry look up by log index (1-based), None / IndexError outside the log."""
        log = RaftLog(entries=entries(1, 1, 2))
        assert [log.term_at(i) for i in range(5)] == [0, 1, 1, 2, None]
        assert log.entry(3) == Entry(3, 2, EntryKind.NORMAL, b"e3")
        with pytest.raises(IndexError):
            log.entry(4)
        with pytest.raises(IndexError):
            log.entry(0)

    def test_slice_caps_entries_and_bytes(self) -> None:
        """slice returns at most max_entries and about max_bytes of entries, but always at least one."""
        log = RaftLog(entries=entries(*[1] * 10))
        assert [e.index for e in log.slice(3, 4, 10**6)] == [3, 4, 5, 6]
        assert [e.index for e in log.slice(9, 4, 10**6)] == [9, 10]
        assert [e.index for e in log.slice(1, 100, 40)] == [1, 2]  # 2 bytes of data + 16 of overhead each
        assert [e.index for e in log.slice(1, 100, 1)] == [1]  # one entry even if it is too big
        assert log.slice(11, 5, 100) == []

    def test_find_conflict(self) -> None:
        """etcd's findConflict: the first index whose term differs or that we lack; 0 when all match."""
        log = RaftLog(entries=entries(1, 1, 2, 2))
        assert log.find_conflict(entries(1, 2, start=2)) == 0  # already held
        assert log.find_conflict(entries(2, 2, 2, start=3)) == 5  # new past the end
        assert log.find_conflict(entries(1, 3, 3, start=2)) == 3  # term differs at 3
        assert log.find_conflict([]) == 0

    def test_find_conflict_by_term(self) -> None:
        """The largest index <= i whose term is <= t (thesis §5.3's backtracking, etcd's findConflictByTerm)."""
        log = RaftLog(entries=entries(1, 1, 3, 3, 5, 5))
        assert log.find_conflict_by_term(6, 5) == (6, 5)
        assert log.find_conflict_by_term(6, 4) == (4, 3)
        assert log.find_conflict_by_term(6, 2) == (2, 1)
        assert log.find_conflict_by_term(6, 0) == (0, 0)
        assert log.find_conflict_by_term(99, 3) == (4, 3)  # clamped to the last index

    def test_first_index_of_term(self) -> None:
        """The first index of the run of terms that ends at an index, not below a floor."""
        log = RaftLog(entries=entries(1, 2, 2, 2, 3))
        assert log.first_index_of_term(4, 1) == 2
        assert log.first_index_of_term(4, 3) == 3
        assert log.first_index_of_term(5, 1) == 5


class TestWriting:
    def test_append_extends_and_truncates_a_conflicting_suffix(self) -> None:
        """Appending at or below the last index first truncates from there (Raft §5.3)."""
        log = RaftLog(entries=entries(1, 1, 1, 1))
        log.append(entries(2, 2, start=3))
        assert [log.term_at(i) for i in range(1, 6)] == [1, 1, 2, 2, None]
        log.append(entries(2, start=5))
        assert log.last_index == 5

    def test_append_refuses_gaps(self) -> None:
        """Entries must continue the log: a gap is a bug, reported."""
        log = RaftLog(entries=entries(1))
        with pytest.raises(ValueError, match="gap"):
            log.append(entries(1, start=3))


class TestSnapshotBoundary:
    def test_compact_keeps_the_boundary_term(self) -> None:
        """After compacting to i the entries up to i are gone, but i's term is still known."""
        log = RaftLog(entries=entries(1, 1, 2, 2, 3))
        log.compact(3)
        assert (log.snapshot_index, log.snapshot_term, log.first_index, log.last_index) == (3, 2, 4, 5)
        assert [log.term_at(i) for i in range(7)] == [None, None, None, 2, 2, 3, None]
        assert log.entry(4).index == 4
        with pytest.raises(IndexError):
            log.entry(3)
        with pytest.raises(IndexError, match="compacted"):
            log.slice(3, 10, 100)

    def test_compact_everything_then_append(self) -> None:
        """A log compacted to its end is empty but keeps its last index and term; appends continue it."""
        log = RaftLog(entries=entries(1, 2))
        log.compact(2)
        assert (log.last_index, log.last_term, log.entries) == (2, 2, [])
        log.append(entries(3, start=3))
        assert (log.last_index, log.last_term) == (3, 3)

    def test_compact_is_idempotent_and_bounded(self) -> None:
        """Compacting to an older index does nothing; past the end is an error."""
        log = RaftLog(entries=entries(1, 1, 1))
        log.compact(2)
        log.compact(1)
        assert log.snapshot_index == 2
        with pytest.raises(ValueError):
            log.compact(9)

    def test_no_overwrite_below_the_snapshot(self) -> None:
        """Compacted entries were committed: overwriting one is a bug, reported."""
        log = RaftLog(entries=entries(1, 1, 1))
        log.compact(2)
        with pytest.raises(ValueError, match="compacted"):
            log.append(entries(2, start=2))

    def test_restore_discards_everything(self) -> None:
        """Installing a snapshot the log does not contain starts the log over after it."""
        log = RaftLog(entries=entries(1, 1, 1))
        log.restore(10, 4)
        assert (log.snapshot_index, log.snapshot_term, log.last_index, log.last_term) == (10, 4, 10, 4)
        assert log.term_at(3) is None and log.term_at(10) == 4

    def test_built_from_a_snapshot_and_the_entries_after_it(self) -> None:
        """A restarted node's log: the snapshot position plus the entries that follow it."""
        log = RaftLog(5, 2, entries(2, 3, start=6))
        assert (log.first_index, log.last_index, log.term_at(5), log.term_at(7)) == (6, 7, 2, 3)
        assert log.find_conflict_by_term(7, 2) == (6, 2)
        assert log.find_conflict_by_term(7, 1) == (5, None)  # cannot look past the snapshot

"""Torn and interrupted writes: what a crash can leave of the WAL and the snapshot file, and what
recovery makes of it.

Two fault models. A *process* crash (SIGKILL, what ``chaoslab crash`` does) keeps every byte
``write`` handed to the kernel and loses the rest of the operation: :class:`CrashingOS` stands
in for the ``os`` module of the storage under test and "crashes" after a budget of steps (a
byte written, an fsync, a rename), tried at every budget. A *power* loss may also lose or
garble bytes that were written but not yet fsynced: the tail of the file is torn at every byte
offset of the last record, cut short, filled with garbage or with zeros (what ext4 can leave
after a crash in writeback mode). Either way, recovery must give back everything that was
fsynced before the fault, accept nothing that was not a whole record, and let the node go on
appending.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest

from chaoslab.algorithms.raft.adapters import wal
from chaoslab.algorithms.raft.adapters.wal import RaftLogStorage
from chaoslab.algorithms.raft.durable import HardState, RaftDurable, RaftPersist, Snapshot
from chaoslab.algorithms.raft.messages import Entry, EntryKind
from chaoslab.runtime import storage as json_storage
from chaoslab.runtime.storage import DurableFile


class Crash(Exception):
    """The process died here."""


class CrashingOS:
    """The ``os`` module, except that the process dies after ``budget`` steps: each byte written
    is a step (a write is cut short at the budget: the bytes before it are on disk), and so is
    each fsync, fdatasync and rename (which then does not happen)."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.steps = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def _step(self) -> None:
        if self.steps >= self.budget:
            raise Crash
        self.steps += 1

    def write(self, fd: int, data: bytes) -> int:
        room = self.budget - self.steps
        if room < len(data):
            os.write(fd, bytes(data[: int(max(room, 0))]))
            self.steps = self.budget
            raise Crash
        self.steps += len(data)
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        self._step()
        os.fsync(fd)

    def fdatasync(self, fd: int) -> None:
        self._step()
        os.fdatasync(fd)

    def replace(self, src: Any, dst: Any) -> None:
        self._step()
        os.replace(src, dst)


def model(*batches: list[RaftPersist]) -> RaftDurable:
    m = RaftDurable()
    for batch in batches:
        for p in batch:
            m.apply(p)
    return m


def as_batch(d: RaftDurable) -> list[RaftPersist]:
    """One batch that rebuilds ``d`` from nothing (snapshot, then the log after it, then hard state)."""
    return [RaftPersist(entries=list(d.entries), hard_state=d.hard_state, snapshot=d.snapshot)]


def entries(first: int, n: int, term: int, tag: str) -> list[Entry]:
    return [Entry(i, term, EntryKind.NORMAL, f"{tag}{i}".encode()) for i in range(first, first + n)]


ACKED = [
    [RaftPersist(hard_state=HardState(1, "n1", 0))],
    [RaftPersist(entries=entries(1, 3, 1, "a"), hard_state=HardState(1, "n1", 2))],
    [RaftPersist(entries=entries(4, 2, 1, "b"))],
]
LAST = [RaftPersist(entries=entries(6, 2, 1, "unacked-"))]  # one record: the write in flight
MORE = [RaftPersist(entries=entries(6, 2, 2, "after-")), RaftPersist(hard_state=HardState(2, "n3", 7))]


def written(path: Path, *batches: list[RaftPersist]) -> bytes:
    """The WAL bytes of ``batches``, each saved (fsynced) in turn."""
    path.mkdir(parents=True, exist_ok=True)
    s = RaftLogStorage(path)
    for batch in batches:
        s.save(batch)
    s.close()
    return (path / "wal").read_bytes()


TEARS = ("cut", "garbage", "zeros")


def torn(record: bytes, at: int, how: str, rng: random.Random) -> bytes:
    """The first ``at`` bytes of ``record``, then what a power loss left of the rest."""
    rest = len(record) - at
    if how == "cut":
        return record[:at]
    if how == "zeros":
        return record[:at] + bytes(rest)
    return record[:at] + rng.randbytes(rest)


class TestTornLastRecord:
    @pytest.mark.parametrize("how", TEARS)
    def test_every_tear_of_the_last_record_recovers_what_was_fsynced(self, tmp_path: Path, how: str) -> None:
        """Tear the last record at every byte offset (cut short, garbage or zeros after): recovery
        gives back exactly the fsynced batches, cuts the tail off on disk, and the node appends and
        recovers again with nothing lost and nothing torn accepted."""
        acked = written(tmp_path / "ref", *ACKED)
        record = written(tmp_path / "ref2", *ACKED, LAST)[len(acked):]
        assert record  # one frame: header and payload
        rng = random.Random(len(record))
        for at in range(len(record)):
            d = tmp_path / f"{how}-{at}"
            d.mkdir()
            (d / "wal").write_bytes(acked + torn(record, at, how, rng))
            s = RaftLogStorage(d)
            assert s.load() == model(*ACKED), f"tear at byte {at} ({how})"
            assert (d / "wal").read_bytes() == acked, f"tear at byte {at} ({how}): tail not truncated"
            s.save(MORE)
            s.close()
            assert RaftLogStorage(d).load() == model(*ACKED, MORE), f"tear at byte {at} ({how}), after appending"

    def test_a_tear_inside_a_batch_keeps_whole_records_only(self, tmp_path: Path) -> None:
        """A batch of several records torn anywhere: what comes back is the fsynced state plus some
        whole records of the batch, in order (never part of one), and appending goes on from there."""
        batch = [RaftPersist(entries=entries(6, 2, 2, "x"), hard_state=HardState(2, "n2", 5)),
                 RaftPersist(entries=entries(8, 1, 2, "y"))]
        acked = written(tmp_path / "ref", *ACKED)
        tail = written(tmp_path / "ref2", *ACKED, batch)[len(acked):]
        replay = model(*ACKED)  # the state after each whole record of the batch: the legal outcomes
        legal = [replay.restore()]
        for p in batch:
            for r in wal._records(p):
                replay.apply(RaftLogStorage._persist_of(r))
                legal.append(replay.restore())
        for at in range(len(tail)):
            d = tmp_path / f"cut-{at}"
            d.mkdir()
            (d / "wal").write_bytes(acked + tail[:at])
            loaded = RaftLogStorage(d).load()
            assert loaded in legal, f"tear at byte {at} of the batch"

    def test_zeros_where_a_record_should_start(self, tmp_path: Path) -> None:
        """A run of zeros after the last whole record (a file extended but never written) reads as
        torn, not as an empty record: crc32 of nothing is 0, so a zero header "checks"."""
        acked = written(tmp_path / "ref", *ACKED)
        (tmp_path / "wal").write_bytes(acked + bytes(64))
        s = RaftLogStorage(tmp_path)
        assert s.load() == model(*ACKED)
        assert s.report.torn_bytes == 64


def base_state(path: Path) -> RaftDurable:
    """A node with an older snapshot and a log after it, as on disk."""
    path.mkdir(parents=True, exist_ok=True)
    s = RaftLogStorage(path)
    batches = [[RaftPersist(entries=entries(1, 8, 1, "e"), hard_state=HardState(1, "n1", 8))],
               [RaftPersist(snapshot=Snapshot(4, 1, b"state-at-4"))]]
    for b in batches:
        s.save(b)
    s.close()
    return model(*batches)


SNAPSHOT_BATCHES = {
    # the node compacts its own log
    "taken": [RaftPersist(snapshot=Snapshot(7, 1, b"state-at-7" * 20))],
    # a leader's snapshot replaces a log that does not hold its index
    "installed": [RaftPersist(snapshot=Snapshot(20, 3, b"leader-state" * 20), hard_state=HardState(3, None, 20))],
    # entries and a snapshot in one fsync batch (group commit)
    "batched": [RaftPersist(entries=entries(9, 2, 1, "f")), RaftPersist(snapshot=Snapshot(10, 1, b"at-10" * 30))],
}


class TestInterruptedSnapshot:
    @pytest.mark.parametrize("kind", sorted(SNAPSHOT_BATCHES))
    def test_a_crash_at_every_point_of_a_snapshot_save(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      kind: str) -> None:
        """Writing a snapshot is: the snapshot file (temp file, fsync, rename), then the WAL rewritten
        the same way. Killed after any byte or step of it, the node recovers the old state (the old
        snapshot file intact), the new one, or, killed between the two files, the old log under the
        new snapshot with its hard state raised to the snapshot's term; never a torn file, never a
        term below the snapshot's. Then it saves again and recovers that too."""
        batch = SNAPSHOT_BATCHES[kind]
        counting = CrashingOS(float("inf"))
        monkeypatch.setattr(wal, "os", counting)
        before = base_state(tmp_path / "count")
        counting.steps = 0
        s = RaftLogStorage(tmp_path / "count")
        s.load()
        s.save(batch)
        total = counting.steps
        after = model(as_batch(before), batch)
        snap = after.snapshot
        assert snap is not None
        hs = before.hard_state
        between = model(as_batch(before), [RaftPersist(snapshot=snap, hard_state=HardState(
            max(hs.term, snap.term), hs.voted_for if hs.term >= snap.term else None, max(hs.commit, snap.index)))])
        outcomes = set()
        for budget in range(total + 1):
            d = tmp_path / f"{kind}-{budget}"
            monkeypatch.setattr(wal, "os", os)
            old = base_state(d)
            monkeypatch.setattr(wal, "os", CrashingOS(budget))
            s = RaftLogStorage(d)
            s.load()
            try:
                s.save(batch)
            except Crash:
                assert budget < total
            else:
                assert budget == total
            monkeypatch.setattr(wal, "os", os)  # the restarted process has a healthy disk
            loaded = RaftLogStorage(d).load()
            outcome = {id(old): "old", id(after): "new", id(between): "between"}.get(
                next((id(m) for m in (old, after, between) if loaded == m), 0))
            assert outcome is not None, f"crash after {budget} of {total} steps: {loaded}"
            assert loaded.snapshot is not None and loaded.hard_state.term >= loaded.snapshot.term
            outcomes.add(outcome)
            # the node goes on: one more change, recovered too
            more = [RaftPersist(hard_state=HardState(loaded.hard_state.term + 1, "n2", loaded.hard_state.commit))]
            s2 = RaftLogStorage(d)
            s2.load()
            s2.save(more)
            s2.close()
            assert RaftLogStorage(d).load() == model(as_batch(loaded), more)
        assert {"old", "new"} <= outcomes


class TestInterruptedJsonState:
    def test_a_crash_at_every_point_of_a_state_file_save(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """One-document state (algorithms without a log) is replaced atomically: killed at any point of
        a save, the old document or the new one is read back, whole."""
        old, new = {"term": 3, "boots": 1, "pad": "o" * 40}, {"term": 4, "boots": 2, "pad": "n" * 40}
        counting = CrashingOS(float("inf"))
        monkeypatch.setattr(json_storage, "os", counting)
        DurableFile(tmp_path / "count.json").save([new])
        total = counting.steps
        seen = set()
        for budget in range(total + 1):
            path = tmp_path / f"state-{budget}.json"
            monkeypatch.setattr(json_storage, "os", os)
            DurableFile(path).save([old])
            monkeypatch.setattr(json_storage, "os", CrashingOS(budget))
            try:
                DurableFile(path).save([new])
            except Crash:
                pass
            monkeypatch.setattr(json_storage, "os", os)
            got = DurableFile(path).load()
            assert got in (old, new), f"crash after {budget} of {total} steps"
            seen.add(got["term"])
        assert seen == {3, 4}

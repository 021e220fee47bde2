"""The raft write-ahead log on disk mirrors RaftDurable exactly, and survives torn writes."""

from __future__ import annotations

import random

import pytest

from chaoslab.algorithms.raft.durable import HardState, RaftDurable, RaftPersist, Snapshot
from chaoslab.algorithms.raft.messages import Entry, EntryKind
from chaoslab.algorithms.raft.adapters.wal import RaftLogStorage


def random_persists(rng: random.Random, steps: int) -> list[RaftPersist]:
    """A plausible history: appends, conflicting overwrites, votes, compactions, installs."""
    model = RaftDurable()
    term = 1
    out = []
    for _ in range(steps):
        roll = rng.random()
        last = model.last_index
        if roll < 0.45:
            n = rng.randint(1, 5)
            p = RaftPersist(entries=[Entry(last + i + 1, term, EntryKind.NORMAL, rng.randbytes(rng.randint(0, 20))) for i in range(n)])
        elif roll < 0.6 and last >= model.first_index:
            start = rng.randint(model.first_index, last)
            term += 1
            p = RaftPersist(entries=[Entry(start, term, EntryKind.NOOP)], hard_state=HardState(term, "n2", 0))
        elif roll < 0.75:
            term += rng.randint(0, 1)
            p = RaftPersist(hard_state=HardState(term, rng.choice([None, "n1", "n3"]), rng.randint(0, max(0, last))))
        elif roll < 0.9 and last >= model.first_index:
            at = rng.randint(model.first_index, last)
            held = next(e for e in model.entries if e.index == at)
            p = RaftPersist(snapshot=Snapshot(at, held.term, rng.randbytes(50)))
        else:
            term += 1
            p = RaftPersist(snapshot=Snapshot(last + rng.randint(1, 10), term, rng.randbytes(30)),
                            hard_state=HardState(term, None, 0))
        model.apply(p)
        out.append(p)
    return out


def expected(persists: list[RaftPersist]) -> RaftDurable:
    model = RaftDurable()
    for p in persists:
        model.apply(p)
    return model


class TestRoundTrip:
    @pytest.mark.parametrize("seed", range(25))
    def test_load_equals_the_model(self, tmp_path, seed):
        """Whatever batches the changes came in, a fresh load rebuilds exactly what RaftDurable.apply says."""
        rng = random.Random(seed)
        persists = random_persists(rng, 60)
        storage = RaftLogStorage(tmp_path)
        i = 0
        while i < len(persists):
            n = rng.randint(1, 6)
            storage.save(persists[i : i + n])
            i += n
        storage.close()
        loaded = RaftLogStorage(tmp_path).load()
        assert loaded == expected(persists)

    def test_restart_then_append(self, tmp_path):
        """A node that restarts keeps appending to the same log."""
        s = RaftLogStorage(tmp_path)
        first = [RaftPersist(entries=[Entry(1, 1), Entry(2, 1)], hard_state=HardState(1, "n1", 1))]
        s.save(first)
        s.close()
        s2 = RaftLogStorage(tmp_path)
        s2.load()
        more = [RaftPersist(entries=[Entry(3, 2, data=b"x")])]
        s2.save(more)
        s2.close()
        assert RaftLogStorage(tmp_path).load() == expected(first + more)

    def test_snapshot_keeps_the_wal_short(self, tmp_path):
        """After compaction the WAL holds only what follows the snapshot."""
        s = RaftLogStorage(tmp_path)
        s.save([RaftPersist(entries=[Entry(i, 1, data=b"v" * 100) for i in range(1, 201)])])
        big = s.wal_path.stat().st_size
        s.save([RaftPersist(snapshot=Snapshot(195, 1, b"state"))])
        assert s.wal_path.stat().st_size < big / 10
        s.close()
        loaded = RaftLogStorage(tmp_path).load()
        assert loaded.snapshot == Snapshot(195, 1, b"state")
        assert [e.index for e in loaded.entries] == [196, 197, 198, 199, 200]


class TestCrashes:
    def _two_batches(self, path):
        s = RaftLogStorage(path)
        a = [RaftPersist(entries=[Entry(1, 1), Entry(2, 1)], hard_state=HardState(1, "n1", 2))]
        b = [RaftPersist(entries=[Entry(3, 1, data=b"later")])]
        s.save(a)
        s.save(b)
        s.close()
        return a, b

    @pytest.mark.parametrize("cut", [1, 4, 8, 12])
    def test_torn_last_record_is_truncated(self, tmp_path, cut):
        """A crash mid-write leaves a torn last record: it is cut off, never trusted."""
        a, b = self._two_batches(tmp_path)
        wal = tmp_path / "wal"
        data = wal.read_bytes()
        wal.write_bytes(data[: len(data) - cut])
        storage = RaftLogStorage(tmp_path)
        assert storage.load() == expected(a)
        assert storage.report.torn_bytes > 0
        assert RaftLogStorage(tmp_path).load() == expected(a)  # truncated on disk, not just ignored

    def test_corrupt_last_record_is_truncated(self, tmp_path):
        """A last record whose checksum fails is treated as torn."""
        a, b = self._two_batches(tmp_path)
        wal = tmp_path / "wal"
        data = bytearray(wal.read_bytes())
        data[-1] ^= 0xFF
        wal.write_bytes(bytes(data))
        assert RaftLogStorage(tmp_path).load() == expected(a)

    def test_crash_between_snapshot_file_and_wal_rewrite(self, tmp_path):
        """The snapshot file is written first; a crash before the WAL names it still recovers it."""
        s = RaftLogStorage(tmp_path)
        s.save([RaftPersist(entries=[Entry(i, 1) for i in range(1, 11)], hard_state=HardState(1, None, 10))])
        s._write_snapshot(Snapshot(8, 1, b"at-8"))  # what save() does first, then "crash"
        s.close()
        loaded = RaftLogStorage(tmp_path).load()
        assert loaded.snapshot == Snapshot(8, 1, b"at-8")
        assert [e.index for e in loaded.entries] == [9, 10]
        assert loaded.hard_state == HardState(1, None, 10)

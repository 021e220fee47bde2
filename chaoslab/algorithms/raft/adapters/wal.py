"""A raft node's durable state on disk: a write-ahead log plus a snapshot file.

It mirrors :class:`chaoslab.algorithms.raft.durable.RaftDurable` exactly:
``save`` appends the records of a batch of ``RaftPersist`` changes and fsyncs
once; ``load`` replays them into a ``RaftDurable``. So "what survives a crash"
has one definition, shared with the simulator.

Layout in the node's data directory::

    wal        records: u32 length | u32 crc32(payload) | payload (WalRecord)
    snapshot   the latest snapshot (SnapshotFile), replaced atomically

A crash can tear only the last record (a write in flight): cut short, or
followed by garbage or zeros. ``load`` detects it by length (zero included) or
checksum, truncates it away and reports it; a torn record was never fsynced,
so nothing acknowledged is lost. Taking or installing a snapshot writes the
snapshot file first, then rewrites the WAL (temp file, fsync, rename) with only
what follows the snapshot, which keeps the WAL short; a crash between the two
leaves the new snapshot file and the old WAL, from which ``load`` takes the
snapshot (tests/unit/test_wal_faults.py crashes every step of it).
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from chaoslab.algorithms.raft.durable import HardState, RaftDurable, RaftPersist, Snapshot
from chaoslab.algorithms.raft.messages import Entry, EntryKind
from chaoslab.v1 import storage_pb2

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<II")


@dataclass
class LoadReport:
    records: int = 0
    torn_bytes: int = 0  # bytes cut off the end of the WAL


def _frame(record: storage_pb2.WalRecord) -> bytes:
    payload = record.SerializeToString()
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _records(p: RaftPersist) -> Iterable[storage_pb2.WalRecord]:
    if p.snapshot is not None:
        yield storage_pb2.WalRecord(snapshot=storage_pb2.SnapshotMarker(index=p.snapshot.index, term=p.snapshot.term))
    if p.entries:
        record = storage_pb2.WalRecord()
        target = record.entries.entries
        for e in p.entries:  # filled in place: building messages and copying them in costs 3x more
            pb = target.add()
            pb.index, pb.term, pb.kind, pb.data = e.index, e.term, e.kind, e.data
        yield record
    if p.hard_state is not None:
        hs = p.hard_state
        yield storage_pb2.WalRecord(
            hard_state=storage_pb2.HardStateRecord(term=hs.term, voted_for=hs.voted_for or "", commit=hs.commit)
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class RaftLogStorage:
    """Durable storage for one raft node (see the module docstring)."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir
        self.wal_path = data_dir / "wal"
        self.snapshot_path = data_dir / "snapshot"
        self.mirror = RaftDurable()  # what is on disk, kept to rewrite the WAL after a snapshot
        self.report = LoadReport()
        self._fd = -1

    # -- reading ------------------------------------------------------------

    def load(self) -> RaftDurable:
        """Replay the WAL (truncating a torn tail) and the snapshot file into a RaftDurable."""
        durable = RaftDurable()
        data = self.wal_path.read_bytes() if self.wal_path.exists() else b""
        offset = 0
        while offset < len(data):
            if offset + _HEADER.size > len(data):
                break
            length, crc = _HEADER.unpack_from(data, offset)
            payload = data[offset + _HEADER.size : offset + _HEADER.size + length]
            # No record is empty: a zero header is a tail the file system extended but never
            # wrote (zeros after a crash), and crc32(b"") is 0, so the checksum alone passes it.
            if length == 0 or len(payload) != length or zlib.crc32(payload) != crc:
                break
            record = storage_pb2.WalRecord.FromString(payload)
            durable.apply(self._persist_of(record))
            offset += _HEADER.size + length
            self.report.records += 1
        if offset < len(data):
            self.report.torn_bytes = len(data) - offset
            log.warning("wal: torn record at offset %d; truncating %d bytes", offset, self.report.torn_bytes)
            with open(self.wal_path, "r+b") as f:
                f.truncate(offset)
                os.fsync(f.fileno())
        self._attach_snapshot(durable)
        self.mirror = durable.restore()
        return durable

    @staticmethod
    def _persist_of(record: storage_pb2.WalRecord) -> RaftPersist:
        kind = record.WhichOneof("record")
        if kind == "hard_state":
            hs = record.hard_state
            return RaftPersist(hard_state=HardState(hs.term, hs.voted_for or None, hs.commit))
        if kind == "entries":
            return RaftPersist(entries=[Entry(e.index, e.term, EntryKind(e.kind), e.data) for e in record.entries.entries])
        if kind == "snapshot":
            return RaftPersist(snapshot=Snapshot(record.snapshot.index, record.snapshot.term))
        raise ValueError(f"unknown WAL record {kind!r}")

    def _attach_snapshot(self, durable: RaftDurable) -> None:
        """Give the replayed snapshot marker its data, or apply a newer snapshot file.

        The file is written before the WAL names it, so it is never older than
        the WAL's marker; it is newer when a crash fell between the two writes.
        """
        if not self.snapshot_path.exists():
            if durable.snapshot is not None:
                raise ValueError(f"{self.wal_path} names snapshot {durable.snapshot.index} but {self.snapshot_path} is missing")
            return
        raw = self.snapshot_path.read_bytes()
        length, crc = _HEADER.unpack_from(raw, 0)
        payload = raw[_HEADER.size :]
        if len(payload) != length or zlib.crc32(payload) != crc:
            raise ValueError(f"{self.snapshot_path} is corrupt")
        snap_pb = storage_pb2.SnapshotFile.FromString(payload)
        snap = Snapshot(snap_pb.index, snap_pb.term, snap_pb.data)
        if durable.snapshot is not None and durable.snapshot.index == snap.index:
            durable.snapshot.data = snap.data
        elif durable.snapshot is None or snap.index > durable.snapshot.index:
            # The crash fell between the two writes: the rest of that batch (a newer term, say)
            # never reached the WAL. A snapshot holds only committed state, so it stands; the
            # hard state must not stay below its term (a term is never older than the log's).
            log.warning("snapshot file %d is newer than the wal: a crash between the two writes", snap.index)
            hs = durable.hard_state
            term = max(hs.term, snap.term)
            durable.apply(RaftPersist(snapshot=snap, hard_state=HardState(
                term, hs.voted_for if term == hs.term else None, max(hs.commit, snap.index))))

    # -- writing --------------------------------------------------------------

    def save(self, persists: list[RaftPersist]) -> None:
        """Make a batch of changes durable: one write and one fsync for the lot."""
        if not persists:
            return
        for p in persists:
            self.mirror.apply(p)
        if any(p.snapshot is not None for p in persists):
            self._write_snapshot(self.mirror.snapshot)
            self._rewrite_wal()
            return
        frames = b"".join(_frame(r) for p in persists for r in _records(p))
        if frames:
            fd = self._wal_fd()
            os.write(fd, frames)
            os.fdatasync(fd)

    def _wal_fd(self) -> int:
        if self._fd < 0:
            existed = self.wal_path.exists()
            self._fd = os.open(self.wal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            if not existed:
                _fsync_dir(self.dir)
        return self._fd

    def _write_snapshot(self, snap: Snapshot) -> None:
        payload = storage_pb2.SnapshotFile(index=snap.index, term=snap.term, data=snap.data).SerializeToString()
        _write_atomically(self.snapshot_path, _HEADER.pack(len(payload), zlib.crc32(payload)) + payload)

    def _rewrite_wal(self) -> None:
        """Replace the WAL with the mirror's state after the snapshot (marker, entries, hard state)."""
        m = self.mirror
        persist = RaftPersist(hard_state=m.hard_state, entries=list(m.entries), snapshot=m.snapshot)
        self.close()
        _write_atomically(self.wal_path, b"".join(_frame(r) for r in _records(persist)))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

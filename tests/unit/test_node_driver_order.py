"""The node runtime acts on a core's output in the contract's order: persist (fsync), then send,
then record events, also when outputs gather behind a slow fsync (group commit).

The driver's disk and network are attributes of :class:`NodeServer` (``storage``, ``peers``,
``events``), so a test swaps them for fakes that write into one journal, and a slow fsync is a
save that waits for the test to let it finish. The core is the real Raft core.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from chaoslab.algorithms.raft.durable import RaftPersist
from chaoslab.algorithms.raft.messages import AppendEntries, AppendEntriesReply, Entry, RequestVote, RequestVoteReply
from chaoslab.process.rundir import RunDir
from chaoslab.process.spec import ClusterSpec, NodeAddress
from chaoslab.runtime.node import NodeServer
from chaoslab.wire.codec import Codec

Journal = list[tuple[Any, ...]]


class FakeStorage:
    """Records each save; with ``gate`` cleared, a save blocks (on the driver's fsync thread) until it is set."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.gate = threading.Event()
        self.gate.set()
        self.saving = threading.Event()

    def load(self) -> None:
        return None

    def save(self, persists: list[RaftPersist]) -> None:
        self.saving.set()
        self.gate.wait(5.0)
        self.journal.append(("save", persists))
        self.saving.clear()

    def close(self) -> None:
        pass


class FakeStream:
    def __init__(self, journal: Journal, codec: Codec) -> None:
        self.journal, self.codec = journal, codec

    def start(self) -> None:
        pass

    def send(self, env: Any) -> None:
        self.journal.append(("send", env.dst, self.codec.decode(env)))

    async def close(self) -> None:
        pass


class FakeEvents:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def emit(self, kind: str, **data: Any) -> None:
        self.journal.append(("event", kind, data))

    def close(self) -> None:
        pass


def node(tmp_path: Path, journal: Journal) -> tuple[NodeServer, FakeStorage]:
    spec = ClusterSpec("order", "raft", 3, seed=1, config={"pre_vote": False},
                       addresses=[NodeAddress(f"n{i}", 1, 1) for i in (1, 2, 3)])
    server = NodeServer(RunDir(tmp_path), spec, "n1", 0)
    storage = FakeStorage(journal)
    server.storage = storage  # type: ignore[assignment]
    server.peers = {p: FakeStream(journal, server.codec) for p in ("n2", "n3")}  # type: ignore[misc]
    server.events = FakeEvents(journal)  # type: ignore[assignment]
    return server, storage


async def until(predicate: Any, what: str) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def position(journal: Journal, match: Any, what: str) -> int:
    for i, item in enumerate(journal):
        if match(item):
            return i
    raise AssertionError(f"no {what} in {journal}")


def saved_vote(item: tuple[Any, ...]) -> bool:
    return item[0] == "save" and any(p.hard_state is not None and p.hard_state.voted_for == "n2" for p in item[1])


def saved_entry(index: int):
    return lambda item: item[0] == "save" and any(e.index == index for p in item[1] for e in p.entries)


def sent(kind: type, **fields: Any):
    return lambda item: item[0] == "send" and isinstance(item[2], kind) and all(
        getattr(item[2], k) == v for k, v in fields.items())


class TestPersistBeforeSend:
    def test_a_vote_is_saved_before_the_grant_leaves_and_recorded_after(self, tmp_path: Path) -> None:
        """Figure 2 through the driver: while the fsync of a vote is still running, the grant has not
        left; it leaves after the save, and the vote event is written after the send."""
        journal: Journal = []

        async def main() -> None:
            server, storage = node(tmp_path, journal)
            server.start()
            storage.gate.clear()  # the next fsync is slow
            env = server.codec.encode("n2", "n1", RequestVote(term=5, candidate="n2", last_log_index=0, last_log_term=0), 1)
            server._on_envelope(env)
            await until(storage.saving.is_set, "the vote's fsync to start")
            await asyncio.sleep(0.05)  # the loop is free meanwhile: nothing may leave before the fsync ends
            assert not any(sent(RequestVoteReply)(item) for item in journal)
            storage.gate.set()
            await until(lambda: any(sent(RequestVoteReply)(item) for item in journal), "the grant")
            await server.close()

        asyncio.run(main())
        save = position(journal, saved_vote, "save of the vote")
        send = position(journal, sent(RequestVoteReply, granted=True, term=5), "grant")
        event = position(journal, lambda i: i[0] == "event" and i[1] == "vote", "vote event")
        assert save < send < event

    def test_outputs_gathered_behind_a_slow_fsync_wait_for_their_own(self, tmp_path: Path) -> None:
        """Group commit: entries that arrive while an fsync runs are saved in the next round, and
        their acknowledgement leaves only after that save, never with the earlier round's messages."""
        journal: Journal = []

        async def main() -> None:
            server, storage = node(tmp_path, journal)
            server.start()
            storage.gate.clear()
            vote = RequestVote(term=5, candidate="n2", last_log_index=0, last_log_term=0)
            server._on_envelope(server.codec.encode("n2", "n1", vote, 1))
            await until(storage.saving.is_set, "the vote's fsync to start")
            append = AppendEntries(term=5, leader="n2", prev_log_index=0, prev_log_term=0,
                                   entries=[Entry(1, 5, data=b"x"), Entry(2, 5, data=b"y")], leader_commit=0)
            server._on_envelope(server.codec.encode("n2", "n1", append, 2))  # taken while the fsync runs
            await asyncio.sleep(0.05)
            assert not any(item[0] == "send" for item in journal)
            storage.gate.set()
            await until(lambda: any(sent(AppendEntriesReply, success=True)(item) for item in journal), "the ack")
            await server.close()

        asyncio.run(main())
        vote_saved = position(journal, saved_vote, "save of the vote")
        grant = position(journal, sent(RequestVoteReply, granted=True), "grant")
        entries_saved = position(journal, saved_entry(2), "save of the entries")
        ack = position(journal, sent(AppendEntriesReply, success=True, match_index=2), "ack")
        assert vote_saved < grant and entries_saved < ack
        assert vote_saved < entries_saved  # two rounds: the entries were not in the running fsync

"""Linearizable reads without writing the log: ReadIndex (Raft thesis §6.4).

A leader serves a read once it knows two things:

1. its state machine is at least as new as any write that completed before
   the read arrived: it records the **read index** (its commit index, and at
   least the index of its own term's first entry, so everything committed by
   earlier leaders is included) and waits until it has applied that far;
2. it was still *the* leader when the read arrived: a deposed leader could
   otherwise serve stale data. It numbers a heartbeat round (``read_ctx``),
   sends it after recording the read index, and waits until a majority
   (itself included) echoes that number or a later one.

Reads that arrive before a round goes out share it, so a burst of reads costs
one heartbeat round, not one each.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class PendingRead:
    request_id: int
    command: Any  # the state machine's, answered by its query()
    read_index: int


class ReadIndex:
    """The leader's reads in flight: awaiting a quorum round, then awaiting apply."""

    __slots__ = ("acked", "ctx", "ready", "rounds", "sent")

    def __init__(self) -> None:
        # Round numbers grow for the life of the process, across terms, so an
        # echo can never be mistaken for one of a later round.
        self.ctx = 0  # the latest round handed out
        self.sent = 0  # the latest round that has gone out to every peer
        self.acked: dict[str, int] = {}  # peer -> highest round it echoed (this term)
        self.rounds: deque[tuple[int, list[PendingRead]]] = deque()  # awaiting a quorum, oldest first
        self.ready: deque[PendingRead] = deque()  # confirmed, awaiting apply (read_index never decreases)

    def __len__(self) -> int:
        return len(self.ready) + sum(len(reads) for _, reads in self.rounds)

    def add(self, read: PendingRead, quorum: int) -> None:
        if quorum == 1:
            self.ready.append(read)  # a single node is its own majority
        elif self.rounds and self.rounds[-1][0] > self.sent:
            self.rounds[-1][1].append(read)  # that round has not gone out yet: join it
        else:
            self.ctx += 1
            self.rounds.append((self.ctx, [read]))

    def needs_broadcast(self) -> bool:
        """Is there a round that must still be sent to every peer?"""
        return self.ctx > self.sent

    def mark_sent(self) -> None:
        self.sent = self.ctx

    def ack(self, peer: str, ctx: int, quorum: int) -> None:
        """``peer`` echoed round ``ctx``: it still followed us after every read up to that round arrived."""
        if ctx <= self.acked.get(peer, 0):
            return
        self.acked[peer] = ctx
        while self.rounds:
            round_ctx, reads = self.rounds[0]
            if 1 + sum(1 for c in self.acked.values() if c >= round_ctx) < quorum:
                break
            self.rounds.popleft()
            self.ready.extend(reads)

    def pop_ready(self, applied: int) -> list[PendingRead]:
        """Confirmed reads whose read index has been applied: answer them now."""
        done = []
        while self.ready and self.ready[0].read_index <= applied:
            done.append(self.ready.popleft())
        return done

    def drain(self) -> list[PendingRead]:
        """Every pending read (leadership is over); the tracker is left empty."""
        reads = [r for _, rs in self.rounds for r in rs] + list(self.ready)
        self.rounds.clear()
        self.ready.clear()
        self.acked.clear()
        self.sent = self.ctx
        return reads

"""What a leader knows of each follower's log, in etcd/raft's three states.

- **probe**: we do not know where the follower's log ends. Send one
  AppendEntries at a time and wait for the answer (or the next heartbeat
  round) before sending another; each rejection moves ``next_index`` back.
- **replicate**: the follower is in step. Send optimistically: advance
  ``next_index`` as soon as entries leave, with up to ``max_inflight``
  AppendEntries unacknowledged.
- **snapshot**: the entries it needs are compacted away; an InstallSnapshot
  is on its way. Send nothing else until it is answered.
"""

from __future__ import annotations

from collections import deque

PROBE = "probe"
REPLICATE = "replicate"
SNAPSHOT = "snapshot"


class Progress:
    """One follower, seen from the leader."""

    __slots__ = (
        "inflight",
        "match_index",
        "max_inflight",
        "next_index",
        "paused",
        "pending_snapshot",
        "recent_active",
        "sent_commit",
        "snapshot_sent_at",
        "stalled_rounds",
        "state",
    )

    def __init__(self, next_index: int, max_inflight: int) -> None:
        self.match_index = 0
        self.next_index = next_index
        self.state = PROBE
        self.max_inflight = max_inflight
        # replicate: last index of each AppendEntries not yet acknowledged, oldest first
        self.inflight: deque[int] = deque()
        self.paused = False  # probe: an AppendEntries is out, wait for its answer
        self.pending_snapshot = 0  # snapshot: the index of the snapshot being sent
        self.snapshot_sent_at = 0.0
        self.recent_active = False  # heard from since the last check-quorum round
        self.sent_commit = 0  # the leader_commit of the last AppendEntries sent
        self.stalled_rounds = 0  # replicate: heartbeat rounds without progress while entries are out

    def __repr__(self) -> str:
        return f"Progress({self.state}, match={self.match_index}, next={self.next_index})"

    # ------------------------------------------------------------------ states

    def become_probe(self) -> None:
        # After a snapshot, the follower holds at least the snapshot's index.
        if self.state == SNAPSHOT:
            self.next_index = max(self.match_index + 1, self.pending_snapshot + 1)
        else:
            self.next_index = self.match_index + 1
        self._reset(PROBE)

    def become_replicate(self) -> None:
        self.next_index = self.match_index + 1
        self._reset(REPLICATE)

    def become_snapshot(self, index: int, now: float) -> None:
        self._reset(SNAPSHOT)
        self.pending_snapshot = index
        self.snapshot_sent_at = now

    def _reset(self, state: str) -> None:
        self.state = state
        self.paused = False
        self.pending_snapshot = 0
        self.inflight.clear()
        self.stalled_rounds = 0

    # ------------------------------------------------------------------ flow

    def is_paused(self) -> bool:
        """May we send this follower another AppendEntries now?"""
        if self.state == PROBE:
            return self.paused
        if self.state == REPLICATE:
            return len(self.inflight) >= self.max_inflight
        return True

    def sent_entries(self, last: int) -> None:
        """An AppendEntries carrying entries up to ``last`` just left."""
        if self.state == REPLICATE:
            self.next_index = last + 1
            self.inflight.append(last)
        elif self.state == PROBE:
            self.paused = True

    def maybe_update(self, index: int) -> bool:
        """The follower's log matches ours up to ``index``; ``False`` if we knew that already."""
        updated = index > self.match_index
        if updated:
            self.match_index = index
            self.paused = False
            self.stalled_rounds = 0
        self.next_index = max(self.next_index, index + 1)
        while self.inflight and self.inflight[0] <= index:
            self.inflight.popleft()
        return updated

    def maybe_decrease(self, rejected: int, hint_next: int) -> bool:
        """The follower rejected an AppendEntries whose prev_log_index was ``rejected``.

        Returns ``False`` for a stale rejection (an answer to something we have
        moved past), as etcd's ``MaybeDecrTo`` does; otherwise moves
        ``next_index`` back to ``hint_next`` (never below ``match_index + 1``)
        and, from replicate, falls back to probe.
        """
        if self.state == REPLICATE:
            if rejected <= self.match_index:
                return False
            # Pipelining went wrong (a lost or reordered message): back to probing.
            self._reset(PROBE)
        elif self.next_index - 1 != rejected:
            return False  # probes go one at a time: only the latest one's answer counts
        self.next_index = max(self.match_index + 1, min(rejected, hint_next))
        self.paused = False
        return True

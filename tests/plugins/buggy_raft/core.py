"""The planted bugs: each a subclass of the real core that gets one rule wrong.

Each docstring says what the real core does instead. None of them is exotic:
these are the mistakes Raft implementations are known to ship.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.kv.commands import OPS, KVOp
from chaoslab.algorithms.raft import RaftNode
from chaoslab.algorithms.raft.core import LEADER
from chaoslab.algorithms.raft.durable import Snapshot
from chaoslab.algorithms.raft.messages import AppendEntries, AppendEntriesReply, InstallSnapshot, RequestVote


class StaleReads(RaftNode):
    """(a) Every node, leader or not, answers a read at once from what it has applied: no ReadIndex
    round to confirm it still leads, no wait for the commit index. A follower, a deposed leader
    that has not noticed yet, or a new one that has not applied what its predecessor committed
    returns old values."""

    def request_many(self, requests: Iterable[tuple[int, Any]], now: float) -> Output:
        if not self._started:
            return super().request_many(requests, now)
        requests = list(requests)
        reads = [(rid, c) for rid, c in requests if OPS.get(c.op) == KVOp.GET]
        rest = [(rid, c) for rid, c in requests if OPS.get(c.op) != KVOp.GET]
        out = super().request_many(rest, now) if rest else Output()
        for request_id, command in reads:
            out.reply(request_id, self.state_machine.query(self.applied_index, command))
        return out


class ApplyBeforeCommit(RaftNode):
    """(b) A leader takes its own entries as committed once they are in its log, before a majority
    holds them: it applies them and acknowledges the client, and a leader cut off or crashed
    right then loses acknowledged writes."""

    def _maybe_commit(self, out: Output) -> None:
        if self.role != LEADER:
            super()._maybe_commit(out)
            return
        last = self.log.last_index
        if last > self.commit_index and self.log.term_at(last) == self.term:
            self.commit_index = last
            self._dirty = True
            self._apply(out)


class FollowerAppliesUncommitted(RaftNode):
    """(b') A follower applies entries as soon as it appends them, before the leader says they are
    committed. An entry a later leader overwrites has then been applied here anyway."""

    def _handle_append(self, src: str, m: AppendEntries, now: float, out: Output) -> None:
        super()._handle_append(src, m, now, out)
        if self.applied_index < self.log.last_index:
            commit, self.commit_index = self.commit_index, self.log.last_index
            self._apply(out)
            self.commit_index = commit


class LateVote(RaftNode):
    """(c) The vote is written with the node's *next* output, after the grant has gone out
    (Figure 2: persist before responding). A crash in between forgets the vote, and the
    restarted node may vote for another candidate in the same term."""

    _vote_unwritten = False

    def _handle_vote_request(self, src: str, m: RequestVote, now: float, out: Output) -> None:
        before = self.voted_for
        super()._handle_vote_request(src, m, now, out)
        if not m.pre_vote and self.voted_for != before:
            self._vote_unwritten = True

    def _finish(self, out: Output) -> Output:
        if not self._vote_unwritten:
            return super()._finish(out)
        self._vote_unwritten = False
        vote, self.voted_for = self.voted_for, None  # what reaches this output's persist
        try:
            return super()._finish(out)
        finally:
            self.voted_for = vote  # differs from what is on disk: the next output writes it


class LateAppend(RaftNode):
    """(d) A follower acknowledges entries in the output that appends them, but they reach the
    disk with its next output. A crash in between loses entries the leader counted towards
    a commit: a committed, acknowledged write can vanish."""

    _held: list[Any] = []

    def _handle_append(self, src: str, m: AppendEntries, now: float, out: Output) -> None:
        earlier, self._unstable_entries = self._unstable_entries, []
        super()._handle_append(src, m, now, out)
        self._held = self._unstable_entries  # acknowledged by this output, written by the next
        self._unstable_entries = earlier

    def _handle_snapshot(self, src: str, m: InstallSnapshot, now: float, out: Output) -> None:
        self._unstable_entries = []  # a snapshot replaces the log (and what was held of it)
        super()._handle_snapshot(src, m, now, out)

    def _finish(self, out: Output) -> Output:
        held, self._held = self._held, []
        out = super()._finish(out)
        self._unstable_entries = held
        return out


class NoStepDown(RaftNode):
    """(e) Check-quorum forgotten: a leader cut off from the majority keeps leading its minority
    until it hears a higher term. Nothing unsafe happens; its clients just wait."""

    def _check_quorum(self, now: float, out: Output) -> None:
        for p in self.progress.values():
            p.recent_active = False
        self._quorum_deadline = now + self.config.election_timeout_min


class CommitNotClamped(RaftNode):
    """(f) A follower takes the leader's commit index up to its own last entry, not up to the last
    entry this AppendEntries vouched for (Figure 2: min(leaderCommit, index of last *new*
    entry)). Entries past what the leader checked may be another term's, never committed."""

    def _handle_append(self, src: str, m: AppendEntries, now: float, out: Output) -> None:
        super()._handle_append(src, m, now, out)
        reply = out.messages[-1][1] if out.messages else None
        if isinstance(reply, AppendEntriesReply) and reply.success and m.leader_commit > self.commit_index:
            self.commit_index = min(m.leader_commit, self.log.last_index)
            self._apply(out)


class SnapshotKeepsLog(RaftNode):
    """(g) InstallSnapshot keeps the follower's log when it holds an entry at the snapshot's index,
    whatever that entry's term (Raft §7: only if it *matches*). A diverged follower then
    applies its own entries up to the snapshot instead of the leader's state."""

    def _install(self, snap: Snapshot, out: Output) -> bool:
        if self.log.snapshot_index < snap.index <= self.log.last_index:
            self.commit_index = max(self.commit_index, snap.index)
            self._apply(out)
            return True
        return super()._install(snap, out)


class StaleSnapshot(RaftNode):
    """(h) A follower installs whatever snapshot arrives, even one older than what it has already
    committed (a duplicated or resent InstallSnapshot): its state machine goes back in time.
    The real core answers such a snapshot with its commit index and keeps its state."""

    def _handle_snapshot(self, src: str, m: InstallSnapshot, now: float, out: Output) -> None:
        if m.last_index <= self.commit_index and not self.log.matches(m.last_index, m.last_term):
            self.commit_index = m.last_index - 1  # so the check "we are past it" lets it through
        super()._handle_snapshot(src, m, now, out)


BUGS: dict[str, type[RaftNode]] = {
    "none": RaftNode,
    "stale_reads": StaleReads,
    "apply_before_commit": ApplyBeforeCommit,
    "follower_applies_uncommitted": FollowerAppliesUncommitted,
    "late_vote": LateVote,
    "late_append": LateAppend,
    "no_step_down": NoStepDown,
    "commit_not_clamped": CommitNotClamped,
    "snapshot_keeps_log": SnapshotKeepsLog,
    "stale_snapshot": StaleSnapshot,
}

"""The Raft core: elections and the replicated log, feeding a state machine.

A sans-I/O state machine in the shape of etcd/raft. The driver feeds it
``start``/``tick``/``step``/``request`` with the current time and acts on the
returned :class:`~chaoslab.algorithms.base.Output`: persist (a
:class:`~chaoslab.algorithms.raft.durable.RaftPersist`), then send messages
and client replies, then record events. Term rules are applied once, up
front, in :meth:`RaftNode.step`; what is left goes to one step function per
role, so each role's rules read together like the paper.

- Elections: Raft §5.2 with pre-vote (thesis §9.6) and check-quorum (§6.2).
- Replication: Raft §5.3 with etcd's per-follower flow control
  (:mod:`.progress`): probe one AppendEntries at a time, then pipeline up to
  ``max_inflight``; fast backtracking with conflict hints (thesis §5.3).
  Proposals only append to the leader's log; the AppendEntries go out at the
  next tick, which :meth:`RaftNode.next_deadline` asks for *now*, so a burst
  of commands shares one message per follower.
- Commit: only by counting replicas of a current-term entry (§5.4.2,
  Figure 8); a new leader appends a no-op to get there.
- Reads use ReadIndex (thesis §6.4, :mod:`.readindex`): no log write, one
  heartbeat round to confirm leadership, then wait for apply.
- State machine: any :class:`~chaoslab.algorithms.statemachine.StateMachine`
  (raft/spec.py gives it the key-value store). The core hands it
  committed entries and confirmed reads, and snapshots it every
  ``snapshot_threshold`` applied entries; followers that fall behind the
  snapshot get it by InstallSnapshot, in chunks. The core never looks inside
  a command or an entry's data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.raft.config import RaftConfig
from chaoslab.algorithms.raft.durable import HardState, RaftDurable, RaftPersist, Snapshot
from chaoslab.algorithms.raft.log import RaftLog
from chaoslab.algorithms.raft.messages import (
    MESSAGE_TYPES,
    AppendEntries,
    AppendEntriesReply,
    Entry,
    EntryKind,
    InstallSnapshot,
    InstallSnapshotReply,
    RequestVote,
    RequestVoteReply,
)
from chaoslab.algorithms.raft.progress import PROBE, REPLICATE, SNAPSHOT, Progress
from chaoslab.algorithms.raft.readindex import PendingRead, ReadIndex
from chaoslab.algorithms.statemachine import Refusal, StateMachine

if TYPE_CHECKING:  # the driver injects a seeded rng; the core never builds one
    import random

FOLLOWER = "follower"
PRE_CANDIDATE = "pre_candidate"
CANDIDATE = "candidate"
LEADER = "leader"
ROLES = (FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER)

_NEVER = math.inf
_NOT_LEADER, _OUTCOME_UNKNOWN, _READ_ABANDONED = Refusal.NOT_LEADER, Refusal.OUTCOME_UNKNOWN, Refusal.READ_ABANDONED
_KIND_SUMMARY = {
    EntryKind.NORMAL: "ENTRY_KIND_SUMMARY_NORMAL",
    EntryKind.NOOP: "ENTRY_KIND_SUMMARY_NOOP",
    EntryKind.CONFIG: "ENTRY_KIND_SUMMARY_CONFIG",
}
# A replicating follower that has not acknowledged anything for this many
# heartbeat rounds while entries are out is presumed to have lost some: probe it.
_STALL_ROUNDS = 2
_COMMANDS_PER_ENTRY = 256  # a burst's writes per log entry (keeps an entry well under gRPC's 4 MB)
_NORMAL = EntryKind.NORMAL  # a global: an enum attribute costs ten times more

# What the simulator's invariants see of each applied entry: (index, term, kind, data);
# kind None marks a snapshot installed at index (entries up to it arrived as state).
AppliedRecord = tuple[int, int, EntryKind | None, bytes]


def is_up_to_date(last_index: int, last_term: int, cand_index: int, cand_term: int) -> bool:
    """Raft §5.4.1: is a candidate's log (cand_*) at least as up to date as ours (last_*)?

    The log with the later last term is more up to date; with equal last
    terms, the longer log is.
    """
    if cand_term != last_term:
        return cand_term > last_term
    return cand_index >= last_index


class _SnapshotReceiver:
    """A follower's InstallSnapshot chunks for one snapshot, in any order, until complete."""

    __slots__ = ("chunks", "index", "term", "total")

    def __init__(self, index: int, term: int) -> None:
        self.index, self.term = index, term
        self.chunks: dict[int, bytes] = {}  # offset -> data
        self.total: int | None = None  # known once the ``done`` chunk arrives

    def add(self, offset: int, data: bytes, done: bool) -> bytes | None:
        """Keep a chunk; the whole snapshot once every byte is here, else ``None``."""
        self.chunks[offset] = data
        if done:
            self.total = offset + len(data)
        if self.total is None:
            return None
        parts, at = [], 0
        while at < self.total:
            part = self.chunks.get(at)
            if part is None or not part:
                return None
            parts.append(part)
            at += len(part)
        if at != self.total:
            return None  # chunks that do not fit together: wait for a clean resend
        return b"".join(parts)


class RaftNode:
    """One Raft server. See :mod:`chaoslab.algorithms.base` for the driver contract and
    :mod:`chaoslab.algorithms.statemachine` for the one with ``state_machine``, which is
    given empty and is the core's alone from then on."""

    def __init__(
        self,
        node_id: str,
        nodes: list[str],
        config: RaftConfig,
        rng: random.Random,
        durable: RaftDurable | None,
        state_machine: StateMachine,
    ) -> None:
        if len(set(nodes)) != len(nodes):
            raise ValueError(f"duplicate node ids in {nodes!r}")
        if node_id not in nodes:
            raise ValueError(f"{node_id!r} is not one of the nodes {nodes!r}")
        if durable is not None and not isinstance(durable, RaftDurable):
            raise TypeError(f"durable state must be a RaftDurable or None, got {type(durable).__name__}")
        self.node_id = node_id
        self.nodes = list(nodes)
        self.peers = [n for n in self.nodes if n != node_id]
        self.config = config
        self.quorum = len(self.nodes) // 2 + 1
        self._rng = rng

        # Durable state (Raft Figure 2), restored from what the driver persisted.
        d = durable if durable is not None else RaftDurable()
        self.term: int = d.hard_state.term
        self.voted_for: str | None = d.hard_state.voted_for or None
        self.snapshot: Snapshot | None = d.snapshot  # the latest, for followers that need it
        self.state_machine = state_machine
        if d.snapshot is not None:
            state_machine.restore(d.snapshot.data)
            self.log = RaftLog(d.snapshot.index, d.snapshot.term, d.entries)
        else:
            self.log = RaftLog(0, 0, d.entries)
        # The persisted commit index is a hint (it may lag: it is written lazily),
        # but everything up to it was committed, so it is safe to apply at start.
        self.commit_index = min(max(d.hard_state.commit, self.log.snapshot_index), self.log.last_index)
        self.applied_index = self.log.snapshot_index
        self._applied_bytes = 0  # entry data applied since the last snapshot (a snapshot trigger)
        self._persisted = (self.term, self.voted_for, d.hard_state.commit)  # hard state on disk

        # Volatile state.
        self.role: str = FOLLOWER
        self.leader: str | None = None
        self.votes: dict[str, bool] = {}  # pre-candidate/candidate: peer -> granted
        self.progress: dict[str, Progress] = {}  # leader only
        self.election_timeout = 0.0  # the randomized timeout last drawn, seconds
        self.reads = ReadIndex()
        self.applied_trace: list[AppliedRecord] | None = None  # set by a simulator to watch applies
        self._started = False
        self._now = 0.0  # time of the latest input
        self._last_heard: float | None = None  # when we last heard from a current leader
        self._election_deadline = _NEVER
        self._heartbeat_deadline = _NEVER
        self._quorum_deadline = _NEVER
        self._step_role: Callable[[str, Any, float, Output], None] = self._step_follower
        self._term_start = 0  # leader: index of its no-op, the first entry of its term
        # leader: log index -> (the client request ids, the entry appended, the commands it encodes)
        self._pending_writes: dict[int, tuple[list[int], Entry, list[Any]]] = {}
        self._dirty = False  # leader: something may be sendable; tick now
        self._receiving: _SnapshotReceiver | None = None  # follower: InstallSnapshot chunks so far
        # This input's durable changes, handed out as one RaftPersist by _finish.
        self._unstable_entries: list[Entry] = []
        self._unstable_snapshot: Snapshot | None = None

    def __repr__(self) -> str:
        return (
            f"RaftNode({self.node_id!r}, role={self.role}, term={self.term}, leader={self.leader!r}, "
            f"commit={self.commit_index}, last={self.log.last_index})"
        )

    # ------------------------------------------------------------------ contract

    def start(self, now: float) -> Output:
        """Begin as a follower (Raft §5.2: "When servers start up, they begin as followers")."""
        out = Output()
        self._now = now
        self._started = True
        self._reset_election_timer(now)
        self._apply(out)  # what was committed before the restart
        return self._finish(out)

    def tick(self, now: float) -> Output:
        out = Output()
        if not self._started:
            return out
        self._now = max(self._now, now)
        if self.role == LEADER:
            if now >= self._quorum_deadline:
                self._check_quorum(now, out)
            if self.role == LEADER:
                self._leader_tick(now, out)
        elif now >= self._election_deadline:
            self._hup(now, out)
        return self._finish(out)

    def step(self, src: str, message: Any, now: float) -> Output:
        out = Output()
        if not self._started or src == self.node_id or src not in self.nodes or not isinstance(message, MESSAGE_TYPES):
            return out
        self._now = max(self._now, now)
        term = message.term

        if term > self.term:
            if (
                isinstance(message, RequestVote)
                and not message.transfer
                and self.config.check_quorum
                and self._in_lease(now)
            ):
                # Thesis §6.2/§4.2.3: a server that heard from a current leader within
                # the minimum election timeout neither updates its term nor grants
                # its vote, so a removed or returning server cannot disrupt.
                return out
            if isinstance(message, RequestVote) and message.pre_vote:
                pass  # a pre-vote never changes our term (thesis §9.6)
            elif isinstance(message, RequestVoteReply) and message.pre_vote and message.granted:
                pass  # a granted pre-vote carries the future term we asked about
            elif isinstance(message, (AppendEntries, InstallSnapshot)):
                # Raft §5.1: "If RPC request or response contains term T > currentTerm:
                # set currentTerm = T, convert to follower"; the sender is that term's leader.
                self._become_follower(term, message.leader, now, out)
            else:
                self._become_follower(term, None, now, out)
        elif term < self.term:
            # Raft §5.1: "If a server receives a request with a stale term number, it
            # rejects the request"; the reply carries our term so the sender steps down.
            if isinstance(message, AppendEntries):
                out.send(src, AppendEntriesReply(term=self.term, success=False))
            elif isinstance(message, InstallSnapshot):
                out.send(src, InstallSnapshotReply(term=self.term, last_index=0, success=False))
            elif isinstance(message, RequestVote):
                out.send(src, RequestVoteReply(term=self.term, granted=False, pre_vote=message.pre_vote))
            # stale replies are dropped
            return self._finish(out)

        if isinstance(message, RequestVote):
            self._handle_vote_request(src, message, now, out)
        else:
            self._step_role(src, message, now, out)
        return self._finish(out)

    def request(self, request_id: int, command: Any, now: float) -> Output:
        """A client command for the state machine. Its result comes back in ``Output.replies`` under
        ``request_id``: at once (not leader, bad request, single-node cluster) or from a
        later input (once committed and applied, or once a read is confirmed)."""
        return self.request_many([(request_id, command)], now)

    def request_many(self, requests: Iterable[tuple[int, Any]], now: float) -> Output:
        """:meth:`request` for a burst of ``(request_id, command)`` pairs, in order, as one
        input: one output and one commit check for the lot (etcd's Propose takes many).

        The burst's writes share log entries, up to ``_COMMANDS_PER_ENTRY`` each,
        applied in order: every entry costs each replica a message field, a WAL
        record and a log slot, which a burst pays once instead of per write. The state
        machine tells reads (served by ReadIndex, never logged) from writes, in one call.
        """
        out = Output()
        self._now = max(self._now, now)
        sm = self.state_machine
        if not self._started or self.role != LEADER:
            # Definitely not applied: the client may retry elsewhere.
            hint = self.leader or ""
            for request_id, _ in requests:
                out.reply(request_id, sm.refuse(_NOT_LEADER, hint))
            return out
        reads, ids, writes, rejected = sm.split(requests)
        if rejected:
            out.replies.extend(rejected)
        if reads:
            # Thesis §6.4: the read index is our commit index, but never below our own
            # term's first entry, so every write committed by earlier leaders is included.
            read_index = max(self.commit_index, self._term_start)
            for request_id, command in reads:
                self.reads.add(PendingRead(request_id, command, read_index), self.quorum)
        entries: list[Entry] = []
        index = self.log.last_index + 1
        for at in range(0, len(writes), _COMMANDS_PER_ENTRY):
            chunk = writes[at : at + _COMMANDS_PER_ENTRY]
            entry = Entry(index, self.term, _NORMAL, sm.encode(chunk))
            entries.append(entry)
            self._pending_writes[index] = (ids[at : at + _COMMANDS_PER_ENTRY], entry, chunk)
            index += 1
        self._append(*entries)
        self._serve_reads(out)
        self._maybe_commit(out)  # a single-node cluster commits at once
        return self._finish(out)

    def next_deadline(self) -> float:
        if not self._started:
            return _NEVER
        if self.role == LEADER:
            if self._dirty or self.reads.needs_broadcast():
                return self._now  # send right after the current burst of inputs
            return min(self._heartbeat_deadline, self._quorum_deadline)
        return self._election_deadline

    def status(self, now: float, log_tail: int = 0) -> dict[str, Any]:
        """A dict ``google.protobuf.json_format.ParseDict`` turns into ``chaoslab.v1.NodeStatus``;
        ``log_tail`` asks for that many of the last log entries, summarized."""
        if self.role == LEADER:
            last_heard = 0.0
        elif self._last_heard is None:
            last_heard = -1.0
        else:
            last_heard = max(0.0, now - self._last_heard)
        votes = sum(self.votes.values()) if self.role in (PRE_CANDIDATE, CANDIDATE) else 0
        tail = self.log.entries[-log_tail:] if log_tail > 0 else []
        describe = self.state_machine.describe
        return {
            "id": self.node_id,
            "algorithm": "raft",
            "role": self.role,
            "term": self.term,
            "leader": self.leader or "",
            "last_heard_s": last_heard,
            "raft": {
                "voted_for": self.voted_for or "",
                "commit_index": self.commit_index,
                "applied_index": self.applied_index,
                "last_index": self.log.last_index,
                "snapshot_index": self.log.snapshot_index,
                "snapshot_term": self.log.snapshot_term,
                "log_tail": [
                    {"index": e.index, "term": e.term, "kind": _KIND_SUMMARY[EntryKind(e.kind)], "text": _summary(e, describe)}
                    for e in tail
                ],
                "progress": [
                    {
                        "peer": peer,
                        "match_index": p.match_index,
                        "next_index": p.next_index,
                        "recent_active": p.recent_active,
                        "state": p.state,
                    }
                    for peer, p in self.progress.items()
                ],
                "votes": votes,
            },
        }

    # ------------------------------------------------------------------ role steps

    def _step_follower(self, src: str, m: Any, now: float, out: Output) -> None:
        if isinstance(m, AppendEntries):
            self._handle_append(src, m, now, out)
        elif isinstance(m, InstallSnapshot):
            self._handle_snapshot(src, m, now, out)
        # replies to requests we never sent (or sent in another role) are dropped, and so is
        # TimeoutNow: no leader sends it (leadership transfer is not implemented; the message
        # keeps its place on the wire for when it is)

    def _step_candidate(self, src: str, m: Any, now: float, out: Output) -> None:
        """Pre-candidates and candidates; which one is told by ``self.role``."""
        if isinstance(m, (AppendEntries, InstallSnapshot)):
            # Raft §5.2: "If the leader's term is at least as large as the candidate's
            # current term, then the candidate recognizes the leader as legitimate and
            # returns to follower state."
            self._become_follower(m.term, m.leader, now, out)
            self._step_follower(src, m, now, out)
        elif isinstance(m, RequestVoteReply):
            pre = self.role == PRE_CANDIDATE
            if m.pre_vote != pre:
                return  # a late answer to the other kind of request
            if pre and m.granted and m.term != self.term + 1:
                return  # a grant from an earlier pre-vote round
            self.votes.setdefault(src, m.granted)
            self._tally(now, out)

    def _step_leader(self, src: str, m: Any, now: float, out: Output) -> None:
        if isinstance(m, AppendEntriesReply):
            self._handle_append_reply(src, m, out)
        elif isinstance(m, InstallSnapshotReply):
            self._handle_snapshot_reply(src, m, out)
        # AppendEntries at our own term cannot come from another leader (election
        # safety); vote replies after winning are moot.

    # ------------------------------------------------------------------ transitions

    def _become_follower(self, term: int, leader: str | None, now: float, out: Output) -> None:
        was_leader = self.role == LEADER
        # Raft Figure 2: a follower's timer restarts only for its leader or a vote it grants
        # (_handle_vote_request). A follower told a higher term by a candidate it may refuse
        # keeps its timer; restarting it let stale-log candidates hold the up-to-date nodes back.
        keep_timer = self.role == FOLLOWER and leader is None
        if term > self.term:
            self.term = term
            self.voted_for = None
            out.event("term", term=term)
        self._set_role(FOLLOWER, self._step_follower, out)
        self.votes = {}
        self.progress = {}
        self._heartbeat_deadline = self._quorum_deadline = _NEVER
        self._dirty = False
        self.leader = None
        if leader is not None:
            self._learn_leader(leader, now, out)
        if not keep_timer:
            self._reset_election_timer(now)
        if was_leader:
            self._abandon_requests(out)

    def _become_pre_candidate(self, now: float, out: Output) -> None:
        # Thesis §9.6: the term is not bumped, nor the vote cast, until a majority
        # says it would vote for us.
        self._set_role(PRE_CANDIDATE, self._step_candidate, out)
        self.leader = None
        self.votes = {self.node_id: True}
        self._reset_election_timer(now)
        for peer in self.peers:
            out.send(peer, self._vote_request(self.term + 1, pre_vote=True))
        self._tally(now, out)

    def _become_candidate(self, now: float, out: Output) -> None:
        # Raft §5.2: "To begin an election, a follower increments its current term and
        # transitions to candidate state. It then votes for itself and issues
        # RequestVote RPCs in parallel to each of the other servers."
        self.term += 1
        self.voted_for = self.node_id
        out.event("term", term=self.term)
        self._set_role(CANDIDATE, self._step_candidate, out)
        self.leader = None
        self.votes = {self.node_id: True}
        self._reset_election_timer(now)
        for peer in self.peers:
            out.send(peer, self._vote_request(self.term, pre_vote=False))
        self._tally(now, out)

    def _become_leader(self, now: float, out: Output) -> None:
        self._set_role(LEADER, self._step_leader, out)
        self.leader = self.node_id
        self.votes = {}
        self._election_deadline = _NEVER
        self._quorum_deadline = now + self.config.election_timeout_min if self.config.check_quorum else _NEVER
        self.reads.drain()  # nothing is pending; this forgets the previous term's echoes
        # Start by offering each follower our last entry (etcd's probe): a rejection
        # walks next_index back to where its log agrees with ours.
        next_index = self.log.last_index + 1
        self.progress = {p: Progress(next_index, self.config.max_inflight) for p in self.peers}
        # Raft §5.4.2 / thesis §6.4: a leader commits nothing of earlier terms by
        # counting replicas, and serves no read until an entry of its own term is
        # committed, so it appends a no-op at once.
        noop = Entry(next_index, self.term, EntryKind.NOOP)
        self._append(noop)
        self._term_start = noop.index
        self._maybe_commit(out)
        # Raft §5.2: "Once a candidate wins an election, it becomes leader. It then sends
        # heartbeat messages to all of the other servers to establish its authority."
        # Here the no-op's AppendEntries is that heartbeat.
        self._heartbeat_deadline = now + self.config.heartbeat_interval
        for peer in self.peers:
            self._send_appends(peer, now, out)
        self._dirty = False

    def _set_role(self, role: str, step: Callable[[str, Any, float, Output], None], out: Output) -> None:
        self._step_role = step
        if role != self.role:
            self.role = role
            out.event("role", role=role, term=self.term)

    # ------------------------------------------------------------------ elections

    def _hup(self, now: float, out: Output) -> None:
        """The election timer fired: campaign."""
        if self.config.pre_vote:
            self._become_pre_candidate(now, out)
        else:
            self._become_candidate(now, out)

    def _vote_request(self, term: int, *, pre_vote: bool) -> RequestVote:
        return RequestVote(
            term=term,
            candidate=self.node_id,
            last_log_index=self.log.last_index,
            last_log_term=self.log.last_term,
            pre_vote=pre_vote,
        )

    def _tally(self, now: float, out: Output) -> None:
        granted = sum(self.votes.values())
        rejected = len(self.votes) - granted
        if granted >= self.quorum:
            if self.role == PRE_CANDIDATE:
                self._become_candidate(now, out)
            else:
                # Raft §5.2: "A candidate wins an election if it receives votes from a
                # majority of the servers in the full cluster for the same term."
                self._become_leader(now, out)
        elif rejected > len(self.nodes) - self.quorum:
            # A majority said no: this campaign cannot win; wait for a leader or time out.
            self._become_follower(self.term, None, now, out)

    def _handle_vote_request(self, src: str, m: RequestVote, now: float, out: Output) -> None:
        # After the term rules, m.term >= self.term (pre-votes may be in our future).
        # Raft §5.2: "Each server will vote for at most one candidate in a given term,
        # on a first-come-first-served basis"; a repeat request gets the same answer.
        can_vote = self.voted_for == m.candidate or (self.voted_for is None and self.leader is None)
        if m.candidate != src:
            can_vote = False  # a request must come from the candidate it names
        elif m.pre_vote:
            can_vote = can_vote or m.term > self.term
            if not m.transfer and self._in_lease(now):
                # Thesis §9.6: refuse while we still hear from a leader.
                can_vote = False
        # Raft §5.4.1: only for a candidate whose log is at least as up to date as ours.
        if can_vote and is_up_to_date(self.log.last_index, self.log.last_term, m.last_log_index, m.last_log_term):
            if not m.pre_vote and self.voted_for != m.candidate:
                # The vote reaches Output.persist, which the driver writes before it
                # sends the reply (Raft Figure 2: persist before responding).
                self.voted_for = m.candidate
                out.event("vote", candidate=m.candidate, term=self.term)
            if not m.pre_vote:
                # Raft Figure 2: a follower's timer restarts when it grants a vote.
                self._reset_election_timer(now)
            out.send(src, RequestVoteReply(term=m.term, granted=True, pre_vote=m.pre_vote))
        else:
            out.send(src, RequestVoteReply(term=self.term, granted=False, pre_vote=m.pre_vote))

    def _in_lease(self, now: float) -> bool:
        """Do we still trust a leader of this term (heard from it within the minimum timeout)?"""
        if self.role == LEADER:
            return True
        return (
            self.leader is not None
            and self._last_heard is not None
            and now - self._last_heard < self.config.election_timeout_min
        )

    # ------------------------------------------------------------------ leader: sending

    def _leader_tick(self, now: float, out: Output) -> None:
        heartbeat = now >= self._heartbeat_deadline
        if heartbeat:
            self._heartbeat_deadline = now + self.config.heartbeat_interval
            self._watch_followers(now)
        read_round = self.reads.needs_broadcast()
        for peer in self.peers:
            p = self.progress[peer]
            if self._send_appends(peer, now, out):
                continue
            # Nothing new to send: a heartbeat keeps the follower's timer quiet, carries a
            # ReadIndex round, or tells it a commit index it has not heard yet.
            if heartbeat or read_round or min(self.commit_index, p.match_index) > p.sent_commit:
                out.send(peer, self._heartbeat(p))
        if read_round:
            self.reads.mark_sent()
        self._dirty = False

    def _watch_followers(self, now: float) -> None:
        """Once per heartbeat round: recover replication that lost messages."""
        retry = 2 * self.config.election_timeout_max
        for p in self.progress.values():
            if p.state == REPLICATE and p.match_index < p.next_index - 1:
                # Entries are out but nothing came back for whole rounds: some were lost
                # (or their answers were). Probe from what we know the follower holds.
                p.stalled_rounds += 1
                if p.stalled_rounds >= _STALL_ROUNDS:
                    p.become_probe()
            elif p.state == SNAPSHOT and now - p.snapshot_sent_at >= retry:
                # No answer to the snapshot: some chunk was lost. Send it again.
                p.pending_snapshot = 0
                p.become_probe()

    def _send_appends(self, peer: str, now: float, out: Output) -> bool:
        """Send ``peer`` what it lacks, as far as its flow control allows; did anything go?"""
        p = self.progress[peer]
        log = self.log
        sent = False
        while not p.is_paused():
            prev = p.next_index - 1
            prev_term = log.term_at(prev)
            if prev_term is None:
                if prev < log.snapshot_index:
                    self._send_snapshot(peer, p, now, out)
                    return True
                break
            if p.next_index > log.last_index:
                break
            entries = log.slice(p.next_index, self.config.max_batch_entries, self.config.max_batch_bytes)
            out.send(
                peer,
                AppendEntries(
                    term=self.term,
                    leader=self.node_id,
                    prev_log_index=prev,
                    prev_log_term=prev_term,
                    entries=entries,
                    leader_commit=self.commit_index,
                    read_ctx=self.reads.ctx,
                ),
            )
            last = entries[-1].index
            p.sent_commit = max(p.sent_commit, min(self.commit_index, last))
            p.sent_entries(last)
            sent = True
        return sent

    def _heartbeat(self, p: Progress) -> AppendEntries:
        """An empty AppendEntries anchored where the follower is known to match us.

        Anchored at ``match_index`` it cannot be rejected, so it never disturbs
        flow control; when that index is compacted away, at 0 (the follower then
        answers with its commit index, which is known to match us too).
        """
        prev = p.match_index
        prev_term = self.log.term_at(prev)
        if prev_term is None:
            prev, prev_term = 0, 0
        p.sent_commit = max(p.sent_commit, min(self.commit_index, prev))
        return AppendEntries(
            term=self.term,
            leader=self.node_id,
            prev_log_index=prev,
            prev_log_term=prev_term,
            leader_commit=self.commit_index,
            read_ctx=self.reads.ctx,
        )

    def _send_snapshot(self, peer: str, p: Progress, now: float, out: Output) -> None:
        snap = self.snapshot
        assert snap is not None and snap.index == self.log.snapshot_index
        p.become_snapshot(snap.index, now)
        size = self.config.snapshot_chunk_bytes
        data = snap.data
        for offset in range(0, max(len(data), 1), size):
            chunk = data[offset : offset + size]
            out.send(
                peer,
                InstallSnapshot(
                    term=self.term,
                    leader=self.node_id,
                    last_index=snap.index,
                    last_term=snap.term,
                    offset=offset,
                    data=chunk,
                    done=offset + size >= len(data),
                ),
            )

    def _check_quorum(self, now: float, out: Output) -> None:
        """Thesis §6.2: step down if a majority has not answered within an election timeout."""
        active = 1 + sum(p.recent_active for p in self.progress.values())
        for p in self.progress.values():
            p.recent_active = False
        if active < self.quorum:
            out.event("lost_quorum", term=self.term, active=active)
            self._become_follower(self.term, None, now, out)
        else:
            self._quorum_deadline = now + self.config.election_timeout_min

    # ------------------------------------------------------------------ leader: answers

    def _handle_append_reply(self, src: str, m: AppendEntriesReply, out: Output) -> None:
        p = self.progress[src]
        p.recent_active = True
        if m.read_ctx:
            self.reads.ack(src, m.read_ctx, self.quorum)
        if not m.success:
            # A rejection echoes the prev_log_index it refused in match_index.
            if p.maybe_decrease(m.match_index, self._next_from_hint(m)):
                self._dirty = True
        else:
            was_paused = p.is_paused()
            if p.maybe_update(m.match_index):
                if p.state == PROBE:
                    p.become_replicate()
                elif p.state == SNAPSHOT and p.match_index >= self.log.snapshot_index:
                    # Caught up by other means: what it needs next is in our log.
                    p.become_probe()
                    p.become_replicate()
                self._maybe_commit(out)
                self._dirty = True
            elif p.state == PROBE and p.paused:
                # Any answer (a heartbeat's too) ends the wait: send the next probe.
                p.paused = False
                self._dirty = True
            elif was_paused and not p.is_paused():
                self._dirty = True
        self._serve_reads(out)

    def _next_from_hint(self, m: AppendEntriesReply) -> int:
        """Where to probe next after a rejection (thesis §5.3, as etcd's findConflictByTerm).

        ``conflict_term == 0``: the follower's log is too short; it ends before
        ``conflict_index``. Otherwise its entries from ``conflict_index`` to the
        rejected index have ``conflict_term``: if we hold entries of that term,
        the logs agree up to our last one; if not, none of its entries of that
        term (nor, possibly, before) can match.
        """
        if m.conflict_term == 0:
            return max(1, m.conflict_index)
        index, term = self.log.find_conflict_by_term(m.match_index, m.conflict_term)
        if term == m.conflict_term:
            return index + 1
        return max(1, min(m.conflict_index, index + 1))

    def _handle_snapshot_reply(self, src: str, m: InstallSnapshotReply, out: Output) -> None:
        p = self.progress[src]
        p.recent_active = True
        if not m.success:
            if p.state == SNAPSHOT:
                p.pending_snapshot = 0
                p.become_probe()
                self._dirty = True
            return
        p.maybe_update(m.last_index)
        if p.state == SNAPSHOT and p.match_index >= p.pending_snapshot:
            p.become_probe()
            if p.match_index >= self.log.snapshot_index:
                p.become_replicate()
        self._maybe_commit(out)
        self._dirty = True

    def _maybe_commit(self, out: Output) -> None:
        """Raft §5.3/§5.4.2: commit the highest index a majority holds, if it is of our term.

        Figure 8: an entry of an earlier term is never committed by counting
        replicas; it becomes committed when a later entry of ours does.
        """
        matches = sorted([self.log.last_index, *(p.match_index for p in self.progress.values())], reverse=True)
        n = matches[self.quorum - 1]
        if n > self.commit_index and self.log.term_at(n) == self.term:
            self.commit_index = n
            self._dirty = True  # followers should hear the new commit index
            self._apply(out)

    def _serve_reads(self, out: Output) -> None:
        if self.role != LEADER:
            return
        ready = self.reads.pop_ready(self.applied_index)
        if ready:
            query = self.state_machine.query
            for read in ready:
                out.reply(read.request_id, query(read.read_index, read.command))

    def _abandon_requests(self, out: Output) -> None:
        """Leadership is over: tell every waiting client, so none waits forever."""
        hint = self.leader or ""
        refuse = self.state_machine.refuse
        for request_ids, _, _ in self._pending_writes.values():
            for request_id in request_ids:
                # The entry may still commit under a later leader, or be overwritten.
                out.reply(request_id, refuse(_OUTCOME_UNKNOWN, hint))
        self._pending_writes = {}
        for read in self.reads.drain():
            # A read has no effect: it is safe to retry anywhere.
            out.reply(read.request_id, refuse(_READ_ABANDONED, hint))

    # ------------------------------------------------------------------ follower

    def _handle_append(self, src: str, m: AppendEntries, now: float, out: Output) -> None:
        # Raft §5.2: a valid AppendEntries from the current leader resets the timer.
        self._heard_from_leader(m.leader, now, out)
        prev, prev_term, entries = m.prev_log_index, m.prev_log_term, m.entries
        if prev < self.commit_index:
            # Our committed prefix is in every later leader's log (Leader Completeness),
            # so it matches: skip what it covers (it may be compacted away here).
            entries = entries[self.commit_index - prev :]
            prev = self.commit_index
            prev_term = self.log.term_at(prev)
        if self.log.term_at(prev) != prev_term:
            # Raft §5.3: "If a follower's log does not contain an entry at prevLogIndex
            # whose term matches prevLogTerm", refuse, with hints to skip a whole term.
            if prev > self.log.last_index:
                conflict_index, conflict_term = self.log.last_index + 1, 0
            else:
                conflict_term = self.log.term_at(prev) or 0
                conflict_index = self.log.first_index_of_term(prev, self.commit_index + 1)
            out.send(
                src,
                AppendEntriesReply(
                    term=self.term,
                    success=False,
                    match_index=m.prev_log_index,  # which AppendEntries this answers
                    conflict_index=conflict_index,
                    conflict_term=conflict_term,
                    read_ctx=m.read_ctx,
                ),
            )
            return
        # Raft §5.3: "If an existing entry conflicts with a new one (same index but
        # different terms), delete the existing entry and all that follow it";
        # "Append any new entries not already in the log".
        conflict = self.log.find_conflict(entries)
        if conflict:
            if conflict <= self.commit_index:
                raise AssertionError(f"{self.node_id}: leader {src} overwrites committed entry {conflict}")
            self._append(*entries[conflict - entries[0].index :])
        last_new = prev + len(entries)
        # Raft §5.3: "If leaderCommit > commitIndex, set commitIndex =
        # min(leaderCommit, index of last new entry)".
        if m.leader_commit > self.commit_index:
            commit = min(m.leader_commit, last_new)
            if commit > self.commit_index:
                self.commit_index = commit
                self._apply(out)
        out.send(src, AppendEntriesReply(term=self.term, success=True, match_index=last_new, read_ctx=m.read_ctx))

    def _handle_snapshot(self, src: str, m: InstallSnapshot, now: float, out: Output) -> None:
        """Raft §7: assemble the chunks; once complete, replace our state with the snapshot."""
        self._heard_from_leader(m.leader, now, out)
        if m.last_index <= self.commit_index:
            self._receiving = None
            if m.done:  # we are past it: say how far, so the leader moves on
                out.send(src, InstallSnapshotReply(term=self.term, last_index=self.commit_index, success=True))
            return
        rx = self._receiving
        if rx is None or (rx.index, rx.term) != (m.last_index, m.last_term):
            if rx is not None and rx.index > m.last_index:
                return  # a late piece of an older snapshot than the one we are receiving
            rx = self._receiving = _SnapshotReceiver(m.last_index, m.last_term)
        data = rx.add(m.offset, m.data, m.done)
        if data is None:
            return
        self._receiving = None
        if not self._install(Snapshot(m.last_index, m.last_term, data), out):
            return  # garbled: the leader sends it again when it hears nothing
        out.send(src, InstallSnapshotReply(term=self.term, last_index=m.last_index, success=True))

    def _install(self, snap: Snapshot, out: Output) -> bool:
        """Take a complete snapshot from the leader; ``False`` if the state machine refused its data."""
        if self.log.matches(snap.index, snap.term):
            # We hold that entry already: the snapshot only tells us it is committed
            # (Raft §7: "retain log entries following it").
            self.commit_index = max(self.commit_index, snap.index)
            self._apply(out)
            return True
        # Raft §7: "discard the entire log ... reset state machine using snapshot contents".
        try:
            self.state_machine.restore(snap.data)
        except ValueError:
            return False
        self.log.restore(snap.index, snap.term)
        self.snapshot = self._unstable_snapshot = snap
        self.commit_index = self.applied_index = snap.index
        self._applied_bytes = 0
        if self.applied_trace is not None:
            self.applied_trace.append((snap.index, snap.term, None, b""))
        out.event("snapshot", index=snap.index, term=snap.term, how="installed")
        return True

    def _heard_from_leader(self, leader: str, now: float, out: Output) -> None:
        self._last_heard = now
        if self.leader != leader:
            self._learn_leader(leader, now, out)
        self._reset_election_timer(now)

    def _learn_leader(self, leader: str, now: float, out: Output) -> None:
        self.leader = leader
        self._last_heard = now
        out.event("leader", leader=leader, term=self.term)

    # ------------------------------------------------------------------ log and state machine

    def _append(self, *entries: Entry) -> None:
        """Append (truncating a conflicting suffix first) and stage for this step's persist."""
        if not entries:
            return
        self.log.append(entries)
        staged = self._unstable_entries
        first = entries[0].index
        if staged and first <= staged[-1].index:
            staged = [e for e in staged if e.index < first]
        staged.extend(entries)
        self._unstable_entries = staged
        if self.role == LEADER:
            self._dirty = True

    def _apply(self, out: Output) -> None:
        """Apply committed entries in order, exactly once; answer their clients; maybe snapshot."""
        if self.applied_index < self.commit_index:
            pending, trace, sm = self._pending_writes, self.applied_trace, self.state_machine
            for entry in self.log.between(self.applied_index + 1, self.commit_index):
                index = entry.index
                mine = pending.pop(index, None)
                if mine is not None and mine[1] is entry:
                    # Our own proposal: its commands are at hand, no need to decode them.
                    out.replies.extend(zip(mine[0], sm.apply_own(index, mine[2])))
                else:
                    if entry.kind == _NORMAL:
                        sm.apply(index, entry.data)
                    for request_id in mine[0] if mine is not None else ():
                        # Not reached (pending writes go with leadership), but never answer a
                        # client with another entry's result.
                        out.reply(request_id, sm.refuse(_OUTCOME_UNKNOWN, ""))
                self.applied_index = index
                self._applied_bytes += len(entry.data)
                if trace is not None:
                    trace.append((index, entry.term, EntryKind(entry.kind), entry.data))
        self._serve_reads(out)
        if self._log_is_full(1) and self._may_compact():
            self._take_snapshot(out)

    def _log_is_full(self, times: int) -> bool:
        """Has the applied log reached ``times`` the snapshot threshold, in entries or in bytes?"""
        config = self.config
        return (
            self.applied_index - self.log.snapshot_index >= times * config.snapshot_threshold
            or self._applied_bytes >= times * config.snapshot_threshold_bytes
        )

    def _may_compact(self) -> bool:
        """A leader holds off compacting entries a replicating follower has not been sent yet:
        under load a follower can trail by more than the threshold, and sending it a whole
        snapshot costs far more than the entries (hashicorp/raft keeps trailing logs, etcd
        catch-up entries, for the same reason). At twice the threshold it compacts anyway,
        which bounds the log; a follower that is not replicating gets the snapshot."""
        if self.role != LEADER or self._log_is_full(2):
            return True
        return all(p.state != REPLICATE or p.next_index > self.applied_index for p in self.progress.values())

    def _take_snapshot(self, out: Output) -> None:
        """Raft §7: capture the state machine at the applied index and compact the log."""
        index = self.applied_index
        term = self.log.term_at(index)
        assert term is not None
        snap = Snapshot(index, term, self.state_machine.snapshot())
        self.log.compact(index)
        self._applied_bytes = 0
        self.snapshot = self._unstable_snapshot = snap
        out.event("snapshot", index=index, term=term, how="taken")

    # ------------------------------------------------------------------ helpers

    def _reset_election_timer(self, now: float) -> None:
        """Raft §5.2: a fresh random timeout in [min, max) each time the timer restarts."""
        low, high = self.config.election_timeout_min, self.config.election_timeout_max
        self.election_timeout = low + self._rng.random() * (high - low)
        self._election_deadline = now + self.election_timeout

    def _finish(self, out: Output) -> Output:
        """Hand this input's durable changes to the driver as one RaftPersist.

        Term and vote are persisted whenever they change (Figure 2). The commit
        index only rides along with entries or a snapshot: it is a restart hint,
        and a lagging value is safe (it never goes backwards).
        """
        snap = self._unstable_snapshot
        entries = self._unstable_entries
        if snap is not None:
            entries = [e for e in entries if e.index > snap.index]  # covered by the snapshot
        hard_state = None
        term, vote, commit = self._persisted
        if (self.term, self.voted_for) != (term, vote) or ((entries or snap) and self.commit_index != commit):
            hard_state = HardState(self.term, self.voted_for, self.commit_index)
            self._persisted = (self.term, self.voted_for, self.commit_index)
        if hard_state is not None or entries or snap is not None:
            out.persist = RaftPersist(hard_state=hard_state, entries=entries, snapshot=snap)
        self._unstable_entries = []
        self._unstable_snapshot = None
        return out


def _summary(e: Entry, describe: Callable[[bytes], str]) -> str:
    if e.kind == EntryKind.NOOP:
        return "noop"
    if e.kind == EntryKind.CONFIG:
        return "config"
    try:
        return describe(e.data)
    except ValueError:
        return f"? {len(e.data)} bytes"

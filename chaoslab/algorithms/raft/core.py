"""The Raft core: leader election (Raft paper §5.2, thesis §6.2 and §9.6).

A sans-I/O state machine in the shape of etcd/raft: the driver feeds it
``start``/``tick``/``step`` with the current time and acts on the returned
:class:`~chaoslab.algorithms.base.Output` (persist, then send, then record
events). Term rules are applied once, up front, in :meth:`RaftNode.step`; what
is left goes to one step function per role, so each role's rules read
together like the paper.

The replicated log arrives with issue 3. Until then the log is empty: the
code paths that carry ``last_log_index``/``last_log_term`` are in place and
see ``0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.raft.config import RaftConfig
from chaoslab.algorithms.raft.messages import (
    MESSAGE_TYPES,
    AppendEntries,
    AppendEntriesReply,
    InstallSnapshot,
    InstallSnapshotReply,
    RequestVote,
    RequestVoteReply,
    TimeoutNow,
)

if TYPE_CHECKING:  # the driver injects a seeded rng; the core never builds one
    import random

FOLLOWER = "follower"
PRE_CANDIDATE = "pre_candidate"
CANDIDATE = "candidate"
LEADER = "leader"
ROLES = (FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER)

_NEVER = math.inf


def is_up_to_date(last_index: int, last_term: int, cand_index: int, cand_term: int) -> bool:
    """Raft §5.4.1: is a candidate's log (cand_*) at least as up to date as ours (last_*)?

    The log with the later last term is more up to date; with equal last
    terms, the longer log is.
    """
    if cand_term != last_term:
        return cand_term > last_term
    return cand_index >= last_index


@dataclass(slots=True)
class Progress:
    """What a leader knows of one follower (issue 3 adds replication state)."""

    match_index: int = 0
    next_index: int = 1
    recent_active: bool = False
    state: str = "probe"


class RaftNode:
    """One Raft server's election logic. See :mod:`chaoslab.algorithms.base` for the contract."""

    def __init__(
        self,
        node_id: str,
        nodes: list[str],
        config: RaftConfig,
        rng: random.Random,
        durable: dict[str, Any] | None = None,
    ) -> None:
        if len(set(nodes)) != len(nodes):
            raise ValueError(f"duplicate node ids in {nodes!r}")
        if node_id not in nodes:
            raise ValueError(f"{node_id!r} is not one of the nodes {nodes!r}")
        self.node_id = node_id
        self.nodes = list(nodes)
        self.peers = [n for n in self.nodes if n != node_id]
        self.config = config
        self.quorum = len(self.nodes) // 2 + 1
        self._rng = rng

        # Durable state (Raft Figure 2: currentTerm, votedFor), restored on restart.
        durable = durable or {}
        self.term: int = int(durable.get("term", 0))
        self.voted_for: str | None = durable.get("voted_for") or None

        # Volatile state.
        self.role: str = FOLLOWER
        self.leader: str | None = None
        self.commit_index = 0
        self.applied_index = 0
        self.votes: dict[str, bool] = {}  # pre-candidate/candidate: peer -> granted
        self.progress: dict[str, Progress] = {}  # leader only
        self.election_timeout = 0.0  # the randomized timeout last drawn, seconds
        self._started = False
        self._last_heard: float | None = None  # when we last heard from a current leader
        self._election_deadline = _NEVER
        self._heartbeat_deadline = _NEVER
        self._quorum_deadline = _NEVER
        self._step_role: Callable[[str, Any, float, Output], None] = self._step_follower

    def __repr__(self) -> str:
        return f"RaftNode({self.node_id!r}, role={self.role}, term={self.term}, leader={self.leader!r})"

    # ------------------------------------------------------------------ contract

    def start(self, now: float) -> Output:
        """Begin as a follower (Raft §5.2: "When servers start up, they begin as followers")."""
        out = Output()
        self._started = True
        self._reset_election_timer(now)
        return out

    def tick(self, now: float) -> Output:
        before = (self.term, self.voted_for)
        out = Output()
        if not self._started:
            return out
        if self.role == LEADER:
            if now >= self._quorum_deadline:
                self._check_quorum(now, out)
            if self.role == LEADER and now >= self._heartbeat_deadline:
                self._broadcast_heartbeat(now, out)
        elif now >= self._election_deadline:
            self._hup(now, out)
        return self._finish(out, before)

    def step(self, src: str, message: Any, now: float) -> Output:
        before = (self.term, self.voted_for)
        out = Output()
        if not self._started or src == self.node_id or src not in self.nodes or not isinstance(message, MESSAGE_TYPES):
            return out
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
            # stale replies and TimeoutNow are dropped
            return self._finish(out, before)

        if isinstance(message, RequestVote):
            self._handle_vote_request(src, message, now, out)
        else:
            self._step_role(src, message, now, out)
        return self._finish(out, before)

    def next_deadline(self) -> float:
        if not self._started:
            return _NEVER
        if self.role == LEADER:
            return min(self._heartbeat_deadline, self._quorum_deadline)
        return self._election_deadline

    def status(self, now: float) -> dict[str, Any]:
        """A dict ``google.protobuf.json_format.ParseDict`` turns into ``chaoslab.v1.NodeStatus``."""
        if self.role == LEADER:
            last_heard = 0.0
        elif self._last_heard is None:
            last_heard = -1.0
        else:
            last_heard = max(0.0, now - self._last_heard)
        votes = sum(self.votes.values()) if self.role in (PRE_CANDIDATE, CANDIDATE) else 0
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
                "last_index": self._last_index(),
                "snapshot_index": 0,
                "snapshot_term": 0,
                "log_tail": [],
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

    def durable_state(self) -> dict[str, Any]:
        """What must survive a crash (Raft Figure 2), as a JSON-able dict."""
        return {"term": self.term, "voted_for": self.voted_for}

    # ------------------------------------------------------------------ role steps

    def _step_follower(self, src: str, m: Any, now: float, out: Output) -> None:
        if isinstance(m, AppendEntries):
            self._handle_append(src, m, now, out)
        elif isinstance(m, TimeoutNow):
            # Thesis §3.10: the leader asks us to start an election at once.
            self._hup(now, out, transfer=True)
        # InstallSnapshot arrives with issue 3; replies to requests we never sent are dropped.

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
            p = self.progress[src]
            p.recent_active = True
            if m.success:
                p.match_index = max(p.match_index, m.match_index)
                p.next_index = max(p.next_index, p.match_index + 1)
        elif isinstance(m, InstallSnapshotReply):
            self.progress[src].recent_active = True
        # AppendEntries at our own term cannot come from another leader (election
        # safety); vote replies after winning are moot.

    # ------------------------------------------------------------------ transitions

    def _become_follower(self, term: int, leader: str | None, now: float, out: Output) -> None:
        if term > self.term:
            self.term = term
            self.voted_for = None
            out.event("term", term=term)
        self._set_role(FOLLOWER, self._step_follower, out)
        self.votes = {}
        self.progress = {}
        self._heartbeat_deadline = self._quorum_deadline = _NEVER
        self.leader = None
        if leader is not None:
            self._learn_leader(leader, now, out)
        self._reset_election_timer(now)

    def _become_pre_candidate(self, now: float, out: Output) -> None:
        # Thesis §9.6: the term is not bumped, nor the vote cast, until a majority
        # says it would vote for us.
        self._set_role(PRE_CANDIDATE, self._step_candidate, out)
        self.leader = None
        self.votes = {self.node_id: True}
        self._reset_election_timer(now)
        for peer in self.peers:
            out.send(peer, self._vote_request(self.term + 1, pre_vote=True, transfer=False))
        self._tally(now, out)

    def _become_candidate(self, now: float, out: Output, transfer: bool = False) -> None:
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
            out.send(peer, self._vote_request(self.term, pre_vote=False, transfer=transfer))
        self._tally(now, out)

    def _become_leader(self, now: float, out: Output) -> None:
        self._set_role(LEADER, self._step_leader, out)
        self.leader = self.node_id
        self.votes = {}
        self.progress = {p: Progress(next_index=self._last_index() + 1) for p in self.peers}
        self._election_deadline = _NEVER
        self._quorum_deadline = now + self.config.election_timeout_min if self.config.check_quorum else _NEVER
        # Raft §5.2: "Once a candidate wins an election, it becomes leader. It then sends
        # heartbeat messages to all of the other servers to establish its authority."
        self._broadcast_heartbeat(now, out)

    def _set_role(self, role: str, step: Callable[[str, Any, float, Output], None], out: Output) -> None:
        self._step_role = step
        if role != self.role:
            self.role = role
            out.event("role", role=role, term=self.term)

    # ------------------------------------------------------------------ elections

    def _hup(self, now: float, out: Output, transfer: bool = False) -> None:
        """The election timer fired (or a transfer was asked for): campaign."""
        if self.config.pre_vote and not transfer:
            self._become_pre_candidate(now, out)
        else:
            self._become_candidate(now, out, transfer=transfer)

    def _vote_request(self, term: int, *, pre_vote: bool, transfer: bool) -> RequestVote:
        return RequestVote(
            term=term,
            candidate=self.node_id,
            last_log_index=self._last_index(),
            last_log_term=self._last_term(),
            pre_vote=pre_vote,
            transfer=transfer,
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
        if can_vote and is_up_to_date(self._last_index(), self._last_term(), m.last_log_index, m.last_log_term):
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

    # ------------------------------------------------------------------ leader

    def _broadcast_heartbeat(self, now: float, out: Output) -> None:
        for peer in self.peers:
            out.send(
                peer,
                AppendEntries(
                    term=self.term,
                    leader=self.node_id,
                    prev_log_index=self._last_index(),
                    prev_log_term=self._last_term(),
                    leader_commit=self.commit_index,
                ),
            )
        self._heartbeat_deadline = now + self.config.heartbeat_interval

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

    # ------------------------------------------------------------------ follower

    def _handle_append(self, src: str, m: AppendEntries, now: float, out: Output) -> None:
        # Raft §5.2: a valid AppendEntries from the current leader resets the timer.
        self._last_heard = now
        if self.leader != m.leader:
            self._learn_leader(m.leader, now, out)
        self._reset_election_timer(now)
        # Raft §5.3 consistency check; with issue 3's log this compares terms too.
        if m.prev_log_index > self._last_index():
            out.send(src, AppendEntriesReply(term=self.term, success=False, conflict_index=self._last_index() + 1))
            return
        reply = AppendEntriesReply(term=self.term, success=True, match_index=m.prev_log_index, read_ctx=m.read_ctx)
        out.send(src, reply)

    def _learn_leader(self, leader: str, now: float, out: Output) -> None:
        self.leader = leader
        self._last_heard = now
        out.event("leader", leader=leader, term=self.term)

    # ------------------------------------------------------------------ helpers

    def _reset_election_timer(self, now: float) -> None:
        """Raft §5.2: a fresh random timeout in [min, max) each time the timer restarts."""
        low, high = self.config.election_timeout_min, self.config.election_timeout_max
        self.election_timeout = low + self._rng.random() * (high - low)
        self._election_deadline = now + self.election_timeout

    def _last_index(self) -> int:
        return 0  # the log arrives with issue 3

    def _last_term(self) -> int:
        return 0

    def _finish(self, out: Output, before: tuple[int, str | None]) -> Output:
        if (self.term, self.voted_for) != before:
            out.persist = self.durable_state()
        return out

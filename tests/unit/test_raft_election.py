"""Raft leader election, one node driven by hand (etcd's raft_paper_test.go, in Python).

Each test names the rule it checks: a sentence of the Raft paper (§ numbers of
"In Search of an Understandable Consensus Algorithm", Figure 2) or of Ongaro's
thesis for pre-vote (§9.6) and check-quorum (§6.2). Classes under "the paper's
Raft" run with both extensions off.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from google.protobuf.json_format import ParseDict

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.kv import KVStore
from chaoslab.algorithms.raft import RaftNode, parse_config
from chaoslab.algorithms.raft.core import is_up_to_date
from chaoslab.algorithms.raft.durable import HardState, RaftDurable, RaftPersist
from chaoslab.algorithms.raft.messages import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    EntryKind,
    RequestVote,
    RequestVoteReply,
    TimeoutNow,
)
from chaoslab.v1 import node_pb2

# The paper's Raft, without the thesis extensions.
PAPER = {"pre_vote": False, "check_quorum": False}
MIN, MAX, HEARTBEAT = 0.150, 0.300, 0.050


def ids(n: int) -> list[str]:
    return [f"n{i}" for i in range(1, n + 1)]


def make(
    node_id: str = "n1",
    nodes: int = 5,
    *,
    seed: int = 0,
    durable: RaftDurable | None = None,
    now: float = 0.0,
    **config: Any,
) -> RaftNode:
    """A started node of an ``nodes``-node cluster."""
    node = RaftNode(node_id, ids(nodes), parse_config(config), random.Random(seed), durable, KVStore())
    assert node.start(now) == Output()
    return node


def saved(term: int, voted_for: str | None) -> RaftDurable:
    """What a node that reached ``term`` (having voted for ``voted_for``) persisted."""
    return RaftDurable(HardState(term, voted_for))


def hard(term: int, voted_for: str | None, commit: int = 0) -> RaftPersist:
    """The persist of a step that changed only term and vote."""
    return RaftPersist(hard_state=HardState(term, voted_for, commit))


def merge(out: Output, more: Output) -> None:
    """Gather a second step's output into ``out`` (messages, events, replies; the latest persist)."""
    out.messages.extend(more.messages)
    out.events.extend(more.events)
    out.replies.extend(more.replies)
    if more.persist is not None:
        out.persist = more.persist


def fire(node: RaftNode) -> Output:
    """Tick exactly at the node's next deadline."""
    return node.tick(node.next_deadline())


def sent(out: Output, kind: type) -> list[tuple[str, Any]]:
    return [(dst, m) for dst, m in out.messages if isinstance(m, kind)]


def events(out: Output, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in out.events if e.kind == kind]


def elect(node: RaftNode, now: float | None = None) -> Output:
    """Make ``node`` leader: time it out, then grant it a majority of (pre-)votes."""
    out = fire(node)
    when = node.next_deadline() - 0.01 if now is None else now
    if node.role == "pre_candidate":
        for peer in node.peers[: node.quorum - 1]:
            merge(out, node.step(peer, RequestVoteReply(term=node.term + 1, granted=True, pre_vote=True), when))
    for peer in node.peers[: node.quorum - 1]:
        if node.role == "leader":
            break
        merge(out, node.step(peer, RequestVoteReply(term=node.term, granted=True), when))
    assert node.role == "leader", node
    return out


def heartbeat(term: int, leader: str = "n2") -> AppendEntries:
    return AppendEntries(term=term, leader=leader, prev_log_index=0, prev_log_term=0)


def vote_request(
    term: int, candidate: str = "n2", *, pre_vote: bool = False, transfer: bool = False, last: tuple[int, int] = (0, 0)
) -> RequestVote:
    """A RequestVote from a candidate whose log ends at ``last`` = (index, term)."""
    return RequestVote(
        term=term,
        candidate=candidate,
        last_log_index=last[0],
        last_log_term=last[1],
        pre_vote=pre_vote,
        transfer=transfer,
    )


def follower_of(leader: str = "n2", term: int = 1, *, at: float = 1.0, **config: Any) -> RaftNode:
    """A node that has heard a heartbeat from ``leader`` in ``term`` at time ``at``."""
    node = make(**config)
    node.step(leader, heartbeat(term, leader), at)
    assert node.role == "follower" and node.leader == leader
    return node


# --------------------------------------------------------------------------- the paper's Raft


class TestStartup:
    def test_servers_start_as_followers(self) -> None:
        """§5.2: "When servers start up, they begin as followers" at term 0, with no leader."""
        node = make(**PAPER)
        assert (node.role, node.term, node.leader, node.voted_for) == ("follower", 0, None, None)

    def test_first_timeout_is_drawn_from_the_range(self) -> None:
        """§5.2: election timeouts are chosen randomly from a fixed interval, here [150, 300) ms."""
        deadlines = {make(seed=s, **PAPER).next_deadline() for s in range(50)}
        assert len(deadlines) == 50
        assert all(MIN <= d < MAX for d in deadlines)

    def test_same_rng_seed_gives_same_timeouts(self) -> None:
        """The core takes all randomness from the injected rng: same seed, same behaviour."""
        a, b = make(seed=3), make(seed=3)
        assert a.next_deadline() == b.next_deadline()
        assert fire(a) == fire(b)
        assert a.next_deadline() == b.next_deadline()

    def test_tick_before_the_deadline_does_nothing(self) -> None:
        """Ticking early is harmless: nothing fires before the election timeout."""
        node = make(**PAPER)
        assert node.tick(node.next_deadline() - 1e-6) == Output()
        assert node.role == "follower"

    def test_unstarted_node_ignores_input(self) -> None:
        """Before start() a node has no deadline and ignores ticks and messages."""
        node = RaftNode("n1", ids(3), parse_config({}), random.Random(0), None, KVStore())
        assert node.next_deadline() == float("inf")
        assert node.tick(10.0) == Output()
        assert node.step("n2", heartbeat(1), 10.0) == Output()


class TestBecomingCandidate:
    def test_follower_timeout_starts_an_election(self) -> None:
        """§5.2: "a follower increments its current term and transitions to candidate state. It
        then votes for itself and issues RequestVote RPCs in parallel to each of the other servers"."""
        node = make(**PAPER)
        out = fire(node)
        assert (node.role, node.term, node.voted_for) == ("candidate", 1, "n1")
        requests = sent(out, RequestVote)
        assert sorted(dst for dst, _ in requests) == ["n2", "n3", "n4", "n5"]
        assert all(m == vote_request(1, "n1") for _, m in requests)

    def test_candidate_term_and_self_vote_are_persisted(self) -> None:
        """Figure 2: currentTerm and votedFor are persisted before the RequestVotes go out."""
        out = fire(make(**PAPER))
        assert out.persist == hard(1, "n1")

    def test_events_report_term_and_role(self) -> None:
        """A campaign emits a "term" event and a "role" event carrying the new term."""
        out = fire(make(**PAPER))
        assert [(e.kind, e.data) for e in out.events] == [
            ("term", {"term": 1}),
            ("role", {"role": "candidate", "term": 1}),
        ]


class TestWinningAndLosing:
    def test_majority_of_votes_wins(self) -> None:
        """§5.2: "A candidate wins an election if it receives votes from a majority of the servers"."""
        node = make(**PAPER)
        fire(node)
        out = node.step("n2", RequestVoteReply(term=1, granted=True), 0.31)
        assert node.role == "candidate" and not out.events
        out = node.step("n3", RequestVoteReply(term=1, granted=True), 0.31)
        assert (node.role, node.leader) == ("leader", "n1")
        assert events(out, "role") == [{"role": "leader", "term": 1}]

    def test_new_leader_sends_heartbeats_at_once(self) -> None:
        """§5.2: a new leader "sends heartbeat messages to all of the other servers to establish its
        authority": AppendEntries carrying the no-op it appends for its term (§5.4.2, thesis §6.4)."""
        node = make(**PAPER)
        out = elect(node)
        heartbeats = [(dst, m) for dst, m in sent(out, AppendEntries)]
        assert sorted(dst for dst, _ in heartbeats) == ["n2", "n3", "n4", "n5"]
        noop = Entry(1, 1, EntryKind.NOOP)
        assert all(m.term == 1 and m.leader == "n1" and m.entries == [noop] for _, m in heartbeats)
        assert out.persist == RaftPersist(entries=[noop])  # term and vote went out with the campaign

    def test_duplicate_grant_counts_once(self) -> None:
        """§5.2: votes are counted per server; a duplicated reply is not a second vote."""
        node = make(**PAPER)
        fire(node)
        for _ in range(3):
            node.step("n2", RequestVoteReply(term=1, granted=True), 0.31)
        assert node.role == "candidate"
        assert node.status(0.31)["raft"]["votes"] == 2

    def test_majority_of_rejections_returns_to_follower(self) -> None:
        """§5.2: a candidate that a majority refused cannot win this term and goes back to follower."""
        node = make(**PAPER)
        fire(node)
        for peer in ("n2", "n3"):
            node.step(peer, RequestVoteReply(term=1, granted=False), 0.31)
        assert node.role == "candidate"
        out = node.step("n4", RequestVoteReply(term=1, granted=False), 0.31)
        assert (node.role, node.term, node.voted_for) == ("follower", 1, "n1")
        assert events(out, "role") == [{"role": "follower", "term": 1}]

    def test_candidate_yields_to_leader_of_same_term(self) -> None:
        """§5.2: "If the leader's term ... is at least as large as the candidate's current term, then
        the candidate recognizes the leader as legitimate and returns to follower state"."""
        node = make(**PAPER)
        fire(node)
        out = node.step("n3", heartbeat(1, "n3"), 0.31)
        assert (node.role, node.term, node.leader) == ("follower", 1, "n3")
        assert events(out, "leader") == [{"leader": "n3", "term": 1}]
        assert sent(out, AppendEntriesReply) == [("n3", AppendEntriesReply(term=1, success=True))]

    def test_candidate_steps_down_on_higher_term_reply(self) -> None:
        """§5.1: "If RPC request or response contains term T > currentTerm: set currentTerm = T,
        convert to follower"."""
        node = make(**PAPER)
        fire(node)
        out = node.step("n2", RequestVoteReply(term=4, granted=False), 0.31)
        assert (node.role, node.term, node.voted_for) == ("follower", 4, None)
        assert out.persist == hard(4, None)

    def test_split_vote_retries_with_new_term_and_new_random_timeout(self) -> None:
        """§5.2: on a split vote "each candidate will time out and start a new election by
        incrementing its term", with a freshly randomized timeout."""
        node = make(**PAPER)
        fire(node)
        first = node.election_timeout
        start = node.next_deadline() - first
        node.step("n2", RequestVoteReply(term=1, granted=True), start + 0.01)
        out = fire(node)
        assert (node.role, node.term, node.voted_for) == ("candidate", 2, "n1")
        assert node.status(0.0)["raft"]["votes"] == 1  # votes from term 1 do not carry over
        assert len(sent(out, RequestVote)) == 4
        assert node.election_timeout != first
        assert MIN <= node.election_timeout < MAX

    def test_stale_vote_replies_are_ignored(self) -> None:
        """§5.1: a reply from an older term is stale and changes nothing."""
        node = make(**PAPER)
        fire(node)
        fire(node)  # term 2
        for peer in ("n2", "n3", "n4"):
            node.step(peer, RequestVoteReply(term=1, granted=True), 0.7)
        assert (node.role, node.term) == ("candidate", 2)


class TestVoting:
    def test_first_request_in_a_term_is_granted_and_persisted_with_the_reply(self) -> None:
        """§5.2 and Figure 2: a server grants its vote and persists votedFor before replying: the
        grant and the durable state leave in the same Output, persist first."""
        node = make(**PAPER)
        out = node.step("n2", vote_request(1), 0.1)
        assert out.persist == hard(1, "n2")
        assert out.messages == [("n2", RequestVoteReply(term=1, granted=True))]
        assert events(out, "vote") == [{"candidate": "n2", "term": 1}]

    def test_one_vote_per_term(self) -> None:
        """§5.2: "Each server will vote for at most one candidate in a given term, on a
        first-come-first-served basis"."""
        node = make(**PAPER)
        node.step("n2", vote_request(1, "n2"), 0.1)
        out = node.step("n3", vote_request(1, "n3"), 0.1)
        assert out.messages == [("n3", RequestVoteReply(term=1, granted=False))]
        assert out.persist is None and not out.events
        assert node.voted_for == "n2"

    def test_repeated_request_from_our_candidate_is_granted_again(self) -> None:
        """A retried RequestVote (its reply was lost) gets the same grant, with nothing new to persist."""
        node = make(**PAPER)
        node.step("n2", vote_request(1), 0.1)
        out = node.step("n2", vote_request(1), 0.12)
        assert out.messages == [("n2", RequestVoteReply(term=1, granted=True))]
        assert out.persist is None and not events(out, "vote")

    def test_stale_term_request_is_rejected_with_our_term(self) -> None:
        """§5.1: "If a server receives a request with a stale term number, it rejects the request";
        the reply carries our term so the candidate learns it is behind."""
        node = make(durable=saved(5, None), **PAPER)
        out = node.step("n2", vote_request(3), 0.1)
        assert out.messages == [("n2", RequestVoteReply(term=5, granted=False))]
        assert (node.term, node.voted_for) == (5, None) and out.persist is None

    def test_higher_term_request_is_adopted_then_granted(self) -> None:
        """§5.1: a request with a higher term updates currentTerm (reset vote) before the vote rule."""
        node = make(durable=saved(2, "n3"), **PAPER)
        out = node.step("n2", vote_request(3), 0.1)
        assert out.persist == hard(3, "n2")
        assert out.messages == [("n2", RequestVoteReply(term=3, granted=True))]
        assert [e.kind for e in out.events] == ["term", "vote"]

    def test_granting_a_vote_resets_the_election_timer(self) -> None:
        """Figure 2: a follower converts to candidate only if it has neither heard from a leader nor
        granted a vote for a full election timeout."""
        node = make(**PAPER)
        node.step("n2", vote_request(1), 0.14)
        assert node.next_deadline() == pytest.approx(0.14 + node.election_timeout)
        assert node.next_deadline() >= 0.14 + MIN

    def test_refusing_a_vote_keeps_the_timer(self) -> None:
        """A refused request does not postpone our own election."""
        node = make(**PAPER)
        node.step("n2", vote_request(1, "n2"), 0.1)
        deadline = node.next_deadline()
        node.step("n3", vote_request(1, "n3"), 0.2)
        assert node.next_deadline() == deadline

    def test_refusing_a_higher_term_vote_adopts_the_term_and_keeps_the_timer(self) -> None:
        """A candidate with a stale log raises our term (§5.1) but gets no vote (§5.4.1), and
        must not postpone our election either: only a leader or a granted vote restart the
        timer (Figure 2). Restarting it let stale candidates, one after another, hold the
        up-to-date nodes back past the leader bound (TESTING.md, seed 41)."""
        node = make(**PAPER)
        node.step("n2", AppendEntries(term=1, leader="n2", prev_log_index=0, prev_log_term=0,
                                      entries=[Entry(1, 1, EntryKind.NOOP)]), 0.05)
        deadline = node.next_deadline()
        out = node.step("n3", vote_request(5, "n3", last=(0, 0)), 0.2)
        assert node.term == 5 and node.role == "follower"
        assert out.messages == [("n3", RequestVoteReply(term=5, granted=False))]
        assert node.next_deadline() == deadline
        node.step("n3", vote_request(5, "n3", last=(1, 1)), 0.25)  # an up-to-date one is granted
        assert node.next_deadline() == pytest.approx(0.25 + node.election_timeout)

    def test_a_candidate_stepping_down_restarts_its_timer(self) -> None:
        """A candidate that learns a higher term waits a fresh timeout as a follower, so the
        new term's candidate gets its chance before we campaign again."""
        node = make(**PAPER)
        fire(node)
        assert node.role == "candidate"
        node.step("n2", vote_request(node.term + 1, "n2", last=(0, 0)), 0.5)
        assert node.role == "follower"
        assert node.next_deadline() == pytest.approx(0.5 + node.election_timeout)

    def test_leader_and_candidate_refuse_rivals_in_their_term(self) -> None:
        """§5.2: a candidate or leader has voted for itself, so it refuses any other candidate of its term."""
        candidate = make(**PAPER)
        fire(candidate)
        assert candidate.step("n2", vote_request(1), 0.3).messages == [("n2", RequestVoteReply(term=1, granted=False))]
        leader = make(**PAPER)
        elect(leader)
        assert leader.step("n2", vote_request(1), 0.3).messages == [("n2", RequestVoteReply(term=1, granted=False))]
        assert leader.role == "leader"

    def test_follower_that_knows_the_leader_refuses_fresh_candidates(self) -> None:
        """A server that already follows this term's leader does not vote for another candidate in it."""
        node = follower_of("n2", term=1, **PAPER)
        out = node.step("n3", vote_request(1, "n3"), 1.01)
        assert out.messages == [("n3", RequestVoteReply(term=1, granted=False))]

    @pytest.mark.parametrize(
        ("ours", "theirs", "ok"),
        [
            ((0, 0), (0, 0), True),  # both empty
            ((5, 2), (5, 2), True),  # identical
            ((5, 2), (6, 2), True),  # same last term, longer
            ((5, 2), (4, 2), False),  # same last term, shorter
            ((5, 2), (1, 3), True),  # later last term wins even if shorter
            ((5, 3), (9, 2), False),  # earlier last term loses even if longer
        ],
    )
    def test_log_up_to_date_rule(self, ours: tuple[int, int], theirs: tuple[int, int], ok: bool) -> None:
        """§5.4.1: "If the logs have last entries with different terms, then the log with the later
        term is more up-to-date. If the logs end with the same term, then whichever log is longer is
        more up-to-date"."""
        assert is_up_to_date(ours[0], ours[1], theirs[0], theirs[1]) is ok


class TestFollower:
    def test_heartbeat_resets_the_election_timer(self) -> None:
        """§5.2: "A server remains in follower state as long as it receives valid RPCs from a leader"."""
        node = make(**PAPER)
        first = node.next_deadline()
        out = node.step("n2", heartbeat(1), first - 0.01)
        assert node.next_deadline() == pytest.approx(first - 0.01 + node.election_timeout)
        assert out.messages == [("n2", AppendEntriesReply(term=1, success=True))]

    def test_steady_heartbeats_prevent_elections(self) -> None:
        """A follower that hears a heartbeat every 50 ms never times out."""
        node = make(**PAPER)
        now = 0.0
        while now < 5.0:
            now += HEARTBEAT
            assert node.tick(now).messages == []
            node.step("n2", heartbeat(1), now)
        assert (node.role, node.term, node.leader) == ("follower", 1, "n2")

    def test_silence_leads_to_an_election(self) -> None:
        """§5.2: "If a follower receives no communication over a period of time called the election
        timeout, then it ... begins an election"."""
        node = follower_of("n2", term=1, at=1.0, **PAPER)
        assert node.tick(1.0 + MIN - 0.001).messages == []
        out = fire(node)
        assert node.next_deadline() > 1.0 + MIN
        assert node.role == "candidate" and node.term == 2 and len(sent(out, RequestVote)) == 4

    def test_leader_event_only_when_first_learned(self) -> None:
        """A "leader" event is emitted when a follower first learns the current leader, not per heartbeat."""
        node = make(**PAPER)
        first = node.step("n2", heartbeat(1), 0.1)
        second = node.step("n2", heartbeat(1), 0.15)
        assert events(first, "leader") == [{"leader": "n2", "term": 1}]
        assert events(second, "leader") == []
        third = node.step("n3", heartbeat(2, "n3"), 0.2)
        assert events(third, "leader") == [{"leader": "n3", "term": 2}]

    def test_stale_heartbeat_is_rejected_with_our_term(self) -> None:
        """§5.1: a stale leader's AppendEntries is refused with our term (so it steps down), and
        neither resets our timer nor makes it our leader."""
        node = make(durable=saved(3, None), **PAPER)
        deadline = node.next_deadline()
        out = node.step("n2", heartbeat(2), 0.1)
        assert out.messages == [("n2", AppendEntriesReply(term=3, success=False))]
        assert node.next_deadline() == deadline and node.leader is None

    def test_higher_term_heartbeat_is_followed_and_persisted(self) -> None:
        """§5.1: a higher term is adopted (vote cleared, persisted) and its sender is the leader."""
        node = make(durable=saved(1, "n1"), **PAPER)
        out = node.step("n4", heartbeat(7, "n4"), 0.1)
        assert out.persist == hard(7, None)
        assert (node.term, node.leader) == (7, "n4")

    def test_leader_asking_for_a_log_we_lack_is_refused(self) -> None:
        """§5.3: the consistency check fails when we have no entry at prev_log_index (empty log here)."""
        node = make(**PAPER)
        out = node.step("n2", AppendEntries(term=1, leader="n2", prev_log_index=4, prev_log_term=1), 0.1)
        assert out.messages == [("n2", AppendEntriesReply(term=1, success=False, match_index=4, conflict_index=1))]
        assert node.leader == "n2"  # still a legitimate leader: the timer was reset


class TestLeader:
    def test_heartbeats_every_interval(self) -> None:
        """A leader sends AppendEntries with no entries to every peer each heartbeat interval."""
        node = make(**PAPER)
        elect(node, now=0.4)
        assert node.next_deadline() == pytest.approx(0.4 + HEARTBEAT)
        assert node.tick(0.4 + HEARTBEAT - 0.001).messages == []
        for i in range(1, 6):
            due = node.next_deadline()
            assert due == pytest.approx(0.4 + i * HEARTBEAT)
            out = node.tick(due)
            assert sorted(dst for dst, _ in sent(out, AppendEntries)) == ["n2", "n3", "n4", "n5"]

    def test_stale_leader_steps_down_on_higher_term_reply(self) -> None:
        """§5.1: a leader that learns of a higher term from a reply converts to follower."""
        node = make(**PAPER)
        elect(node)
        out = node.step("n3", AppendEntriesReply(term=2, success=False), 0.5)
        assert (node.role, node.term, node.leader) == ("follower", 2, None)
        assert out.persist == hard(2, None)
        assert events(out, "role") == [{"role": "follower", "term": 2}]

    def test_leader_steps_down_on_higher_term_request(self) -> None:
        """§5.1: a higher-term RequestVote turns a leader into a follower (without check-quorum)."""
        node = make(**PAPER)
        elect(node)  # its log now holds its no-op at (1, 1)
        out = node.step("n3", vote_request(2, "n3", last=(1, 1)), 0.5)
        assert (node.role, node.term, node.voted_for) == ("follower", 2, "n3")
        assert out.messages == [("n3", RequestVoteReply(term=2, granted=True))]

    def test_deposed_leader_refuses_a_candidate_with_a_shorter_log(self) -> None:
        """§5.4.1: the higher term deposes the leader, but its vote goes only to a candidate whose
        log is at least as up to date (here the candidate lacks the leader's no-op)."""
        node = make(**PAPER)
        elect(node)
        out = node.step("n3", vote_request(2, "n3"), 0.5)
        assert (node.role, node.term, node.voted_for) == ("follower", 2, None)
        assert out.messages == [("n3", RequestVoteReply(term=2, granted=False))]

    def test_leader_steps_down_for_a_higher_term_leader(self) -> None:
        """§5.1: a heartbeat from a newer term's leader makes the old leader follow it."""
        node = make(**PAPER)
        elect(node)
        node.step("n4", heartbeat(3, "n4"), 0.5)
        assert (node.role, node.term, node.leader) == ("follower", 3, "n4")


class TestSingleNode:
    @pytest.mark.parametrize("config", [PAPER, {}], ids=["paper", "prevote+checkquorum"])
    def test_elects_itself_at_the_first_timeout(self, config: dict) -> None:
        """A one-node cluster is its own majority: it becomes leader at its first timeout."""
        node = make(nodes=1, **config)
        out = fire(node)
        assert (node.role, node.term, node.leader) == ("leader", 1, "n1")
        # Its no-op is committed (and applied) in the same step: it is its own majority.
        noop = Entry(1, 1, EntryKind.NOOP)
        assert out.persist == RaftPersist(hard_state=HardState(1, "n1", 1), entries=[noop])
        assert (node.commit_index, node.applied_index) == (1, 1)
        assert out.messages == []

    def test_stays_leader(self) -> None:
        """A lone leader keeps its leadership (check-quorum counts itself)."""
        node = make(nodes=1)
        fire(node)
        for _ in range(100):
            fire(node)
        assert (node.role, node.term) == ("leader", 1)


def persisted(*outs: Output, start: RaftDurable | None = None) -> RaftDurable:
    """The durable model after a driver applied these outputs' persists, in order."""
    model = start.restore() if start is not None else RaftDurable()
    for out in outs:
        if out.persist is not None:
            model.apply(out.persist)
    return model.restore()


class TestRestart:
    def test_restart_keeps_term_and_vote(self) -> None:
        """Figure 2: currentTerm and votedFor are persistent state; a restarted node resumes them."""
        node = make(**PAPER)
        restarted = make(durable=persisted(node.step("n2", vote_request(3), 0.1)), **PAPER)
        assert (restarted.term, restarted.voted_for, restarted.role) == (3, "n2", "follower")

    def test_no_second_vote_in_a_term_after_restart(self) -> None:
        """§5.2: one vote per term holds across a crash, because the vote was persisted first."""
        node = make(**PAPER)
        restarted = make(durable=persisted(node.step("n2", vote_request(3, "n2"), 0.1)), **PAPER)
        out = restarted.step("n3", vote_request(3, "n3"), 0.1)
        assert out.messages == [("n3", RequestVoteReply(term=3, granted=False))]

    def test_restarted_candidate_campaigns_in_a_new_term(self) -> None:
        """A node that crashed as candidate of term 4 does not reuse term 4 on restart."""
        start = saved(3, None)
        restarted = make(durable=persisted(fire(make(durable=start, **PAPER)), start=start), **PAPER)
        fire(restarted)
        assert (restarted.role, restarted.term) == ("candidate", 5)

    def test_no_durable_state_means_term_zero(self) -> None:
        """A node with nothing persisted starts at term 0 with no vote."""
        assert (make(durable=None).term, make(durable=RaftDurable()).voted_for) == (0, None)

    def test_old_dict_form_is_refused(self) -> None:
        """Durable state is a RaftDurable (or None); the election-era dict is a TypeError, not a guess."""
        with pytest.raises(TypeError, match="RaftDurable"):
            RaftNode("n1", ids(3), parse_config({}), random.Random(0), {"term": 3}, KVStore())  # type: ignore[arg-type]

    def test_persist_is_a_raft_persist_of_the_hard_state(self) -> None:
        """Output.persist is a RaftPersist; a campaign changes only the hard state (term, vote)."""
        out = fire(make(**PAPER))
        assert out.persist == RaftPersist(hard_state=HardState(term=1, voted_for="n1", commit=0))


# --------------------------------------------------------------------------- thesis extensions


class TestPreVote:
    def test_timeout_starts_a_pre_vote_without_touching_term_or_vote(self) -> None:
        """Thesis §9.6: a would-be candidate first asks whether it could win, without bumping its term."""
        node = make(durable=saved(2, None), check_quorum=False)
        out = fire(node)
        assert (node.role, node.term, node.voted_for) == ("pre_candidate", 2, None)
        assert out.persist is None
        assert [m for _, m in sent(out, RequestVote)] == [vote_request(3, "n1", pre_vote=True)] * 4
        assert events(out, "role") == [{"role": "pre_candidate", "term": 2}]

    def test_pre_vote_majority_starts_the_real_election(self) -> None:
        """Thesis §9.6: only with a majority of pre-votes does the node increment its term and campaign."""
        node = make(check_quorum=False)
        fire(node)
        node.step("n2", RequestVoteReply(term=1, granted=True, pre_vote=True), 0.31)
        out = node.step("n3", RequestVoteReply(term=1, granted=True, pre_vote=True), 0.31)
        assert (node.role, node.term, node.voted_for) == ("candidate", 1, "n1")
        assert out.persist == hard(1, "n1")
        assert [m for _, m in sent(out, RequestVote)] == [vote_request(1, "n1")] * 4

    def test_granting_a_pre_vote_changes_nothing(self) -> None:
        """Thesis §9.6: a pre-vote is granted without changing the voter's term or vote; the reply
        carries the term asked about."""
        node = make(durable=saved(2, "n4"))
        out = node.step("n2", vote_request(3, pre_vote=True), 0.1)
        assert out.messages == [("n2", RequestVoteReply(term=3, granted=True, pre_vote=True))]
        assert (node.term, node.voted_for) == (2, "n4")
        assert out.persist is None and not out.events

    @pytest.mark.parametrize("check_quorum", [False, True])
    def test_pre_vote_refused_while_hearing_from_a_leader(self, check_quorum: bool) -> None:
        """Thesis §9.6: a server that heard from a leader within the minimum election timeout does
        not grant pre-votes (with check-quorum it ignores the request outright)."""
        node = follower_of("n2", term=1, at=1.0, check_quorum=check_quorum)
        out = node.step("n3", vote_request(2, "n3", pre_vote=True), 1.0 + MIN / 2)
        expected = [] if check_quorum else [("n3", RequestVoteReply(term=1, granted=False, pre_vote=True))]
        assert out.messages == expected
        later = node.step("n3", vote_request(2, "n3", pre_vote=True), 1.0 + MIN + 0.001)
        assert later.messages == [("n3", RequestVoteReply(term=2, granted=True, pre_vote=True))]

    def test_cut_off_node_does_not_inflate_its_term(self) -> None:
        """Thesis §9.6: a node that cannot reach a majority keeps retrying pre-votes at the same term."""
        node = make(durable=saved(4, None))
        for _ in range(20):
            fire(node)
        assert (node.role, node.term) == ("pre_candidate", 4)

    def test_pre_candidate_refused_by_majority_returns_to_follower(self) -> None:
        """A pre-candidate that a majority turned down gives up until its next timeout."""
        node = make(check_quorum=False)
        fire(node)
        for peer in ("n2", "n3", "n4"):
            node.step(peer, RequestVoteReply(term=0, granted=False, pre_vote=True), 0.31)
        assert (node.role, node.term) == ("follower", 0)

    def test_rejection_with_higher_term_makes_pre_candidate_follow_it(self) -> None:
        """A pre-vote refused with a higher term moves us to that term as a follower (etcd's rule)."""
        node = make()
        fire(node)
        out = node.step("n2", RequestVoteReply(term=6, granted=False, pre_vote=True), 0.31)
        assert (node.role, node.term) == ("follower", 6)
        assert out.persist == hard(6, None)

    def test_stale_pre_vote_is_refused_with_our_term(self) -> None:
        """A pre-vote for a term below ours is refused with our term, so the asker catches up."""
        node = make(durable=saved(5, None))
        out = node.step("n2", vote_request(3, pre_vote=True), 0.1)
        assert out.messages == [("n2", RequestVoteReply(term=5, granted=False, pre_vote=True))]

    def test_grants_from_an_earlier_round_do_not_count(self) -> None:
        """Only grants for term+1 count towards this pre-vote; an old round's grants are ignored."""
        node = make(durable=saved(2, None), check_quorum=False)
        fire(node)
        for peer in ("n2", "n3", "n4"):
            node.step(peer, RequestVoteReply(term=2, granted=True, pre_vote=True), 0.31)
        assert (node.role, node.term) == ("pre_candidate", 2)

    def test_real_vote_replies_are_ignored_by_a_pre_candidate(self) -> None:
        """A pre-candidate counts only pre-vote replies."""
        node = make(durable=saved(2, None), check_quorum=False)
        fire(node)
        for peer in ("n2", "n3", "n4"):
            node.step(peer, RequestVoteReply(term=2, granted=True), 0.31)
        assert node.role == "pre_candidate"

    def test_pre_candidate_follows_a_leader_of_its_term(self) -> None:
        """A heartbeat at the pre-candidate's own term ends the pre-vote: it follows that leader."""
        node = make(durable=saved(2, None))
        fire(node)
        node.step("n3", heartbeat(2, "n3"), 0.31)
        assert (node.role, node.leader) == ("follower", "n3")


class TestCheckQuorum:
    def test_leader_without_a_majority_steps_down(self) -> None:
        """Thesis §6.2: a leader steps down if an election timeout passes without a successful round
        of heartbeats to a majority."""
        node = make(pre_vote=False)
        elect(node, now=0.4)
        outs = []
        while node.role == "leader":
            outs.append(fire(node))
        assert node.next_deadline() > 0  # timer re-armed as follower
        assert (node.role, node.term, node.leader) == ("follower", 1, None)
        assert events(outs[-1], "lost_quorum") == [{"term": 1, "active": 1}]
        assert outs[-1].persist is None  # same term, same vote

    def test_leader_with_a_majority_stays(self) -> None:
        """Heartbeat replies from a majority keep the leader in office round after round."""
        node = make(pre_vote=False)
        elect(node, now=0.4)
        now = 0.4
        while now < 3.0:
            now = node.next_deadline()
            out = node.tick(now)
            for dst, _ in sent(out, AppendEntries)[:2]:
                node.step(dst, AppendEntriesReply(term=1, success=True), now + 0.001)
        assert node.role == "leader"

    def test_follower_in_lease_ignores_higher_term_vote_requests(self) -> None:
        """Thesis §4.2.3/§6.2: within the minimum election timeout of hearing from the leader, a server
        neither updates its term nor grants its vote."""
        node = follower_of("n2", term=1, at=1.0, pre_vote=False)
        out = node.step("n3", vote_request(5, "n3"), 1.0 + MIN / 2)
        assert out == Output()
        assert (node.term, node.voted_for, node.leader) == (1, None, "n2")

    def test_lease_expires_after_the_minimum_timeout(self) -> None:
        """Once the minimum election timeout passes without the leader, vote requests are heard again."""
        node = follower_of("n2", term=1, at=1.0, pre_vote=False)
        out = node.step("n3", vote_request(5, "n3"), 1.0 + MIN + 1e-9)
        assert out.messages == [("n3", RequestVoteReply(term=5, granted=True))]
        assert node.term == 5

    def test_leader_ignores_higher_term_vote_requests(self) -> None:
        """A leader that keeps its quorum is not deposed by a disruptive candidate's request."""
        node = make(pre_vote=False)
        elect(node)
        assert node.step("n3", vote_request(9, "n3"), 0.5) == Output()
        assert (node.role, node.term) == ("leader", 1)

    def test_transfer_bypasses_the_lease(self) -> None:
        """Thesis §3.10: a request marked as a leadership transfer is considered even in lease."""
        node = follower_of("n2", term=1, at=1.0, pre_vote=False)
        out = node.step("n3", vote_request(2, "n3", transfer=True), 1.01)
        assert out.messages == [("n3", RequestVoteReply(term=2, granted=True))]


class TestTimeoutNow:
    def test_timeout_now_is_ignored(self) -> None:
        """Leadership transfer is not implemented: a TimeoutNow (which no leader sends) changes nothing."""
        node = follower_of("n2", term=1, at=1.0)
        out = node.step("n2", TimeoutNow(term=1), 1.01)
        assert (node.role, node.term, node.leader) == ("follower", 1, "n2")
        assert out == Output()


class TestStatus:
    def parse(self, status: dict) -> node_pb2.NodeStatus:
        return ParseDict(status, node_pb2.NodeStatus())

    def test_keys_are_node_status_fields(self) -> None:
        """status() uses exactly NodeStatus / RaftStatus field names, so ParseDict accepts it."""
        status = make().status(0.0)
        assert set(status) <= set(node_pb2.NodeStatus.DESCRIPTOR.fields_by_name)
        assert set(status["raft"]) <= set(node_pb2.RaftStatus.DESCRIPTOR.fields_by_name)
        assert {"role", "term", "leader", "last_heard_s", "raft"} <= set(status)
        self.parse(status)

    def test_follower_that_never_heard_a_leader(self) -> None:
        """A fresh follower reports no leader and last_heard_s = -1."""
        status = make().status(0.1)
        assert (status["role"], status["term"], status["leader"], status["last_heard_s"]) == ("follower", 0, "", -1.0)
        assert self.parse(status).last_heard_s == -1.0

    def test_follower_reports_time_since_its_leader(self) -> None:
        """last_heard_s is the time since the last heartbeat from the leader."""
        node = follower_of("n2", term=3, at=1.0)
        status = node.status(1.25)
        assert status["leader"] == "n2" and status["term"] == 3
        assert status["last_heard_s"] == pytest.approx(0.25)

    def test_candidate_reports_votes(self) -> None:
        """A candidate's status counts the votes granted so far, its own included."""
        node = make(**PAPER)
        fire(node)
        node.step("n2", RequestVoteReply(term=1, granted=True), 0.31)
        status = node.status(0.31)
        assert status["role"] == "candidate"
        assert status["raft"]["votes"] == 2 and status["raft"]["voted_for"] == "n1"
        assert self.parse(status).raft.votes == 2

    def test_leader_reports_itself_and_its_followers(self) -> None:
        """A leader reports last_heard_s = 0 and one progress row per follower."""
        node = make(**PAPER)
        elect(node)
        status = node.status(1.0)
        assert (status["role"], status["leader"], status["last_heard_s"]) == ("leader", "n1", 0.0)
        assert [p["peer"] for p in status["raft"]["progress"]] == ["n2", "n3", "n4", "n5"]
        assert len(self.parse(status).raft.progress) == 4

    def test_status_is_json(self) -> None:
        """The status dict is JSON-able as is."""
        node = make()
        elect(node)
        assert json.loads(json.dumps(node.status(1.0))) == node.status(1.0)


class TestIgnoredInput:
    def test_messages_from_strangers_and_self_are_ignored(self) -> None:
        """Input from an unknown id, or claiming to be from ourselves, changes nothing."""
        node = make()
        assert node.step("n9", heartbeat(4, "n9"), 0.1) == Output()
        assert node.step("n1", heartbeat(4, "n1"), 0.1) == Output()
        assert node.term == 0

    def test_foreign_messages_are_ignored(self) -> None:
        """A message that is not one of Raft's (another algorithm's body) changes nothing."""
        node = make()
        assert node.step("n2", object(), 0.1) == Output()

    def test_vote_request_must_come_from_its_candidate(self) -> None:
        """A RequestVote naming a candidate other than its sender is refused."""
        node = make(**PAPER)
        out = node.step("n2", vote_request(1, "n3"), 0.1)
        assert out.messages == [("n2", RequestVoteReply(term=1, granted=False))]
        assert node.voted_for is None

    def test_stale_replies_are_dropped_silently(self) -> None:
        """§5.1: stale replies and stale TimeoutNow get no answer."""
        node = make(durable=saved(4, None))
        for m in (RequestVoteReply(term=2, granted=True), AppendEntriesReply(term=3, success=True), TimeoutNow(term=1)):
            assert node.step("n2", m, 0.1) == Output()

"""Raft's replicated log, commit rule, client requests, ReadIndex and snapshots, driven by hand.

In the manner of etcd's raft_paper_test.go: each test names the sentence of
the Raft paper (§ of "In Search of an Understandable Consensus Algorithm",
Figure 2/8) or of Ongaro's thesis it checks. :class:`Net` is a tiny
hand-cranked network (like etcd's ``network``): messages wait in a queue
until delivered, a node can be cut off, and every persist goes through the
durable model (``RaftDurable``) exactly as a driver applies it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import ParseDict

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.kv import KVCode, KVCommand, KVOp, KVResult, KVStore
from chaoslab.algorithms.raft import RaftNode, parse_config
from chaoslab.algorithms.raft.durable import HardState, RaftDurable, RaftPersist
from chaoslab.algorithms.kv.encoding import decode_command, decode_commands, describe, encode_command
from chaoslab.algorithms.raft.messages import (
    AppendEntries,
    AppendEntriesReply,
    Entry,
    EntryKind,
    InstallSnapshot,
    InstallSnapshotReply,
    RequestVote,
    RequestVoteReply,
)
from chaoslab.algorithms.raft.progress import PROBE, REPLICATE, SNAPSHOT
from chaoslab.v1 import node_pb2

# The paper's Raft: elections only when a test asks for one.
PAPER = {"pre_vote": False, "check_quorum": False}


def put(key: str, value: str, session: int = 0, seq: int = 0) -> KVCommand:
    return KVCommand(KVOp.PUT, key, value, session=session, seq=seq)


def get(key: str) -> KVCommand:
    return KVCommand(KVOp.GET, key)


def normal(index: int, term: int, command: KVCommand | None = None) -> Entry:
    return Entry(index, term, EntryKind.NORMAL, encode_command(command or put("k", f"{index}")))


def noop(index: int, term: int) -> Entry:
    return Entry(index, term, EntryKind.NOOP)


def sent(out: Output, kind: type) -> list[tuple[str, Any]]:
    return [(dst, m) for dst, m in out.messages if isinstance(m, kind)]


class Net:
    """Raft nodes n1..nN, a queue of messages in flight, one durable model per node.

    Time stands still unless a test moves it (``now``), and only leaders are
    ticked behind the test's back (when they ask for an immediate tick), so no
    election starts unless a test calls :meth:`elect`. ``deliver`` hands over
    what is queued (messages to or from a node in ``cut`` are lost);
    ``stabilize`` repeats that until all is quiet.
    """

    def __init__(self, n: int = 3, logs: dict[str, RaftDurable] | None = None, **config: Any) -> None:
        self.ids = [f"n{i}" for i in range(1, n + 1)]
        self.config = parse_config({**PAPER, **config})
        self.disks: dict[str, RaftDurable] = {i: RaftDurable() for i in self.ids}
        for node, durable in (logs or {}).items():
            self.disks[node] = durable
        self.now = 0.0
        self.queue: list[tuple[str, str, Any]] = []
        self.replies: dict[int, KVResult] = {}
        self.persists: dict[str, list[RaftPersist]] = {i: [] for i in self.ids}
        self.cut: set[str] = set()
        self.delivered: list[tuple[str, str, Any]] = []  # everything handed over, in order
        self._rid = 0
        self.nodes: dict[str, RaftNode] = {}
        for node in self.ids:
            self.boot(node)

    def boot(self, node: str) -> RaftNode:
        """(Re)build ``node`` from its disk, as a driver does after a crash."""
        store = KVStore(self.config.max_sessions)
        core = RaftNode(node, self.ids, self.config, random.Random(node), self.disks[node].restore(), store)
        self.nodes[node] = core
        self.absorb(node, core.start(self.now))
        return core

    def absorb(self, node: str, out: Output) -> Output:
        """Act on an output in the driver's order: persist, then send and reply."""
        if out.persist is not None:
            assert isinstance(out.persist, RaftPersist)
            self.disks[node].apply(out.persist)
            self.persists[node].append(out.persist)
        self.queue.extend((node, dst, m) for dst, m in out.messages)
        for rid, result in out.replies:
            assert rid not in self.replies, f"request {rid} answered twice"
            self.replies[rid] = result
        return out

    def deliver(self, only: Any = None) -> int:
        """Deliver every queued message (those ``only(src, dst, m)`` accepts, if given); how many."""
        batch, self.queue = self.queue, []
        count = 0
        for src, dst, m in batch:
            if only is not None and not only(src, dst, m):
                self.queue.append((src, dst, m))
                continue
            if src in self.cut or dst in self.cut:
                continue
            count += 1
            self.delivered.append((src, dst, m))
            self.absorb(dst, self.nodes[dst].step(src, m, self.now))
        return count

    def tick_due(self) -> None:
        for node, core in self.nodes.items():
            if core.role == "leader" and core.next_deadline() <= self.now:
                self.absorb(node, core.tick(self.now))

    def stabilize(self, rounds: int = 200) -> None:
        for _ in range(rounds):
            self.tick_due()
            if not self.queue:
                return
            self.deliver()
        raise AssertionError("the network did not go quiet")

    def elect(self, node: str) -> RaftNode:
        """Time ``node`` out (only it) and let the votes and the no-op settle."""
        core = self.nodes[node]
        self.now = max(self.now, core.next_deadline())
        self.absorb(node, core.tick(self.now))
        self.stabilize()
        assert core.role == "leader", core
        return core

    def request(self, node: str, command: KVCommand) -> int:
        self._rid += 1
        self.absorb(node, self.nodes[node].request(self._rid, command, self.now))
        return self._rid

    def register(self, node: str) -> int:
        """A client session, registered through ``node`` (the leader); its id."""
        rid = self.request(node, KVCommand(KVOp.REGISTER, ""))
        self.stabilize()
        assert self.replies[rid].code == KVCode.OK
        return self.replies[rid].session

    def heartbeat(self, node: str) -> None:
        """Move time to ``node``'s next heartbeat and tick it."""
        core = self.nodes[node]
        self.now = core.next_deadline()
        self.absorb(node, core.tick(self.now))

    def until_sent(self, kind: type, rounds: int = 20) -> list[Any]:
        """Heartbeat rounds (delivering everything else) until the leader sends a ``kind``; those sent."""
        leader = next(n for n, core in self.nodes.items() if core.role == "leader")
        for _ in range(rounds):
            self.heartbeat(leader)
            for _ in range(2):
                found = [m for _, _, m in self.queue if isinstance(m, kind)]
                if found:
                    return found
                self.deliver()
                self.tick_due()
        raise AssertionError(f"no {kind.__name__} after {rounds} heartbeat rounds")


# --------------------------------------------------------------------------- log replication


class TestReplication:
    def test_command_is_appended_replicated_committed_and_applied(self) -> None:
        """§5.3: the leader "appends the command to its log as a new entry, then issues
        AppendEntries RPCs in parallel"; once "safely replicated, the leader applies the entry to
        its state machine and returns the result of that execution to the client"."""
        net = Net(3)
        leader = net.elect("n1")
        rid = net.request("n1", put("x", "1"))
        assert leader.log.last_index == 2 and rid not in net.replies
        net.stabilize()
        assert net.replies[rid] == KVResult(KVCode.OK, index=2)
        assert all(core.state_machine.data == {"x": "1"} and core.commit_index == 2 for core in net.nodes.values())

    def test_proposals_are_batched_until_the_next_tick(self) -> None:
        """A burst of proposals goes out as one AppendEntries per follower: a proposal only appends
        and asks to be ticked now; the tick sends."""
        net = Net(3)
        leader = net.elect("n1")
        for i in range(5):
            out = net.absorb("n1", leader.request(100 + i, put("k", str(i)), net.now))
            assert out.messages == [] and [e.index for e in out.persist.entries] == [2 + i]
        assert leader.next_deadline() == net.now
        tick = net.absorb("n1", leader.tick(net.now))
        appends = sent(tick, AppendEntries)
        assert sorted(dst for dst, _ in appends) == ["n2", "n3"]
        assert all([e.index for e in m.entries] == [2, 3, 4, 5, 6] for _, m in appends)
        assert leader.next_deadline() > net.now

    def test_batches_respect_the_entry_cap_and_pipeline(self) -> None:
        """max_batch_entries caps one AppendEntries; in replicate state up to max_inflight go out
        unacknowledged, and no more."""
        net = Net(2, max_batch_entries=2, max_inflight=3)
        leader = net.elect("n1")
        assert leader.progress["n2"].state == REPLICATE
        for i in range(10):
            leader.request(100 + i, put("k", str(i)), net.now)
        tick = net.absorb("n1", leader.tick(net.now))
        sizes = [len(m.entries) for _, m in sent(tick, AppendEntries)]
        assert sizes == [2, 2, 2]
        net.stabilize()
        assert net.nodes["n2"].log.last_index == 11 and leader.commit_index == 11

    def test_commit_needs_a_majority(self) -> None:
        """§5.3: "A log entry is committed once the leader that created the entry has replicated it on a
        majority of the servers"; with a majority cut off nothing commits."""
        net = Net(5)
        leader = net.elect("n1")
        net.cut = {"n4", "n5"}
        rid = net.request("n1", put("x", "1"))
        net.stabilize()
        assert net.replies[rid].code == KVCode.OK
        net.cut = {"n3", "n4", "n5"}
        rid = net.request("n1", put("x", "2"))
        net.stabilize()
        assert rid not in net.replies and leader.commit_index == 2

    def test_followers_learn_the_commit_index(self) -> None:
        """§5.3: "The leader keeps track of the highest index it knows to be committed, and it includes
        that index in future AppendEntries RPCs ... Once a follower learns that a log entry is
        committed, it applies the entry to its local state machine"."""
        net = Net(3)
        net.elect("n1")
        net.request("n1", put("x", "1"))
        net.stabilize()
        follower = net.nodes["n2"]
        assert (follower.commit_index, follower.applied_index, follower.state_machine.data) == (2, 2, {"x": "1"})

    def test_single_node_commits_at_once(self) -> None:
        """A one-node cluster is its own majority: a write is committed, applied and answered in the
        same step (the driver persists the entry before the reply leaves)."""
        net = Net(1)
        net.elect("n1")
        out = net.nodes["n1"].request(7, put("x", "1"), net.now)
        assert out.replies == [(7, KVResult(KVCode.OK, index=2))]
        assert out.persist.entries == [normal(2, 1, put("x", "1"))] and out.persist.hard_state.commit == 2


class TestConsistencyCheck:
    def follower(self, *terms: int, commit: int = 0) -> RaftNode:
        """n2 of a 3-node cluster, its log holding entries of these terms."""
        entries = [normal(i + 1, t) for i, t in enumerate(terms)]
        disk = RaftDurable(HardState(max(terms, default=0), None, commit), entries=entries)
        return Net(3, logs={"n2": disk}).nodes["n2"]

    def test_missing_prev_entry_is_rejected_with_the_log_end(self) -> None:
        """§5.3: "If the follower does not find an entry in its log with the same index and term, then it
        refuses the new entries"; a log that is too short says where it ends (conflict_term 0)."""
        node = self.follower(1, 1)
        out = node.step("n1", AppendEntries(term=2, leader="n1", prev_log_index=5, prev_log_term=2), 0.0)
        # match_index echoes the refused prev_log_index, so the leader can tell a stale refusal.
        assert out.messages == [
            ("n1", AppendEntriesReply(term=2, success=False, match_index=5, conflict_index=3, conflict_term=0))
        ]
        assert node.log.last_index == 2

    def test_term_mismatch_names_the_conflicting_term_and_its_first_index(self) -> None:
        """Thesis §5.3 (fast backtracking): the rejection carries the term of the conflicting entry and
        the first index the follower holds of that term."""
        node = self.follower(1, 2, 2, 2)
        out = node.step("n1", AppendEntries(term=3, leader="n1", prev_log_index=4, prev_log_term=3), 0.0)
        ((_, reply),) = out.messages
        assert (reply.success, reply.match_index, reply.conflict_term, reply.conflict_index) == (False, 4, 2, 2)

    def test_matching_prev_entry_is_accepted(self) -> None:
        """§5.3: entries after a matching prev entry are appended; the reply says how far we match."""
        node = self.follower(1, 1)
        entries = [normal(3, 2), normal(4, 2)]
        out = node.step("n1", AppendEntries(term=2, leader="n1", prev_log_index=2, prev_log_term=1, entries=entries), 0)
        assert out.messages == [("n1", AppendEntriesReply(term=2, success=True, match_index=4))]
        assert out.persist.entries == entries and node.log.last_index == 4

    def test_conflicting_suffix_is_overwritten(self) -> None:
        """§5.3: "If an existing entry conflicts with a new one (same index but different terms), delete
        the existing entry and all that follow it"; the persist says to truncate from there."""
        node = self.follower(1, 1, 1, 1)
        new = [normal(3, 2)]
        out = node.step("n1", AppendEntries(term=2, leader="n1", prev_log_index=2, prev_log_term=1, entries=new), 0.0)
        assert [node.log.term_at(i) for i in (1, 2, 3, 4)] == [1, 1, 2, None]
        assert out.persist.entries == new  # RaftDurable.apply truncates from index 3
        disk = RaftDurable(entries=[normal(i, 1) for i in range(1, 5)])
        disk.apply(out.persist)
        assert [e.term for e in disk.entries] == [1, 1, 2]

    def test_retransmission_changes_nothing(self) -> None:
        """A duplicated or late AppendEntries whose entries we hold does not truncate what follows them."""
        node = self.follower(1, 1, 2, 2)
        old = AppendEntries(term=2, leader="n1", prev_log_index=1, prev_log_term=1, entries=[normal(2, 1)])
        out = node.step("n1", old, 0.0)
        assert node.log.last_index == 4 and out.persist is None
        assert out.messages == [("n1", AppendEntriesReply(term=2, success=True, match_index=2))]

    def test_commit_index_is_capped_by_the_last_new_entry(self) -> None:
        """Figure 2: "set commitIndex = min(leaderCommit, index of last new entry)": entries past what this
        AppendEntries vouched for may still be someone else's."""
        node = self.follower(1, 1, 1, 1)
        heartbeat = AppendEntries(term=2, leader="n1", prev_log_index=2, prev_log_term=1, leader_commit=4)
        node.step("n1", heartbeat, 0.0)
        assert node.commit_index == 2

    def test_entries_below_our_commit_index_are_skipped(self) -> None:
        """A committed prefix matches every later leader (Leader Completeness), so an old AppendEntries
        reaching into it is answered with our commit index and never truncates."""
        node = self.follower(1, 1, 1, 1, commit=3)
        stale = AppendEntries(term=2, leader="n1", prev_log_index=0, prev_log_term=0, entries=[normal(1, 1)])
        out = node.step("n1", stale, 0.0)
        assert out.messages == [("n1", AppendEntriesReply(term=2, success=True, match_index=3))]
        assert node.log.last_index == 4


class TestFastBacktracking:
    def test_leader_skips_a_whole_divergent_term_in_one_round(self) -> None:
        """Thesis §5.3: with conflict hints the leader moves next_index past all the follower's entries
        of a term it lacks at once, not one entry per round trip."""
        old_term = [normal(i, 1) for i in range(1, 3)] + [normal(i, 2) for i in range(3, 53)]
        leader_log = [normal(i, 1) for i in range(1, 3)] + [normal(i, 3) for i in range(3, 6)]
        net = Net(
            3,
            logs={
                "n1": RaftDurable(HardState(3), entries=leader_log),
                "n2": RaftDurable(HardState(3), entries=leader_log),
                "n3": RaftDurable(HardState(2), entries=old_term),
            },
        )
        leader = net.elect("n1")  # n2 votes for it; n3's log has an older last term
        rejections = [m for s, _, m in net.delivered if isinstance(m, AppendEntriesReply) and not m.success]
        # One refusal: n3 says "term 2 from index 3"; n1 holds no term 2, so it retries from 3.
        assert [(m.conflict_term, m.conflict_index) for m in rejections] == [(2, 3)]
        assert net.nodes["n3"].log.last_index == leader.log.last_index
        assert [net.nodes["n3"].log.term_at(i) for i in (2, 3, 6)] == [1, 3, 4]

    def test_short_log_is_skipped_to_its_end(self) -> None:
        """A follower whose log is too short says where it ends; the leader goes straight there."""
        log = [normal(i, 1) for i in range(1, 41)]
        net = Net(3, logs={n: RaftDurable(HardState(1), entries=log) for n in ("n1", "n2")})
        leader = net.elect("n1")
        rejections = [m for s, _, m in net.delivered if isinstance(m, AppendEntriesReply) and not m.success]
        assert [(m.conflict_term, m.conflict_index) for m in rejections] == [(0, 1)]
        assert net.nodes["n3"].log.last_index == leader.log.last_index == 41

    def test_stale_rejection_is_ignored(self) -> None:
        """etcd's MaybeDecrTo: a rejection of an index at or below what the follower already matches is
        an answer to an old message and must not move next_index back."""
        net = Net(3)
        leader = net.elect("n1")
        for i in range(3):
            net.request("n1", put("k", str(i)))
        net.stabilize()
        p = leader.progress["n2"]
        assert (p.state, p.match_index, p.next_index) == (REPLICATE, 4, 5)
        out = leader.step("n2", AppendEntriesReply(term=1, success=False, match_index=2, conflict_index=1), net.now)
        assert (p.state, p.match_index, p.next_index) == (REPLICATE, 4, 5) and out.messages == []


class TestCommitRule:
    def test_figure_8_old_term_entries_are_not_committed_by_counting(self) -> None:
        """§5.4.2 / Figure 8: "Raft never commits log entries from previous terms by counting replicas.
        Only log entries from the leader's current term are committed by counting replicas"."""
        # n1 holds (2, term 2) from an earlier leadership; n2 has it too; term 4 now.
        log = [normal(1, 1), normal(2, 2)]
        net = Net(5, logs={"n1": RaftDurable(HardState(3), entries=log), "n2": RaftDurable(HardState(3), entries=log)})
        leader = net.nodes["n1"]
        net.now = leader.next_deadline()
        net.absorb("n1", leader.tick(net.now))  # candidate, term 4
        for peer in ("n2", "n3"):
            net.absorb("n1", leader.step(peer, RequestVoteReply(term=4, granted=True), net.now))
        net.queue.clear()
        assert (leader.role, leader.term, leader.log.last_index) == ("leader", 4, 3)  # its no-op at 3
        # A majority (n1, n2, n3) now holds index 2, of term 2: still not committed.
        for peer in ("n2", "n3"):
            leader.step(peer, AppendEntriesReply(term=4, success=True, match_index=2), net.now)
        assert leader.commit_index == 0
        # Once an entry of term 4 (the no-op) is on a majority, it and everything before it commit.
        leader.step("n2", AppendEntriesReply(term=4, success=True, match_index=3), net.now)
        assert leader.commit_index == 0
        leader.step("n3", AppendEntriesReply(term=4, success=True, match_index=3), net.now)
        assert (leader.commit_index, leader.applied_index) == (3, 3)

    def test_entries_apply_in_order_exactly_once(self) -> None:
        """Figure 2: "If commitIndex > lastApplied: increment lastApplied, apply log[lastApplied]",
        in order and once, however often the commit index is repeated."""
        net = Net(3)
        net.elect("n1")
        follower = net.nodes["n2"]
        follower.applied_trace = []
        for i in range(4):
            net.request("n1", KVCommand(KVOp.APPEND, "k", str(i)))
        net.stabilize()
        for _ in range(3):
            net.heartbeat("n1")
            net.stabilize()
        assert [index for index, *_ in follower.applied_trace] == [2, 3, 4, 5]
        assert follower.state_machine.data == {"k": "0123"}


# --------------------------------------------------------------------------- clients


class TestClientRequests:
    def test_follower_answers_not_leader_with_a_hint(self) -> None:
        """A follower answers at once, NOT_LEADER, naming the leader it knows (definitely not applied)."""
        net = Net(3)
        net.elect("n1")
        rid = net.request("n2", put("x", "1"))
        assert net.replies[rid] == KVResult(KVCode.NOT_LEADER, leader_hint="n1", error="not the leader")

    def test_no_leader_known_means_an_empty_hint(self) -> None:
        """Before any election a node knows no leader: NOT_LEADER with an empty hint."""
        net = Net(3)
        rid = net.request("n2", get("x"))
        assert net.replies[rid].code == KVCode.NOT_LEADER and net.replies[rid].leader_hint == ""

    def test_unknown_operation_is_a_bad_request(self) -> None:
        """An operation the store does not know is refused, not logged."""
        net = Net(1)
        leader = net.elect("n1")
        rid = net.request("n1", KVCommand(99, "x"))  # type: ignore[arg-type]
        assert net.replies[rid].code == KVCode.BAD_REQUEST and leader.log.last_index == 1

    def test_lost_leadership_answers_pending_writes_unavailable(self) -> None:
        """A leader deposed before its entry commits cannot know the outcome: UNAVAILABLE, with the
        new leader as hint when it knows it, so the client retries with the same (session, seq)."""
        net = Net(3)
        old = net.elect("n1")
        net.cut = {"n1"}
        rid = net.request("n1", put("x", "1"))
        net.stabilize()
        net.elect("n2")  # without n1
        assert rid not in net.replies
        net.cut = set()
        net.queue.clear()
        net.heartbeat("n2")
        net.deliver()  # n1 hears the term-2 leader
        assert old.role == "follower"
        assert net.replies[rid] == KVResult(
            KVCode.UNAVAILABLE, leader_hint="n2", error="leadership lost; outcome unknown"
        )
        net.stabilize()
        assert old.log.term_at(2) == 2  # the unanswered entry was overwritten by n2's no-op

    def test_a_burst_is_one_input_and_its_writes_share_an_entry(self) -> None:
        """request_many: the writes go into one log entry in the given order, reads wait for their
        confirmation, a bad operation is refused alone; one persist for the burst, and each request
        answered once, its write at the entry's index."""
        net = Net(3)
        leader = net.elect("n1")
        burst = [(11, put("a", "1")), (12, get("a")), (13, KVCommand(99, "x")), (14, put("a", "2")),  # type: ignore[arg-type]
                 (15, KVCommand(KVOp.APPEND, "a", "+"))]
        out = net.absorb("n1", leader.request_many(burst, net.now))
        assert [e.index for e in out.persist.entries] == [2]
        assert decode_commands(out.persist.entries[0].data) == [put("a", "1"), put("a", "2"), KVCommand(KVOp.APPEND, "a", "+")]
        assert out.replies == [(13, KVResult(KVCode.BAD_REQUEST, error="unknown operation 99"))]
        net.stabilize()
        assert [net.replies[r] for r in (11, 14, 15)] == [KVResult(KVCode.OK, index=2)] * 3
        # The read's index is the commit index it arrived at; it is served once that is applied and
        # may see the burst's writes too (they were concurrent with it, so either is linearizable).
        assert net.replies[12].index == 1 and net.replies[12].value in ("", "1", "2", "2+")
        assert all(core.state_machine.data == {"a": "2+"} for core in net.nodes.values())

    def test_a_long_burst_is_split_into_entries_of_at_most_256_writes(self) -> None:
        """Bursts share entries only up to a bound, so one entry stays far below a message's size limit."""
        net = Net(3)
        leader = net.elect("n1")
        out = net.absorb("n1", leader.request_many([(i, put(f"k{i}", str(i))) for i in range(600)], net.now))
        assert [len(decode_commands(e.data)) for e in out.persist.entries] == [256, 256, 88]
        net.stabilize()
        assert sorted({r.index for r in net.replies.values()}) == [2, 3, 4] and len(net.replies) == 600
        assert all(core.state_machine.data == {f"k{i}": str(i) for i in range(600)} for core in net.nodes.values())

    def test_a_retried_write_in_a_burst_applies_once(self) -> None:
        """Sessions work per command inside a shared entry: a retry in the same burst is answered
        with the first one's result and not applied again."""
        net = Net(3)
        net.elect("n1")
        cmd = KVCommand(KVOp.APPEND, "k", "x", session=net.register("n1"), seq=1)
        net.absorb("n1", net.nodes["n1"].request_many([(101, cmd), (102, cmd)], net.now))
        net.stabilize()
        assert net.replies[101] == net.replies[102] == KVResult(KVCode.OK, index=3)
        assert all(core.state_machine.data == {"k": "x"} for core in net.nodes.values())

    def test_a_burst_at_a_follower_is_refused_whole(self) -> None:
        """Every request of a burst sent to a follower is answered NOT_LEADER, with the hint."""
        net = Net(3)
        net.elect("n1")
        out = net.absorb("n2", net.nodes["n2"].request_many([(1, put("x", "1")), (2, get("x"))], net.now))
        assert out.persist is None and [rid for rid, _ in out.replies] == [1, 2]
        assert all(r.code == KVCode.NOT_LEADER and r.leader_hint == "n1" for _, r in out.replies)

    def test_retry_is_applied_once(self) -> None:
        """Thesis §6.3: a retried write (same session and seq) is logged twice but applied once, and
        both copies are answered with the first one's result."""
        net = Net(3)
        net.elect("n1")
        session = net.register("n1")
        first = net.request("n1", KVCommand(KVOp.APPEND, "k", "x", session=session, seq=1))
        again = net.request("n1", KVCommand(KVOp.APPEND, "k", "x", session=session, seq=1))
        net.stabilize()
        assert net.replies[first] == net.replies[again] == KVResult(KVCode.OK, index=3)
        assert all(core.state_machine.data == {"k": "x"} for core in net.nodes.values())

    def test_stale_sequence_is_refused(self) -> None:
        """A write older than the session's last applied one is refused ("stale sequence")."""
        net = Net(1)
        net.elect("n1")
        session = net.register("n1")
        net.request("n1", put("x", "new", session, 2))
        rid = net.request("n1", put("x", "old", session, 1))
        assert net.replies[rid].code == KVCode.BAD_REQUEST and "stale sequence" in net.replies[rid].error
        assert net.nodes["n1"].state_machine.data == {"x": "new"}


class TestReadIndex:
    def leader_with_data(self, n: int = 3) -> tuple[Net, RaftNode]:
        net = Net(n)
        leader = net.elect("n1")
        net.request("n1", put("x", "1"))
        net.stabilize()
        return net, leader

    def test_read_waits_for_a_quorum_heartbeat_round(self) -> None:
        """Thesis §6.4: the leader records its commit index as the read index, then sends a heartbeat round
        and answers only once a majority acknowledged it (it might have been deposed meanwhile)."""
        net, leader = self.leader_with_data(5)
        rid = net.request("n1", get("x"))
        assert rid not in net.replies and leader.next_deadline() == net.now
        tick = net.absorb("n1", leader.tick(net.now))
        beats = sent(tick, AppendEntries)
        assert len(beats) == 4 and {m.read_ctx for _, m in beats} == {1} and all(not m.entries for _, m in beats)
        net.deliver(only=lambda s, d, m: d == "n2")  # n2 hears it
        net.deliver(only=lambda s, d, m: s == "n2")  # and answers: 2 of 5
        assert rid not in net.replies
        net.deliver(only=lambda s, d, m: d == "n3")
        net.deliver(only=lambda s, d, m: s == "n3")  # 3 of 5: a majority
        assert net.replies[rid] == KVResult(KVCode.OK, value="1", index=2)

    def test_an_older_round_does_not_confirm_a_newer_read(self) -> None:
        """An echo of a round sent before the read arrived proves nothing about leadership after it."""
        net, leader = self.leader_with_data(3)
        first = net.request("n1", get("x"))
        net.absorb("n1", leader.tick(net.now))  # round 1 goes out
        second = net.request("n1", get("x"))  # round 2, not sent yet
        out = leader.step("n2", AppendEntriesReply(term=1, success=True, match_index=2, read_ctx=1), net.now)
        assert [rid for rid, _ in out.replies] == [first]  # n1 and n2: a majority for round 1
        out = leader.step("n3", AppendEntriesReply(term=1, success=True, match_index=2, read_ctx=1), net.now)
        assert out.replies == []  # round 1 says nothing about the read that came after it
        out = leader.step("n2", AppendEntriesReply(term=1, success=True, match_index=2, read_ctx=2), net.now)
        assert [rid for rid, _ in out.replies] == [second]

    def test_reads_arriving_together_share_a_round(self) -> None:
        """Reads that arrive before the next tick join one heartbeat round."""
        net, leader = self.leader_with_data(3)
        rids = [net.request("n1", get("x")) for _ in range(5)]
        tick = net.absorb("n1", leader.tick(net.now))
        assert len(sent(tick, AppendEntries)) == 2
        net.stabilize()
        assert all(net.replies[r].value == "1" for r in rids)

    def test_a_new_leader_answers_only_after_its_noop_is_applied(self) -> None:
        """Thesis §6.4: until an entry of its own term is committed a new leader may not know the latest
        commit index; its read index is at least its no-op's, and the read waits for that to apply."""
        log = [normal(1, 1, put("x", "old"))]
        net = Net(3, logs={n: RaftDurable(HardState(1), entries=log) for n in ("n1", "n2", "n3")})
        leader = net.nodes["n1"]
        net.now = leader.next_deadline()
        net.absorb("n1", leader.tick(net.now))
        net.deliver()  # votes
        net.deliver()  # n1 wins, sends its no-op (index 2)
        assert leader.role == "leader" and leader.commit_index == 0
        net.queue.clear()  # the no-op is lost
        rid = net.request("n1", get("x"))
        net.absorb("n1", leader.tick(net.now))  # heartbeat round with read_ctx
        # The followers confirm leadership, but their answers cannot commit the no-op (they lack it).
        net.deliver(only=lambda s, d, m: isinstance(m, AppendEntries))
        net.deliver()
        assert rid not in net.replies and leader.commit_index == 0
        net.heartbeat("n1")  # the no-op goes again (probe resend), and now it commits
        net.stabilize()
        assert net.replies[rid] == KVResult(KVCode.OK, value="old", index=2)

    def test_single_node_reads_at_once(self) -> None:
        """A single node is its own majority: a read is answered in the step that receives it."""
        net = Net(1)
        net.elect("n1")
        net.request("n1", put("x", "1"))
        out = net.nodes["n1"].request(50, get("x"), net.now)
        assert out.replies == [(50, KVResult(KVCode.OK, value="1", index=2))]

    def test_missing_key_reads_not_found(self) -> None:
        """A read of a key never written answers NOT_FOUND (with the read index)."""
        net = Net(1)
        net.elect("n1")
        out = net.nodes["n1"].request(50, get("nope"), net.now)
        assert out.replies == [(50, KVResult(KVCode.NOT_FOUND, index=1))]

    def test_deposed_leader_answers_pending_reads_not_leader(self) -> None:
        """A read never confirmed by a majority is refused once leadership is lost (safe to retry)."""
        net, _ = self.leader_with_data(3)
        net.cut = {"n1"}
        rid = net.request("n1", get("x"))
        net.stabilize()
        net.cut = set()
        net.queue.clear()
        net.elect("n2")  # n1 learns of term 2 from n2's vote request: no leader known yet
        assert net.replies[rid] == KVResult(KVCode.NOT_LEADER, error="leadership lost")


# --------------------------------------------------------------------------- snapshots


class TestSnapshots:
    def test_applied_bytes_trigger_a_snapshot_too(self) -> None:
        """Entries can hold a burst of writes each, so the log is also bounded by bytes: a snapshot is
        taken once the entry data applied since the last one reaches snapshot_threshold_bytes."""
        net = Net(3, snapshot_threshold=1000, snapshot_threshold_bytes=2000)
        leader = net.elect("n1")
        net.absorb("n1", leader.request_many([(1000 + i, put(f"k{i}", "v" * 14)) for i in range(40)], net.now))
        net.stabilize()
        assert leader.log.snapshot_index == 0  # one entry of about 1,900 bytes: under both thresholds
        net.absorb("n1", leader.request_many([(2000 + i, put(f"j{i}", "v" * 14)) for i in range(10)], net.now))
        net.stabilize()
        assert all(core.log.snapshot_index == 3 for core in net.nodes.values())  # 2 entries, over 2,000 bytes
        net.request("n1", put("x", "1"))
        net.stabilize()
        assert leader.log.snapshot_index == 3  # counting starts again from the snapshot

    def test_leader_defers_compaction_while_a_follower_trails(self) -> None:
        """A replicating follower that has not been sent the entries a snapshot would compact keeps the
        leader from compacting them, up to twice the threshold; then it compacts anyway."""
        net = Net(3, snapshot_threshold=5, max_inflight=1)
        leader = net.elect("n1")
        net.cut = {"n3"}  # n3 stays in replicate with its one AppendEntries unanswered
        for i in range(8):
            net.request("n1", put("k", str(i)))
            net.stabilize()
        assert leader.applied_index == 9 and leader.progress["n3"].next_index <= 9
        assert leader.log.snapshot_index == 0  # 9 applied >= threshold 5, but n3 still needs them
        net.request("n1", put("k", "8"))
        net.stabilize()
        assert leader.log.snapshot_index == 10  # 10 applied: twice the threshold, compacted regardless
        net.cut = set()
        for _ in range(6):
            net.heartbeat("n1")
            net.stabilize()
        assert net.nodes["n3"].state_machine.data == {"k": "8"} and net.nodes["n3"].log.snapshot_index == 10

    def test_snapshot_is_taken_every_threshold_entries(self) -> None:
        """§7: once applied - snapshot index >= snapshot_threshold the state machine is snapshotted at the
        applied index, persisted, and the log compacted."""
        net = Net(1, snapshot_threshold=5)
        leader = net.elect("n1")
        outs = [net.absorb("n1", leader.request(i, put("k", str(i)), net.now)) for i in range(4)]
        assert all(o.persist.snapshot is None for o in outs[:3])
        snap = outs[3].persist.snapshot
        assert (snap.index, snap.term) == (5, 1) and snap.data == leader.state_machine.snapshot()
        assert outs[3].persist.entries == []  # covered by the snapshot
        assert [e.data for e in outs[3].events if e.kind == "snapshot"] == [{"index": 5, "term": 1, "how": "taken"}]
        assert (leader.log.snapshot_index, leader.log.entries) == (5, [])
        assert net.disks["n1"].snapshot == snap and net.disks["n1"].entries == []

    def test_lagging_follower_gets_the_snapshot_in_chunks_in_any_order(self) -> None:
        """§7: a follower that needs compacted entries gets InstallSnapshot, here in chunks of
        snapshot_chunk_bytes (offset/done); it assembles them whatever their order, installs, and the
        leader then replicates the rest normally."""
        net = Net(3, snapshot_threshold=10, snapshot_chunk_bytes=64)
        leader = net.elect("n1")
        session = net.register("n1")  # the snapshot carries its session table too
        net.cut = {"n3"}
        for i in range(30):
            net.request("n1", put(f"key{i % 4}", "v" * 20 + str(i), session, i + 1))
            net.stabilize()
        assert leader.log.snapshot_index >= 10
        net.cut = set()
        # The AppendEntries sent while n3 was cut off are lost; after heartbeat rounds without an
        # answer the leader probes from what n3 is known to hold, which is compacted: snapshot.
        chunks = net.until_sent(InstallSnapshot)
        assert len(chunks) >= 3 and leader.progress["n3"].state == SNAPSHOT
        assert [c.offset for c in chunks] == list(range(0, 64 * len(chunks), 64))
        assert [c.done for c in chunks] == [False] * (len(chunks) - 1) + [True]
        net.queue.reverse()  # deliver the chunks last-first
        net.stabilize()
        n3 = net.nodes["n3"]
        # n3 installed the snapshot, then got the rest from the log (and may have compacted it itself)
        assert n3.log.snapshot_index >= chunks[0].last_index and n3.state_machine == leader.state_machine
        assert (n3.applied_index, leader.progress["n3"].state) == (leader.applied_index, REPLICATE)
        assert net.disks["n3"].snapshot.index >= chunks[0].last_index

    def test_lost_chunk_is_resent(self) -> None:
        """With no answer to its snapshot for two maximum election timeouts, the leader sends it again;
        the follower completes it from the resend."""
        net = Net(3, snapshot_threshold=5, snapshot_chunk_bytes=16)
        leader = net.elect("n1")
        net.cut = {"n3"}
        for i in range(8):
            net.request("n1", put("k", str(i)))
            net.stabilize()
        net.cut = set()
        first = net.until_sent(InstallSnapshot)
        assert len(first) >= 2
        net.queue = [q for q in net.queue if q[2] is not first[0]]  # chunk 0 is lost
        sent_at = net.now
        net.deliver()
        assert leader.progress["n3"].state == SNAPSHOT and net.nodes["n3"].log.snapshot_index == 0
        again = net.until_sent(InstallSnapshot)
        assert [m.offset for m in again] == [m.offset for m in first]
        assert net.now - sent_at >= 2 * 0.300
        net.stabilize()
        assert net.nodes["n3"].state_machine == leader.state_machine and leader.progress["n3"].state == REPLICATE

    def test_follower_already_past_the_snapshot_says_so(self) -> None:
        """A snapshot at or below the follower's commit index is not installed; the answer gives its
        commit index, so the leader moves on."""
        net = Net(3)
        net.elect("n1")
        net.request("n1", put("x", "1"))
        net.stabilize()
        n2 = net.nodes["n2"]
        out = n2.step("n1", InstallSnapshot(term=1, leader="n1", last_index=1, last_term=1, data=b"{}"), net.now)
        assert out.messages == [("n1", InstallSnapshotReply(term=1, last_index=2, success=True))]
        assert n2.log.snapshot_index == 0

    def test_terms_are_known_at_the_snapshot_boundary(self) -> None:
        """After compaction the leader still knows the term at its snapshot index, so an AppendEntries
        right after it passes the follower's consistency check."""
        net = Net(2, snapshot_threshold=3)
        leader = net.elect("n1")
        for i in range(3):
            net.request("n1", put("k", str(i)))
        net.stabilize()
        assert leader.log.snapshot_index >= 3 and leader.log.entries == []
        rid = net.request("n1", put("k", "after"))
        tick = net.absorb("n1", leader.tick(net.now))
        ((_, m),) = sent(tick, AppendEntries)
        snap = leader.log.snapshot_index
        assert (m.prev_log_index, m.prev_log_term, [e.index for e in m.entries]) == (snap, 1, [snap + 1])
        net.stabilize()
        assert net.replies[rid].code == KVCode.OK and net.nodes["n2"].state_machine.data == {"k": "after"}


# --------------------------------------------------------------------------- durability


class TestDurability:
    def test_restart_from_the_durable_model_restores_everything(self) -> None:
        """A node rebuilt from the RaftDurable its persists were applied to has the same term, vote,
        log, snapshot and state machine: the driver's "persist" is all that survives."""
        net = Net(3, snapshot_threshold=7)
        net.elect("n1")
        session = net.register("n1")
        for i in range(20):
            net.request("n1", put(f"k{i % 3}", str(i), session, i + 1))
            if i % 4 == 0:
                net.stabilize()
        net.stabilize()
        for node in net.ids:
            before = net.nodes[node]
            store = KVStore(net.config.max_sessions)
            after = RaftNode(node, net.ids, net.config, random.Random(0), net.disks[node].restore(), store)
            after.start(net.now)
            assert (after.term, after.voted_for) == (before.term, before.voted_for)
            assert (after.log.snapshot_index, after.log.snapshot_term) == (
                before.log.snapshot_index,
                before.log.snapshot_term,
            )
            assert after.log.entries == before.log.entries
            assert after.commit_index <= before.commit_index
            assert after.applied_index == after.commit_index
            assert after.commit_index >= after.log.snapshot_index >= 7
            if after.commit_index == before.commit_index:
                assert after.state_machine == before.state_machine

    def test_persisted_commit_index_never_goes_backwards(self) -> None:
        """The commit index rides along lazily with entries, but every persisted value is >= the last one."""
        net = Net(3)
        net.elect("n1")
        for i in range(10):
            net.request("n1", put("k", str(i)))
            net.stabilize()
        for node in net.ids:
            commits = [p.hard_state.commit for p in net.persists[node] if p.hard_state is not None]
            assert commits == sorted(commits)
            assert net.disks[node].hard_state.commit <= net.nodes[node].commit_index

    def test_crashed_leader_rejoins_and_catches_up(self) -> None:
        """A leader that crashes and restarts from its disk rejoins as follower and converges."""
        net = Net(3)
        net.elect("n1")
        net.request("n1", put("x", "1"))
        net.stabilize()
        net.cut = {"n1"}
        net.queue.clear()
        net.elect("n2")
        net.request("n2", put("x", "2"))
        net.stabilize()
        net.cut = set()
        net.boot("n1")
        net.heartbeat("n2")
        net.stabilize()
        assert net.nodes["n1"].role == "follower" and net.nodes["n1"].state_machine.data == {"x": "2"}

    def test_entries_are_persisted_in_the_step_that_acknowledges_them(self) -> None:
        """Figure 2: a follower's success reply and the entries it covers leave in one Output, persist
        first, so an acknowledged entry is on disk."""
        net = Net(3)
        net.elect("n1")
        net.request("n1", put("x", "1"))
        net.tick_due()
        ((src, _, m),) = [q for q in net.queue if q[1] == "n2"]
        out = net.nodes["n2"].step(src, m, net.now)
        assert out.persist.entries == m.entries
        assert out.messages == [("n1", AppendEntriesReply(term=1, success=True, match_index=2))]


# --------------------------------------------------------------------------- status


class TestStatus:
    def test_raft_status_fields(self) -> None:
        """status() reports commit/applied/last/snapshot indexes, the leader's per-follower progress,
        and the log tail when asked, all accepted by ParseDict into NodeStatus."""
        net = Net(3, snapshot_threshold=100)
        leader = net.elect("n1")
        net.request("n1", put("k1", "7"))
        net.request("n1", KVCommand(KVOp.CAS, "k1", "4", expected="3"))
        net.stabilize()
        status = leader.status(net.now, log_tail=2)
        raft = status["raft"]
        assert (raft["commit_index"], raft["applied_index"], raft["last_index"]) == (3, 3, 3)
        assert raft["log_tail"] == [
            {"index": 2, "term": 1, "kind": "ENTRY_KIND_SUMMARY_NORMAL", "text": "put k1=7"},
            {"index": 3, "term": 1, "kind": "ENTRY_KIND_SUMMARY_NORMAL", "text": "cas k1 3→4"},
        ]
        assert [(p["peer"], p["match_index"], p["state"]) for p in raft["progress"]] == [
            ("n2", 3, "replicate"),
            ("n3", 3, "replicate"),
        ]
        ParseDict(status, node_pb2.NodeStatus())
        assert leader.status(net.now)["raft"]["log_tail"] == []
        assert net.nodes["n2"].status(net.now, log_tail=5)["raft"]["log_tail"][0]["text"] == "noop"
        assert net.nodes["n2"].status(net.now)["raft"]["progress"] == []

    def test_progress_states(self) -> None:
        """etcd's flow control: a new leader probes each follower; one that acknowledged is replicated to."""
        net = Net(3)
        leader = net.nodes["n1"]
        net.now = leader.next_deadline()
        net.absorb("n1", leader.tick(net.now))
        net.deliver()
        net.deliver()
        assert leader.role == "leader" and {p.state for p in leader.progress.values()} == {PROBE}
        net.stabilize()
        assert {p.state for p in leader.progress.values()} == {REPLICATE}


# --------------------------------------------------------------------------- settings


class TestSettings:
    def test_defaults(self) -> None:
        """Replication and snapshot settings default to 512 entries / 1 MiB per AppendEntries, 8 in
        flight, a snapshot every 10,000 entries or 8 MiB sent in 256 KiB chunks, 10,000 client sessions."""
        config = parse_config({})
        assert (config.max_batch_entries, config.max_batch_bytes, config.max_inflight) == (512, 1 << 20, 8)
        assert (config.snapshot_threshold, config.snapshot_threshold_bytes, config.snapshot_chunk_bytes) == (
            10_000, 8 << 20, 256 << 10)
        assert config.max_sessions == 10_000

    @pytest.mark.parametrize(
        "key",
        ["max_batch_entries", "max_batch_bytes", "max_inflight", "snapshot_threshold", "snapshot_threshold_bytes",
         "snapshot_chunk_bytes"],
    )
    @pytest.mark.parametrize("value", [0, -1, 1.5, "8", True])
    def test_counts_must_be_positive_whole_numbers(self, key: str, value: Any) -> None:
        """Each is a whole number >= 1; anything else is one line naming the key."""
        with pytest.raises(ValueError) as info:
            parse_config({key: value})
        assert f"raft.{key}" in str(info.value) and "\n" not in str(info.value)

    def test_values_are_read(self) -> None:
        """A setting given is the setting used."""
        config = parse_config({"max_inflight": 2, "snapshot_threshold": 50, "max_sessions": 3})
        assert (config.max_inflight, config.snapshot_threshold, config.max_sessions) == (2, 50, 3)


# --------------------------------------------------------------------------- interaction scripts

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "raft"


def _show_entries(entries: list[Entry]) -> str:
    return "[" + ", ".join(f"{e.index}/{e.term} {_entry_text(e)}" for e in entries) + "]"


def _entry_text(e: Entry) -> str:
    if e.kind == EntryKind.NOOP:
        return "noop"
    return describe(decode_command(e.data))


def _show_message(src: str, dst: str, m: Any) -> str:
    name = type(m).__name__
    if isinstance(m, AppendEntries):
        body = f"term={m.term} prev={m.prev_log_index}/{m.prev_log_term} commit={m.leader_commit}"
        if m.entries:
            body += f" entries={_show_entries(m.entries)}"
        if m.read_ctx:
            body += f" read_ctx={m.read_ctx}"
    elif isinstance(m, AppendEntriesReply):
        if m.success:
            body = f"term={m.term} ok match={m.match_index}"
        else:
            body = f"term={m.term} reject prev={m.match_index} hint={m.conflict_index}/{m.conflict_term}"
        if m.read_ctx:
            body += f" read_ctx={m.read_ctx}"
    elif isinstance(m, RequestVote):
        body = f"term={m.term} last={m.last_log_index}/{m.last_log_term}" + (" pre" if m.pre_vote else "")
    elif isinstance(m, RequestVoteReply):
        body = f"term={m.term} {'granted' if m.granted else 'refused'}" + (" pre" if m.pre_vote else "")
    elif isinstance(m, InstallSnapshot):
        body = f"term={m.term} snap={m.last_index}/{m.last_term} offset={m.offset} bytes={len(m.data)}"
        body += " done" if m.done else ""
    elif isinstance(m, InstallSnapshotReply):
        body = f"term={m.term} last={m.last_index} {'ok' if m.success else 'failed'}"
    else:
        body = repr(m)
    return f"{src}->{dst} {name} {body}"


def _parse_command(words: list[str]) -> KVCommand:
    op, *rest = words
    if op == "put":
        key, _, value = rest[0].partition("=")
        return put(key, value)
    if op == "get":
        return get(rest[0])
    if op == "cas":
        key, old, new = rest
        return KVCommand(KVOp.CAS, key, new, expected=old)
    raise ValueError(f"unknown command {op!r}")


class Script:
    """Runs one interaction script against a :class:`Net`; each command prints what it caused."""

    def __init__(self) -> None:
        self.net: Net | None = None

    def run(self, line: str) -> list[str]:
        words = line.split()
        verb, args = words[0], words[1:]
        net = self.net
        if verb == "cluster":
            options = dict(a.split("=", 1) for a in args)
            n = int(options.pop("nodes", "3"))
            self.net = Net(n, **{k: int(v) for k, v in options.items()})
            return []
        assert net is not None, "start with: cluster nodes=N"
        if verb == "campaign":
            core = net.nodes[args[0]]
            net.now = max(net.now, core.next_deadline())
            net.absorb(args[0], core.tick(net.now))
            return [f"{args[0]} is {core.role} at term {core.term}"]
        if verb == "propose":
            rid = net.request(args[0], _parse_command(args[1:]))
            return [f"request {rid} -> {args[0]}"] + self._replies()
        if verb == "heartbeat":
            net.heartbeat(args[0])
            return []
        if verb == "cut":
            net.cut = set(args)
            return []
        if verb in ("deliver", "stabilize"):
            lines: list[str] = []
            for _ in range(1 if verb == "deliver" else 100):
                if verb == "stabilize":
                    net.tick_due()
                start = len(net.delivered)
                if not net.deliver() and not net.queue:
                    break
                lines += [_show_message(*d) for d in net.delivered[start:]]
            return lines + self._replies()
        if verb == "status":
            lines = []
            for node, core in net.nodes.items():
                log = _show_entries(core.log.entries)
                lines.append(
                    f"{node} {core.role} term={core.term} commit={core.commit_index} applied={core.applied_index} "
                    f"snapshot={core.log.snapshot_index}/{core.log.snapshot_term} log={log} kv={core.state_machine.data}"
                )
            return lines
        raise ValueError(f"unknown script command {verb!r}")

    def _replies(self) -> list[str]:
        assert self.net is not None
        lines = []
        for rid in sorted(self.net.replies):
            r = self.net.replies.pop(rid)
            extra = f" value={r.value!r}" if r.value else ""
            extra += f" hint={r.leader_hint}" if r.leader_hint else ""
            lines.append(f"reply {rid}: {KVCode(r.code).name} index={r.index}{extra}")
        return lines


def run_golden(text: str) -> str:
    """Blocks of ``command`` lines, ``----``, then the output they produced; returns the regenerated text."""
    script = Script()
    out: list[str] = []
    blocks = [b for b in text.strip("\n").split("\n\n") if b.strip()]
    for block in blocks:
        lines = block.split("\n")
        commands = lines[: lines.index("----")] if "----" in lines else lines
        produced: list[str] = []
        for command in commands:
            if not command.startswith("#"):
                produced += script.run(command)
        out.append("\n".join([*commands, "----", *produced]))
    return "\n\n".join(out) + "\n"


class TestInteractionScripts:
    """etcd-style interaction tests: tests/golden/raft/*.txt hold commands and the exact messages and
    states they produce. Regenerate with ``pytest tests/unit/test_raft_replication.py --update-golden``
    and review the diff."""

    @pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.txt")), ids=lambda p: p.stem)
    def test_script(self, path: Path, request: pytest.FixtureRequest) -> None:
        """The script's output matches its golden text."""
        text = path.read_text()
        produced = run_golden(text)
        if request.config.getoption("update_golden"):
            path.write_text(produced)
        assert produced == text

    def test_there_are_scripts(self) -> None:
        """The golden directory is not empty (a missing directory would silently test nothing)."""
        assert len(list(GOLDEN.glob("*.txt"))) >= 2

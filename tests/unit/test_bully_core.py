"""The Bully core, message by message (Garcia-Molina 1982), with no driver: each test names the rule it checks."""

from __future__ import annotations

import random

import pytest

from chaoslab.algorithms.bully.config import parse_config
from chaoslab.algorithms.bully.core import COORDINATOR, ELECTING, MEMBER, BullyNode
from chaoslab.algorithms.bully.messages import (
    BullyAnswer,
    BullyCoordinator,
    BullyElection,
    BullyHeartbeat,
    BullyHeartbeatReply,
)
from chaoslab.algorithms.registry import get_algorithm
from chaoslab.lab.spec import build_spec
from chaoslab.errors import LabError

NODES = ["n1", "n2", "n3", "n4", "n5"]


def node(node_id: str, durable=None, **config) -> BullyNode:
    return BullyNode(node_id, NODES, config, random.Random(0), durable)


def sent(out, kind=None):
    return [(dst, m) for dst, m in out.messages if kind is None or isinstance(m, kind)]


def kinds(out):
    return [e.kind for e in out.events]


class TestElection:
    def test_a_starting_node_asks_every_higher_id(self) -> None:
        """A node that starts holds an election: ELECTION to each higher id, and waits for an ANSWER."""
        n3 = node("n3")
        out = n3.start(0.0)
        assert sent(out) == [("n4", BullyElection(0)), ("n5", BullyElection(0))]
        assert n3.role == ELECTING and n3.next_deadline() == pytest.approx(0.15)

    def test_the_highest_id_takes_over_at_once(self) -> None:
        """With nobody above it, a node announces COORDINATOR of a new epoch to all, persisted first."""
        n5 = node("n5")
        out = n5.start(0.0)
        assert out.persist == {"epoch": 1, "accepted": "n5"}
        assert sent(out) == [(p, BullyCoordinator(1, "n5")) for p in NODES[:4]]
        assert n5.role == COORDINATOR and n5.coordinator == "n5"
        assert kinds(out) == ["election", "term", "role", "leader"]

    def test_no_answer_in_time_means_take_over(self) -> None:
        """An ELECTION unanswered within answer_timeout: the node becomes coordinator."""
        n3 = node("n3")
        n3.start(0.0)
        assert n3.tick(0.1).messages == []
        out = n3.tick(0.15)
        assert n3.role == COORDINATOR and sent(out, BullyCoordinator)

    def test_an_answer_then_no_coordinator_restarts_the_election(self) -> None:
        """ANSWER received; no COORDINATOR within coordinator_wait: ELECTION again."""
        n3 = node("n3")
        n3.start(0.0)
        n3.step("n5", BullyAnswer(0), 0.05)
        assert n3.tick(0.15).messages == []  # the answer stops the take-over
        assert n3.next_deadline() == pytest.approx(0.45)
        out = n3.tick(0.45)
        assert sent(out) == [("n4", BullyElection(0)), ("n5", BullyElection(0))]
        assert n3.elections_started == 2

    def test_election_from_below_gets_an_answer_and_an_election_of_ones_own(self) -> None:
        """A member that gets ELECTION from a lower id answers it and holds its own election."""
        n4 = node("n4")
        n4.start(0.0)
        n4.step("n5", BullyCoordinator(1, "n5"), 0.01)
        assert n4.role == MEMBER
        out = n4.step("n2", BullyElection(1), 0.02)
        assert ("n2", BullyAnswer(1)) in sent(out)
        assert ("n5", BullyElection(1)) in sent(out) and n4.role == ELECTING

    def test_a_coordinator_answers_and_reannounces_to_a_lost_node(self) -> None:
        """ELECTION reaching the coordinator: ANSWER, and COORDINATOR to the node that lost it."""
        n5 = node("n5")
        n5.start(0.0)
        out = n5.step("n1", BullyElection(1), 0.3)
        assert sent(out) == [("n1", BullyAnswer(1)), ("n1", BullyCoordinator(1, "n5"))]


class TestFollowing:
    def test_coordinator_from_above_is_followed_and_acknowledged(self) -> None:
        """COORDINATOR from a higher id with a newer epoch: follow it, persist, reply ok."""
        n2 = node("n2")
        n2.start(0.0)
        out = n2.step("n5", BullyCoordinator(3, "n5"), 0.01)
        assert (n2.role, n2.coordinator, n2.epoch) == (MEMBER, "n5", 3)
        assert out.persist == {"epoch": 3, "accepted": "n5"}
        assert sent(out) == [("n5", BullyHeartbeatReply(3, True))]

    def test_a_silent_coordinator_triggers_an_election(self) -> None:
        """No heartbeat for coordinator_timeout: the member holds an election."""
        n2 = node("n2")
        n2.start(0.0)
        n2.step("n5", BullyCoordinator(1, "n5"), 0.0)
        n2.step("n5", BullyHeartbeat(1), 0.1)
        assert n2.next_deadline() == pytest.approx(0.6)
        out = n2.tick(0.6)
        assert n2.role == ELECTING and len(sent(out, BullyElection)) == 3

    def test_a_claim_from_below_is_refused_and_bullied(self) -> None:
        """A coordinator hearing a lower id claim a newer epoch refuses it and takes over above it."""
        n5 = node("n5")
        n5.start(0.0)
        out = n5.step("n2", BullyHeartbeat(4), 0.2)
        assert ("n2", BullyHeartbeatReply(1, False)) in sent(out)
        assert n5.role == COORDINATOR and n5.epoch == 5
        assert ("n2", BullyCoordinator(5, "n5")) in sent(out)

    def test_an_older_epoch_from_above_is_refused_with_ours(self) -> None:
        """A higher id claiming an epoch older than the one we follow is told our epoch."""
        n2 = node("n2", {"epoch": 7, "accepted": "n3"})
        n2.start(0.0)
        out = n2.step("n5", BullyHeartbeat(3), 0.01)
        assert sent(out) == [("n5", BullyHeartbeatReply(7, False))]
        assert n2.coordinator == ""

    def test_a_coordinator_told_of_a_newer_epoch_announces_above_it(self) -> None:
        """The highest id, refused with a newer epoch, re-announces at once above it."""
        n5 = node("n5")
        n5.start(0.0)
        out = n5.step("n2", BullyHeartbeatReply(7, False), 0.2)
        assert n5.role == COORDINATOR and n5.epoch == 8
        assert sent(out, BullyCoordinator) == [(p, BullyCoordinator(8, "n5")) for p in NODES[:4]]

    def test_one_coordinator_per_epoch_is_accepted(self) -> None:
        """Having accepted n4 for epoch 2, a node refuses n5's claim of epoch 2 (but takes epoch 3)."""
        n2 = node("n2")
        n2.start(0.0)
        n2.step("n4", BullyCoordinator(2, "n4"), 0.0)
        out = n2.step("n5", BullyCoordinator(2, "n5"), 0.01)
        assert sent(out) == [("n5", BullyHeartbeatReply(2, False))] and n2.coordinator == "n4"
        n2.step("n5", BullyCoordinator(3, "n5"), 0.02)
        assert n2.coordinator == "n5"

    def test_a_restart_resumes_its_epoch(self) -> None:
        """A restarted coordinator announces above the epoch it persisted: never the same one twice."""
        n5 = node("n5", {"epoch": 4, "accepted": "n5"})
        out = n5.start(0.0)
        assert out.persist == {"epoch": 5, "accepted": "n5"}


class TestQuorum:
    def test_a_candidate_needs_a_majority_of_votes(self) -> None:
        """quorum: the candidate votes for itself and leads once a majority (3 of 5) replied ok."""
        n5 = node("n5", quorum=True)
        n5.start(0.0)
        assert n5.role == ELECTING and n5.status(0.0)["bully"]["votes"] == 1
        n5.step("n1", BullyHeartbeatReply(1, True), 0.01)
        assert n5.role == ELECTING
        n5.step("n1", BullyHeartbeatReply(1, True), 0.01)  # the same voter twice is one vote
        assert n5.role == ELECTING
        out = n5.step("n2", BullyHeartbeatReply(1, True), 0.02)
        assert n5.role == COORDINATOR and "role" in kinds(out)

    def test_without_a_majority_it_tries_again_higher(self) -> None:
        """No majority within coordinator_wait (plus jitter): a new election, then a newer epoch."""
        n5 = node("n5", quorum=True)
        n5.start(0.0)
        deadline = n5.next_deadline()
        assert 0.4 <= deadline <= 0.5
        out = n5.tick(deadline)
        assert n5.epoch == 2 and sent(out, BullyCoordinator)

    def test_a_coordinator_without_a_majority_steps_down(self) -> None:
        """quorum: heartbeats acknowledged by fewer than a majority for coordinator_timeout: step down."""
        n5 = node("n5", quorum=True)
        n5.start(0.0)
        n5.step("n1", BullyHeartbeatReply(1, True), 0.0)
        n5.step("n2", BullyHeartbeatReply(1, True), 0.0)
        assert n5.role == COORDINATOR
        t = 0.0
        while n5.role == COORDINATOR and t < 2.0:
            t = n5.next_deadline()
            out = n5.tick(t)
        assert n5.role == ELECTING and "lost_quorum" in kinds(out)
        assert 0.5 <= t <= 0.7


class TestConfig:
    def test_defaults_come_from_the_cluster_file(self) -> None:
        """clusters/bully.toml spells out every key; its values are the defaults."""
        spec = build_spec("bully")
        assert parse_config(spec.config) == parse_config({})

    @pytest.mark.parametrize(
        ("override", "message"),
        [
            ("bully.heartbeat_ms=0", "bully.heartbeat_ms must be a positive number"),
            ("bully.heartbeat_ms=900", "must be below bully.coordinator_timeout_ms"),
            ("bully.coordinator_wait_ms=100", "must exceed bully.answer_timeout_ms"),
            ("bully.quorum=3", "bully.quorum must be true or false"),
            ("bully.nope=1", "unknown key(s) bully.nope"),
        ],
    )
    def test_bad_values_are_one_line(self, override: str, message: str) -> None:
        """Every timeout is checked before anything starts, with a one-line error."""
        with pytest.raises(LabError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
            build_spec("bully", overrides=[override])
        assert "\n" not in str(err.value)

    def test_one_node_is_refused(self) -> None:
        """Bully with 1 node is bad input (min_nodes=2)."""
        with pytest.raises(LabError, match="--nodes must be between 2 and"):
            build_spec("bully", nodes=1)

    def test_the_spec_says_what_the_lab_needs(self) -> None:
        """Roles and their kinds, epochs, and the summary that names the priority order."""
        spec = get_algorithm("bully")
        assert dict(spec.roles) == {"member": "follow", "electing": "campaign", "coordinator": "lead"}
        assert (spec.term_name, spec.term_field, spec.detail) == ("epoch", "epoch", "bully")
        assert "n5 > n4" in spec.summary


class TestStatus:
    def test_status_goes_through_the_typed_proto(self) -> None:
        """The status dict fits NodeStatus.bully field by field (a typed detail, not JSON)."""
        from chaoslab.wire.status import status_to_dict, status_to_proto

        n5 = node("n5", quorum=True)
        n5.start(0.0)
        pb = status_to_proto(n5.status(0.0), "bully")
        assert pb.WhichOneof("detail") == "bully"
        back = status_to_dict(pb)
        assert back["bully"]["waiting"] == "votes" and back["bully"]["votes"] == 1 and back["bully"]["quorum"]
        assert back["bully"]["priority"] == 5

    def test_messages_cross_the_wire_as_typed_bodies(self) -> None:
        """Every Bully message has its reserved Envelope body and round-trips with its epoch."""
        from chaoslab.wire.codec import Codec

        codec = Codec(get_algorithm("bully").message_types, term_field="epoch")
        for msg in (BullyElection(2), BullyAnswer(2), BullyCoordinator(2, "n5"), BullyHeartbeat(2), BullyHeartbeatReply(2, True)):
            env = codec.encode("n1", "n2", msg)
            assert env.WhichOneof("body") != "plugin_message" and env.term == 2
            assert codec.decode(env) == msg

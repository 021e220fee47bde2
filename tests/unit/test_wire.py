"""The wire contract: generated code is current, and the codec round-trips every message."""

import dataclasses
from enum import IntEnum

import pytest

from chaoslab.algorithms.raft import messages as raft
from chaoslab.v1 import peer_pb2
from chaoslab.wire import regen
from chaoslab.wire.codec import Codec


class TestGeneratedCode:
    def test_committed_code_matches_proto(self):
        """Editing a .proto without `python -m chaoslab.wire.regen` fails here."""
        assert regen.stale_files() == []


class TestCodec:
    codec = Codec(raft.MESSAGE_TYPES)

    @pytest.mark.parametrize(
        "message",
        [
            raft.RequestVote(term=3, candidate="n2", last_log_index=7, last_log_term=2, pre_vote=True),
            raft.RequestVoteReply(term=3, granted=True),
            raft.AppendEntries(
                term=4, leader="n1", prev_log_index=9, prev_log_term=3,
                entries=[raft.Entry(10, 4, raft.EntryKind.NOOP), raft.Entry(11, 4, data=b"put k v")],
                leader_commit=9,
            ),
            raft.AppendEntriesReply(term=4, success=False, conflict_index=5, conflict_term=2),
            raft.InstallSnapshot(term=5, leader="n3", last_index=100, last_term=4, data=b"\x00snap"),
            raft.InstallSnapshotReply(term=5, last_index=100),
            raft.TimeoutNow(term=6),
        ],
        ids=lambda m: type(m).__name__,
    )
    def test_round_trip(self, message):
        """A message survives encode then decode unchanged, and the envelope carries its term."""
        env = self.codec.encode("n1", "n2", message, seq=42)
        wire = peer_pb2.Envelope.FromString(env.SerializeToString())
        assert (wire.src, wire.dst, wire.seq, wire.trace_id) == ("n1", "n2", 42, "n1-42")
        assert wire.term == message.term
        assert self.codec.decode(wire) == message

    def test_every_dataclass_field_exists_in_proto(self):
        """The dataclasses and peer.proto agree field by field (the codec refuses a mismatch)."""
        for cls in raft.MESSAGE_TYPES:
            proto_fields = set(getattr(peer_pb2, cls.__name__).DESCRIPTOR.fields_by_name)
            assert {f.name for f in dataclasses.fields(cls)} == proto_fields, cls.__name__

    def test_unknown_body_decodes_to_none(self):
        """A body of another algorithm is ignored, not misread."""
        env = peer_pb2.Envelope(src="n1", dst="n2", bully_election=peer_pb2.BullyElection(epoch=1))
        assert self.codec.decode(env) is None

    def test_a_typed_body_with_other_fields_is_refused(self):
        """A dataclass named like a body type must match its proto field by field."""

        @dataclasses.dataclass
        class RequestVote:
            term: int
            gossip: str

        with pytest.raises(TypeError, match="RequestVote.gossip"):
            Codec([RequestVote])

    def test_a_plain_class_is_refused(self):
        """Messages are dataclasses; anything else fails when the codec is built."""

        class Gossip:
            pass

        with pytest.raises(TypeError, match="Gossip"):
            Codec([Gossip])


class Colour(IntEnum):
    RED = 1
    BLUE = 2


@dataclasses.dataclass
class Rumour:
    text: str
    colour: Colour
    blob: bytes


@dataclasses.dataclass
class Gossip:
    round: int
    rumours: list[Rumour]
    origin: str | None = None


class TestPluginMessages:
    """Dataclasses without a body type of their own (a plug-in algorithm's) travel as JSON."""

    codec = Codec([Gossip, Rumour], term_field="round")

    def test_round_trip_through_plugin_message(self):
        """Nested dataclasses, lists, enums, bytes and optionals survive the wire."""
        message = Gossip(round=7, rumours=[Rumour("hi", Colour.BLUE, b"\x00\xff")], origin=None)
        env = self.codec.encode("n1", "n2", message, seq=3)
        wire = peer_pb2.Envelope.FromString(env.SerializeToString())
        assert wire.WhichOneof("body") == "plugin_message" and wire.plugin_message.type == "Gossip"
        assert wire.term == 7
        decoded = self.codec.decode(wire)
        assert decoded == message and isinstance(decoded.rumours[0].colour, Colour)

    def test_unknown_plugin_type_decodes_to_none(self):
        """A plug-in message of a type this codec was not given is ignored."""
        env = peer_pb2.Envelope(src="n1", dst="n2", plugin_message=peer_pb2.PluginMessage(type="Other", json="{}"))
        assert self.codec.decode(env) is None

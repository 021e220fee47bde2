"""The wire contract: generated code is current, and the codec round-trips every message."""

import dataclasses

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

    def test_rejects_types_not_in_envelope(self):
        """Registering a dataclass the proto lacks fails at once."""

        @dataclasses.dataclass
        class Gossip:
            term: int

        with pytest.raises(TypeError, match="Gossip"):
            Codec([Gossip])

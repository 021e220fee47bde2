"""Outbound envelope streams: every message handed to one is counted as sent or as lost."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from chaoslab.v1 import peer_pb2
from chaoslab.wire.streams import OutboundStream


class BrokenCall:
    """A Peer.Send call whose receiver went away: every write fails."""

    def done(self) -> bool:
        return False

    async def write(self, batch: peer_pb2.EnvelopeBatch) -> None:
        raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata(), "gone")


class TestOutboundStream:
    def test_a_batch_lost_to_a_broken_call_is_counted_as_dropped(self) -> None:
        """Messages taken off the queue for a write that fails are reported lost, not forgotten
        (the proxy's per-link counters must add up: sent + duplicated = delivered + dropped)."""

        async def scenario() -> tuple[list[peer_pb2.Envelope], list[peer_pb2.Envelope], OutboundStream]:
            sent: list[peer_pb2.Envelope] = []
            lost: list[peer_pb2.Envelope] = []
            stream = OutboundStream("127.0.0.1:9", on_sent=sent.append, on_drop=lost.append)
            for seq in range(3):
                stream.send(peer_pb2.Envelope(src="n1", dst="n2", seq=seq))
            with pytest.raises(grpc.aio.AioRpcError):
                await stream._drain(BrokenCall())  # type: ignore[arg-type]
            return sent, lost, stream

        sent, lost, stream = asyncio.run(scenario())
        assert sent == [] and [env.seq for env in lost] == [0, 1, 2]
        assert stream.dropped == 3 and stream.sent == 0

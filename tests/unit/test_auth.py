"""The cluster secret on every call (chaoslab.wire.auth): calls without it are refused, unparsed,
whatever the kind of method; calls with it are served as before."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from chaoslab.v1 import kv_pb2, kv_pb2_grpc, peer_pb2, peer_pb2_grpc
from chaoslab.wire.auth import REFUSAL, SecretCheck, secret_metadata
from chaoslab.wire.streams import new_server

SECRET = "s3cret" * 8


class Echo(kv_pb2_grpc.KVServicer, peer_pb2_grpc.PeerServicer):
    def __init__(self) -> None:
        self.served = 0

    async def Execute(self, request, context):  # type: ignore[no-untyped-def]
        self.served += 1
        return kv_pb2.KVReply(value=request.value)

    async def Stream(self, request_iterator, context):  # type: ignore[no-untyped-def]
        async for batch in request_iterator:
            self.served += 1
            yield kv_pb2.KVReplyBatch(replies=[kv_pb2.KVReply(value=r.value) for r in batch.requests])

    async def Send(self, request_iterator, context):  # type: ignore[no-untyped-def]
        n = 0
        async for batch in request_iterator:
            n += len(batch.envelopes)
        self.served += 1
        return peer_pb2.PeerAck(received=n)


async def calls(sock: Path, metadata) -> tuple[dict[str, str], int]:  # type: ignore[no-untyped-def]
    echo = Echo()
    server = new_server(SECRET)
    kv_pb2_grpc.add_KVServicer_to_server(echo, server)
    peer_pb2_grpc.add_PeerServicer_to_server(echo, server)
    server.add_insecure_port(f"unix:{sock}")
    await server.start()
    outcomes: dict[str, str] = {}
    try:
        async with grpc.aio.insecure_channel(f"unix:{sock}") as channel:
            kv = kv_pb2_grpc.KVStub(channel)
            peer = peer_pb2_grpc.PeerStub(channel)

            async def unary() -> object:
                return await kv.Execute(kv_pb2.KVRequest(key="k", value="v"), metadata=metadata, timeout=5)

            async def bidi() -> object:
                call = kv.Stream(iter([kv_pb2.KVBatch(requests=[kv_pb2.KVRequest(key="k", value="v")])]),
                                 metadata=metadata, timeout=5)
                return [b async for b in call]

            async def client_stream() -> object:
                return await peer.Send(iter([peer_pb2.EnvelopeBatch(envelopes=[peer_pb2.Envelope(src="n1")])]),
                                       metadata=metadata, timeout=5)

            for name, call in (("unary", unary), ("bidi", bidi), ("client_stream", client_stream)):
                try:
                    await call()
                    outcomes[name] = "OK"
                except grpc.aio.AioRpcError as exc:
                    outcomes[name] = exc.code().name
                    assert exc.details() == REFUSAL
    finally:
        await server.stop(None)
    return outcomes, echo.served


class TestSecretCheck:
    def test_calls_with_the_secret_are_served(self, tmp_path: Path) -> None:
        """Unary, bidirectional and client-streaming calls carrying the secret reach the service."""
        outcomes, served = asyncio.run(calls(tmp_path / "s.sock", secret_metadata(SECRET)))
        assert outcomes == {"unary": "OK", "bidi": "OK", "client_stream": "OK"} and served == 3

    @pytest.mark.parametrize("metadata", [None, secret_metadata("wrong"), secret_metadata(SECRET[:-1]),
                                          (("chaoslab-secret", ""),), (("other", SECRET),)])
    def test_calls_without_it_are_refused_before_the_service(self, tmp_path: Path, metadata) -> None:  # type: ignore[no-untyped-def]
        """No secret, a wrong or truncated one, or the right one under another key: UNAUTHENTICATED,
        and the service never runs."""
        outcomes, served = asyncio.run(calls(tmp_path / "s.sock", metadata))
        assert outcomes == {"unary": "UNAUTHENTICATED", "bidi": "UNAUTHENTICATED", "client_stream": "UNAUTHENTICATED"}
        assert served == 0

    def test_an_empty_secret_is_no_secret(self) -> None:
        """A server cannot be built to accept an empty secret."""
        with pytest.raises(ValueError):
            SecretCheck("")

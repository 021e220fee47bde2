"""Long-lived outbound envelope streams, one per destination.

Python gRPC manages a few thousand unary calls a second but well over ten
thousand messages a second on one stream, so every hop (node -> proxy, proxy
-> node) keeps one ``Peer.Send`` stream open per destination and feeds it from
a bounded queue. Sending never blocks the caller: when the receiver is slow,
stopped or gone, the oldest messages are dropped — exactly what a lossy
network would do, and what the algorithms must survive anyway.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from chaoslab.v1 import peer_pb2, peer_pb2_grpc

log = logging.getLogger(__name__)

#: The largest gRPC message any lab process sends or takes (gRPC's default receive limit is
#: 4 MiB): room for the largest client command (raft.max_value_bytes, at most 16 MiB) and
#: for a log entry of a few of them. A larger request is refused by the transport, at once.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
_SIZE_OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                 ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]

# Reconnect fast: a restarted node should hear from its peers within a heartbeat
# or two, not after gRPC's default one-second backoff.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 250),
    ("grpc.enable_retries", 0),
    *_SIZE_OPTIONS,
]

MAX_BATCH = 256  # envelopes per stream message: bounds one write, keeps links interleaved
_RETRY_DELAY = 0.05
_MAX_RETRY_DELAY = 0.25


class OutboundStream:
    """Delivers envelopes to one address over a single client stream.

    ``send`` queues (never blocks); a writer task drains the queue in batches.
    ``send_now`` writes straight from the caller's coroutine when the stream is
    idle, saving the writer task's wake-up (the proxy's forwarding path), and
    falls back to the queue otherwise.
    """

    def __init__(
        self,
        address: str,
        max_queue: int = 2_000,
        on_drop: Callable[[peer_pb2.Envelope], None] | None = None,
        on_sent: Callable[[peer_pb2.Envelope], None] | None = None,
        metadata: tuple[tuple[str, str], ...] | None = None,
    ) -> None:
        self.address = address
        self._metadata = metadata  # the cluster's secret (chaoslab.wire.auth.secret_metadata)
        self._queue: collections.deque[peer_pb2.Envelope] = collections.deque()
        self._max_queue = max_queue
        self._on_drop = on_drop
        self._on_sent = on_sent
        self._ready = asyncio.Event()
        self._writing = asyncio.Lock()  # one write at a time on a gRPC call
        self._call: grpc.aio.StreamUnaryCall | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.sent = 0
        self.dropped = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"stream->{self.address}")

    def send(self, env: peer_pb2.Envelope) -> None:
        if len(self._queue) >= self._max_queue:
            self._drop(self._queue.popleft())
        self._queue.append(env)
        self._ready.set()

    async def send_now(self, env: peer_pb2.Envelope) -> None:
        call = self._call
        if call is None or self._queue or self._writing.locked() or call.done():
            self.send(env)
            return
        async with self._writing:
            try:
                await call.write(peer_pb2.EnvelopeBatch(envelopes=[env]))
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.aio.UsageError):
                self.send(env)  # the stream broke under us: the writer reconnects and sends it
                return
        self._sent([env])

    def _sent(self, envs: list[peer_pb2.Envelope]) -> None:
        self.sent += len(envs)
        if self._on_sent is not None:
            for env in envs:
                self._on_sent(env)

    def _drop(self, env: peer_pb2.Envelope) -> None:
        self.dropped += 1
        if self._on_drop is not None:
            self._on_drop(env)

    async def close(self) -> None:
        self._closed = True
        self._ready.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def _drain(self, call: grpc.aio.StreamUnaryCall) -> None:
        """Write queued envelopes in batches until the queue is empty or the call ends."""
        while not self._closed and not call.done():
            await self._ready.wait()
            self._ready.clear()
            while self._queue and not call.done():
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH))]
                async with self._writing:
                    try:
                        await call.write(peer_pb2.EnvelopeBatch(envelopes=batch))
                    except BaseException:
                        # The call broke with the batch in hand: it may or may not have left, and
                        # resending could deliver it twice, so it is lost, and counted as lost.
                        for env in batch:
                            self._drop(env)
                        raise
                self._sent(batch)

    async def _run(self) -> None:
        delay = _RETRY_DELAY
        async with grpc.aio.insecure_channel(self.address, options=CHANNEL_OPTIONS) as channel:
            stub = peer_pb2_grpc.PeerStub(channel)
            while not self._closed:
                call = stub.Send(metadata=self._metadata)
                # Wake the writer when the call ends (receiver gone), not only on new messages.
                call.add_done_callback(lambda _: self._ready.set())
                self._call = call
                try:
                    self._ready.set()
                    await self._drain(call)
                    if call.done():
                        await call  # raises the reason it ended
                except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.aio.UsageError) as exc:
                    log.debug("stream to %s broke: %s", self.address, exc)
                    self._call = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _MAX_RETRY_DELAY)
                    continue
                finally:
                    self._call = None
                    if not call.done():
                        call.cancel()
                delay = _RETRY_DELAY


async def consume(request_iterator: AsyncIterator[peer_pb2.EnvelopeBatch], handle: Callable[[peer_pb2.Envelope], Any]) -> peer_pb2.PeerAck:
    """Server side of ``Peer.Send``: hand each envelope to ``handle`` as it arrives.

    ``handle`` may be a coroutine function; the next envelope waits for it, which
    is how the proxy's direct writes push back on one link without touching others.
    """
    received = 0
    is_async = asyncio.iscoroutinefunction(handle)
    async for batch in request_iterator:
        for env in batch.envelopes:
            received += 1
            if is_async:
                await handle(env)
            else:
                handle(env)
    return peer_pb2.PeerAck(received=received)


# A port already in use must fail to bind, not be silently shared (gRPC turns
# SO_REUSEPORT on by default).
SERVER_OPTIONS = [("grpc.so_reuseport", 0), *_SIZE_OPTIONS]


def new_server(secret: str | None = None) -> grpc.aio.Server:
    """A server for the lab's processes; with ``secret``, one that serves only calls carrying it
    (:mod:`chaoslab.wire.auth`), for every port others can reach (TCP)."""
    if secret is None:
        return grpc.aio.server(options=SERVER_OPTIONS)
    from chaoslab.wire.auth import SecretCheck

    return grpc.aio.server(options=SERVER_OPTIONS, interceptors=[SecretCheck(secret)])


def bind_all(server: grpc.aio.Server, addresses: list[str]) -> str | None:
    """Bind every address; the error (one line) for the first that fails, else None."""
    for address in addresses:
        try:
            server.add_insecure_port(address)
        except RuntimeError:
            return f"{address} is in use"
    return None

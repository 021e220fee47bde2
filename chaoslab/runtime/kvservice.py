"""The client key-value API of a raft node (``chaoslab.v1.KV``).

Requests go to the core through the node's ``submit``; each result comes back
through a callback once the step that produced it is durable (the node's
flush). Nothing here waits per request: a batch of requests shares one
deadline timer, and replies that become ready in the same loop turn leave in
one ``KVReplyBatch``, so a busy stream pays gRPC's per-message cost per batch.

A request not answered by its deadline is answered UNAVAILABLE with "outcome
unknown": the core may still apply it, which is why clients retry with the
same (session, seq).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import grpc

from chaoslab.algorithms.kv.commands import OPS, KVCode, KVOp, KVResult
from chaoslab.v1 import kv_pb2, kv_pb2_grpc

DEFAULT_DEADLINE = 5.0  # when the client sent none
_REGISTER = KVOp.REGISTER  # the one op with no key
_MARGIN = 0.05  # answer a unary call this much before its gRPC deadline, so the reply still arrives

Submit = Callable[[list[Any], Callable[[int, Any], None]], list[int]]
Answer = Callable[[kv_pb2.KVRequest, KVResult], Any]  # gets each request's result, once


class _Batch:
    """Requests submitted together: answered one by one as results come, the rest at the deadline."""

    __slots__ = ("service", "answer", "pending", "timer")

    def __init__(self, service: KVService, answer: Answer) -> None:
        self.service = service
        self.answer = answer
        self.pending: dict[int, kv_pb2.KVRequest] = {}
        self.timer: asyncio.TimerHandle | None = None

    def on_result(self, request_id: int, result: KVResult) -> None:
        request = self.pending.pop(request_id, None)
        if request is None:
            return  # already answered at the deadline
        self.answer(request, result)
        if not self.pending and self.timer is not None:
            self.timer.cancel()

    def expire(self) -> None:
        late = KVResult(KVCode.UNAVAILABLE, error="not answered in time; outcome unknown")
        for request_id, request in self.pending.items():
            self.service.abandon(request_id)
            self.answer(request, late)
        self.pending.clear()


class _Outbox:
    """Replies gathered for one stream, built in place in the next ``KVReplyBatch`` to send."""

    def __init__(self, fill: Callable[[kv_pb2.KVReply, kv_pb2.KVRequest, KVResult], None]) -> None:
        self._fill = fill
        self._batch = kv_pb2.KVReplyBatch()
        self.outstanding = 0  # requests received and not yet answered
        self.closed = False  # the client sent its last batch
        self._ready = asyncio.Event()

    def expect(self, n: int) -> None:
        self.outstanding += n

    def put(self, request: kv_pb2.KVRequest, result: KVResult) -> None:
        self._fill(self._batch.replies.add(), request, result)
        self.outstanding -= 1
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    @property
    def finished(self) -> bool:
        return self.closed and self.outstanding <= 0 and not self._batch.replies

    async def take(self) -> kv_pb2.KVReplyBatch:
        await self._ready.wait()
        self._ready.clear()
        batch, self._batch = self._batch, kv_pb2.KVReplyBatch()
        return batch


class KVService(kv_pb2_grpc.KVServicer):
    def __init__(self, submit: Submit, abandon: Callable[[int], None], address_of: Callable[[str], str]) -> None:
        self._submit = submit
        self.abandon = abandon
        self._address_of = address_of

    def fill(self, reply: kv_pb2.KVReply, request: kv_pb2.KVRequest, result: KVResult) -> None:
        """Write ``result`` into ``reply``, echoing the request's (client_id, seq).

        Field by field and only what is set: on a busy stream this runs for every
        request, and it costs a third of building a KVReply and copying it in.
        """
        reply.client_id = request.client_id
        reply.seq = request.seq
        if result.code:
            reply.code = result.code
        if result.value:
            reply.value = result.value
        if result.index:
            reply.index = result.index
        if result.error:
            reply.error = result.error
        if result.leader_hint:
            reply.leader_hint = result.leader_hint
            reply.leader_address = self._address_of(result.leader_hint)
        if result.session:
            reply.session = result.session

    def submit_all(self, requests: Iterable[kv_pb2.KVRequest], deadline: float, answer: Answer) -> None:
        """Hand requests to the core; ``answer(request, result)`` is called once for each, within ``deadline`` seconds."""
        batch = _Batch(self, answer)
        valid: list[kv_pb2.KVRequest] = []
        for request in requests:
            if request.op in OPS and (request.key or request.op == _REGISTER):
                valid.append(request)
            else:
                answer(request, KVResult(KVCode.BAD_REQUEST, error="a request needs an op and a key"))
        if valid:
            # A KVRequest has KVCommand's fields by design, so it goes to the core as the command
            # itself: a KVCommand built per request cost the leader ~6 % of its loop.
            ids = self._submit(valid, batch.on_result)
            batch.pending.update(zip(ids, valid))
            batch.timer = asyncio.get_running_loop().call_later(deadline, batch.expire)

    async def Execute(self, request: kv_pb2.KVRequest, context: grpc.aio.ServicerContext) -> kv_pb2.KVReply:
        remaining = context.time_remaining()
        deadline = DEFAULT_DEADLINE if remaining is None else max(0.0, remaining - _MARGIN)
        answered: asyncio.Future[KVResult] = asyncio.get_running_loop().create_future()
        # The call may be cancelled (client gone) before its answer comes: then nobody wants it.
        self.submit_all([request], deadline, lambda _, result: answered.done() or answered.set_result(result))
        reply = kv_pb2.KVReply()
        self.fill(reply, request, await answered)
        return reply

    async def Stream(self, request_iterator: AsyncIterator[kv_pb2.KVBatch], context: grpc.aio.ServicerContext) -> AsyncIterator[kv_pb2.KVReplyBatch]:
        """Pipelined batches: each request is answered as soon as it can be, in any order."""
        outbox = _Outbox(self.fill)

        async def read_all() -> None:
            try:
                async for batch in request_iterator:
                    outbox.expect(len(batch.requests))
                    self.submit_all(batch.requests, DEFAULT_DEADLINE, outbox.put)
            finally:
                outbox.close()

        reader = asyncio.get_running_loop().create_task(read_all())
        try:
            while not outbox.finished:
                batch = await outbox.take()
                if batch.replies:
                    yield batch
        finally:
            reader.cancel()

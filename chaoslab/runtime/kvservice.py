"""The client key-value API of a raft node (``chaoslab.v1.KV``).

Each request becomes a call to the core's ``request``; the reply comes back
through the node's flush (after the step's state is durable) and resolves the
waiting call. A request that is not answered within its deadline is reported
as UNAVAILABLE with "outcome unknown": the core may still apply it, which is
why clients retry with the same (client_id, seq).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from chaoslab.algorithms.raft.commands import KVCode, KVCommand, KVOp, KVResult
from chaoslab.v1 import kv_pb2, kv_pb2_grpc

DEFAULT_DEADLINE = 5.0  # when the client sent none


def command_of(request: kv_pb2.KVRequest) -> KVCommand:
    return KVCommand(
        op=KVOp(request.op),
        key=request.key,
        value=request.value,
        expected=request.expected,
        expect_absent=request.expect_absent,
        client_id=request.client_id,
        seq=request.seq,
    )


class KVService(kv_pb2_grpc.KVServicer):
    def __init__(self, submit: Callable[[KVCommand], asyncio.Future[KVResult]], address_of: Callable[[str], str]) -> None:
        self._submit = submit
        self._address_of = address_of

    def _reply(self, request: kv_pb2.KVRequest, result: KVResult) -> kv_pb2.KVReply:
        return kv_pb2.KVReply(
            code=int(result.code),
            value=result.value,
            leader_hint=result.leader_hint,
            leader_address=self._address_of(result.leader_hint) if result.leader_hint else "",
            index=result.index,
            error=result.error,
            client_id=request.client_id,
            seq=request.seq,
        )

    async def _answer(self, request: kv_pb2.KVRequest, deadline: float) -> kv_pb2.KVReply:
        if request.op not in KVOp._value2member_map_ or not request.key:
            return kv_pb2.KVReply(code=int(KVCode.BAD_REQUEST), error="a request needs an op and a key",
                                  client_id=request.client_id, seq=request.seq)
        waiter = self._submit(command_of(request))
        try:
            result = await asyncio.wait_for(asyncio.shield(waiter), timeout=deadline)
        except asyncio.TimeoutError:
            result = KVResult(KVCode.UNAVAILABLE, error="not answered in time; outcome unknown")
        return self._reply(request, result)

    async def Execute(self, request: kv_pb2.KVRequest, context: grpc.aio.ServicerContext) -> kv_pb2.KVReply:
        remaining = context.time_remaining()
        deadline = DEFAULT_DEADLINE if remaining is None else max(0.0, remaining - 0.05)
        return await self._answer(request, deadline)

    async def Stream(self, request_iterator: AsyncIterator[kv_pb2.KVRequest], context: grpc.aio.ServicerContext) -> AsyncIterator[kv_pb2.KVReply]:
        """Pipelined requests: each is answered as soon as it can be, in any order."""
        replies: asyncio.Queue[kv_pb2.KVReply | None] = asyncio.Queue()
        pending: set[asyncio.Task[Any]] = set()

        async def answer(request: kv_pb2.KVRequest) -> None:
            await replies.put(await self._answer(request, DEFAULT_DEADLINE))

        async def read_all() -> None:
            async for request in request_iterator:
                task = asyncio.get_running_loop().create_task(answer(request))
                pending.add(task)
                task.add_done_callback(pending.discard)
            while pending:
                await asyncio.gather(*list(pending))
            await replies.put(None)

        reader = asyncio.get_running_loop().create_task(read_all())
        try:
            while (reply := await replies.get()) is not None:
                yield reply
        finally:
            reader.cancel()

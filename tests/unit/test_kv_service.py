"""The node's KV service (chaoslab.runtime.kvservice) with a fake core: a registration is the one
request without a key that goes to the core, and its reply carries the new session's id."""

from __future__ import annotations

import asyncio
from typing import Any

from chaoslab.algorithms.kv import KVCode, KVResult, KVStore
from chaoslab.runtime.kvservice import KVService
from chaoslab.v1 import kv_pb2


def test_a_registration_reaches_the_core_and_its_reply_carries_the_session() -> None:
    store = KVStore()
    submitted: list[Any] = []
    answers: dict[str, kv_pb2.KVReply] = {}

    def submit(requests: list[Any], on_result: Any) -> list[int]:
        submitted.extend(requests)
        return list(range(len(requests)))

    async def main() -> None:
        service = KVService(submit, abandon=lambda request_id: None, address_of=lambda node: "")

        def answer(request: kv_pb2.KVRequest, result: KVResult) -> None:
            reply = kv_pb2.KVReply()
            service.fill(reply, request, result)
            answers[request.client_id] = reply

        register = kv_pb2.KVRequest(client_id="r", op=kv_pb2.KV_OP_REGISTER)
        keyless_put = kv_pb2.KVRequest(client_id="p", op=kv_pb2.KV_OP_PUT)
        service.submit_all([register, keyless_put], 1.0, answer)
        assert submitted == [register]
        assert answers["p"].code == kv_pb2.KV_CODE_BAD_REQUEST
        # the core applies what was submitted, as Raft would once committed
        reply = kv_pb2.KVReply()
        service.fill(reply, register, store.apply_command(7, register))
        assert (reply.code, reply.session, reply.index, reply.client_id) == (kv_pb2.KV_CODE_OK, 1, 7, "r")
        expired = kv_pb2.KVReply()
        service.fill(expired, keyless_put, KVResult(KVCode.SESSION_EXPIRED, error="session 1 expired"))
        assert expired.code == kv_pb2.KV_CODE_SESSION_EXPIRED and expired.session == 0

    asyncio.run(main())

"""What the cluster secret costs a call: the same gRPC server with and without its check.

    python benchmarks/auth_overhead.py [--calls 3000] [--rounds 5]

One process, one loop: a KV service that answers at once, served twice on 127.0.0.1, once
by ``new_server()`` and once by ``new_server(secret)`` (``chaoslab.wire.auth.SecretCheck``);
a client sends ``--calls`` sequential unary ``KV.Execute`` calls to each, with the secret as
metadata where it is checked, and opens ``--calls`` / 10 short ``KV.Stream`` calls of one
batch (a stream pays the check once). The two servers take turns for ``--rounds`` rounds, so
load from other processes hits both alike; the best round of each is reported, and the
difference is what the check adds per call. Peer streams pay it once per connection.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from _common import machine_facts, percentile  # benchmarks/ is on sys.path

import grpc

from chaoslab.v1 import kv_pb2, kv_pb2_grpc
from chaoslab.wire.auth import secret_metadata
from chaoslab.wire.streams import CHANNEL_OPTIONS, new_server

SECRET = "0" * 64


class Answer(kv_pb2_grpc.KVServicer):
    async def Execute(self, request, context):  # type: ignore[no-untyped-def]
        return kv_pb2.KVReply(value=request.value)

    async def Stream(self, request_iterator, context):  # type: ignore[no-untyped-def]
        async for batch in request_iterator:
            yield kv_pb2.KVReplyBatch(replies=[kv_pb2.KVReply(value=r.value) for r in batch.requests])


async def serve(secret: str | None) -> tuple[grpc.aio.Server, int]:
    server = new_server(secret)
    kv_pb2_grpc.add_KVServicer_to_server(Answer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def unary(port: int, metadata, calls: int) -> list[float]:  # type: ignore[no-untyped-def]
    request = kv_pb2.KVRequest(client_id="b", seq=1, op=kv_pb2.KV_OP_PUT, key="k", value="v" * 16)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS) as channel:
        stub = kv_pb2_grpc.KVStub(channel)
        await stub.Execute(request, metadata=metadata)
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            await stub.Execute(request, metadata=metadata)
            times.append(time.perf_counter() - started)
    return sorted(times)


async def streams(port: int, metadata, calls: int) -> list[float]:  # type: ignore[no-untyped-def]
    batch = kv_pb2.KVBatch(requests=[kv_pb2.KVRequest(client_id="b", seq=1, op=kv_pb2.KV_OP_PUT, key="k", value="v")])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS) as channel:
        stub = kv_pb2_grpc.KVStub(channel)
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            async for _reply in stub.Stream(iter([batch]), metadata=metadata):
                pass
            times.append(time.perf_counter() - started)
    return sorted(times)


async def amain(args: argparse.Namespace) -> None:
    plain, plain_port = await serve(None)
    checked, checked_port = await serve(SECRET)
    best: dict[str, list[float]] = {}
    try:
        for _ in range(args.rounds):
            for name, port, metadata in (("plain", plain_port, None), ("checked", checked_port, secret_metadata(SECRET))):
                for kind, run, n in (("unary", unary, args.calls), ("stream", streams, args.calls // 10)):
                    times = await run(port, metadata, n)
                    key = f"{kind} {name}"
                    if key not in best or percentile(times, 50) < percentile(best[key], 50):
                        best[key] = times
    finally:
        await plain.stop(None)
        await checked.stop(None)
    for line in machine_facts():
        print(line)
    print(f"\n{args.calls} unary calls and {args.calls // 10} one-batch streams a round, {args.rounds} rounds taking turns;"
          " best round (by p50), µs")
    print(f"  {'call':<18}{'p50':>8}{'p90':>8}{'p99':>8}")
    for key, times in best.items():
        print(f"  {key:<18}" + "".join(f"{percentile(times, p) * 1e6:>8.0f}" for p in (50, 90, 99)))
    for kind in ("unary", "stream"):
        added = (percentile(best[f"{kind} checked"], 50) - percentile(best[f"{kind} plain"], 50)) * 1e6
        print(f"  the check adds {added:+.0f} µs at p50 to a {kind} call")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(amain(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

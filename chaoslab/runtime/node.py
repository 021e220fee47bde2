"""One node process: a gRPC server on 127.0.0.1 driving one algorithm core.

    python -m chaoslab.runtime.node RUN_DIR NODE_ID --parent-pid PID [--incarnation K]

(:func:`chaoslab.process.child.child_main` does what every child does around it.)

Everything runs on one asyncio loop, so the core is never entered twice at
once. Inputs are envelopes arriving on ``Peer.Send`` streams and a timer armed
for the core's next deadline; for each input the output is handled in the
order the core contract demands: persist (fsync), then send, then log events.
Peers are always reached through their proxy address, never directly.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc

from chaoslab.algorithms import Output, get_algorithm
from chaoslab.algorithms.registry import load_ref
from chaoslab.events import EventLog
from chaoslab.process.child import PortInUse, child_main
from chaoslab.process.rundir import RunDir
from chaoslab.process.spec import HOST, ClusterSpec
from chaoslab.runtime.kvservice import KVService
from chaoslab.runtime.storage import storage_for
from chaoslab.seeds import derive_rng
from chaoslab.v1 import kv_pb2_grpc, node_pb2, node_pb2_grpc, peer_pb2, peer_pb2_grpc
from chaoslab.wire.auth import secret_metadata
from chaoslab.wire.codec import Codec
from chaoslab.wire.status import status_to_proto
from chaoslab.wire.streams import OutboundStream, bind_all, consume, new_server

log = logging.getLogger("chaoslab.node")


class NodeServer(peer_pb2_grpc.PeerServicer, node_pb2_grpc.NodeServicer):
    def __init__(self, run: RunDir, spec: ClusterSpec, node_id: str, incarnation: int, secret: str = "") -> None:
        """``secret``: the cluster's, sent on every call to the proxy (none: a test's node alone)."""
        self.spec = spec
        self.node_id = node_id
        self.algorithm = get_algorithm(spec.algorithm)
        self.codec = Codec(self.algorithm.message_types, self.algorithm.term_field)
        data_dir = run.node_dir(node_id)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.storage = storage_for(self.algorithm, data_dir)
        self.events = EventLog(run.events, node_id)
        self.loop = asyncio.get_running_loop()
        self.started = self.loop.time()
        # Each node and each restart of it draws from its own stream of the cluster seed,
        # the same stream the simulator gives that node and incarnation.
        rng = derive_rng(spec.seed, "node", node_id, incarnation)
        self.core = self.algorithm.factory(node_id, spec.node_ids, spec.config, rng, self.storage.load())
        self.peers = {
            a.id: OutboundStream(f"{HOST}:{a.proxy_port}", metadata=secret_metadata(secret) if secret else None)
            for a in spec.addresses if a.id != node_id
        }
        self._seq = 0
        self._timer: asyncio.TimerHandle | None = None
        self._unflushed: list[Output] = []
        self._flusher: asyncio.Task[None] | None = None
        self._waiting: dict[int, Callable[[int, Any], None]] = {}  # client request id -> who wants its result
        self._request_ids = itertools.count(1)
        self.messages_in = 0
        self.messages_out = 0
        # An algorithm whose node is an external program (AlgorithmSpec.program): the core
        # addresses the program as its own node id, and the adapter feeds its output back.
        self.program = load_ref(self.algorithm.program)(self) if self.algorithm.program else None

    def start(self) -> None:
        for stream in self.peers.values():
            stream.start()
        self._handle(self.core.start(self.loop.time()))

    # -- driving the core -------------------------------------------------

    def _handle(self, out: Output) -> None:
        """Queue a step's output for the flusher, which acts on everything queued since its
        last round at once: a burst of client requests costs one fsync, not one each."""
        self._unflushed.append(out)
        if self._flusher is None:
            self._flusher = self.loop.create_task(self._flush())
        self._arm_timer()

    async def _flush(self) -> None:
        """Group commit. The fsync runs on a thread, so the loop keeps taking inputs meanwhile;
        those queue up for the next round, and nothing of a round leaves before its fsync."""
        try:
            while self._unflushed:
                batch, self._unflushed = self._unflushed, []
                persists = [out.persist for out in batch if out.persist is not None]
                if persists:
                    await asyncio.to_thread(self.storage.save, persists)
                self._deliver(batch)
        finally:
            self._flusher = None

    def _deliver(self, batch: list[Output]) -> None:
        """The contract's order after persisting: send and reply, then record events."""
        for out in batch:
            for dst, message in out.messages:
                stream = self.peers.get(dst)
                if stream is None:
                    if dst == self.node_id and self.program is not None:
                        self.program.send(message)
                    continue
                self._seq += 1
                self.messages_out += 1
                stream.send(self.codec.encode(self.node_id, dst, message, self._seq))
            for request_id, result in out.replies:
                on_result = self._waiting.pop(request_id, None)
                if on_result is not None:
                    on_result(request_id, result)
        for out in batch:
            for event in out.events:
                self.events.emit(event.kind, **event.data)
                log.info("%s %s", event.kind, event.data)

    def _arm_timer(self) -> None:
        deadline = self.core.next_deadline()
        if self._timer is not None:
            # A tick before the deadline is harmless (the core checks its own deadlines and
            # we re-arm after it), so a timer already due by then stays: a leader taking a
            # burst of requests would otherwise re-arm once per request.
            if self._timer.when() <= deadline:
                return
            self._timer.cancel()
        self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._handle(self.core.tick(self.loop.time()))

    def _on_envelope(self, env: peer_pb2.Envelope) -> None:
        message = self.codec.decode(env)
        if message is None or env.dst != self.node_id:
            log.warning("ignored envelope %s from %s to %s", env.WhichOneof("body"), env.src, env.dst)
            return
        self.messages_in += 1
        self._handle(self.core.step(env.src, message, self.loop.time()))

    async def drain(self) -> None:
        """Wait until every output so far is persisted, sent and its events recorded."""
        while self._flusher is not None:
            await self._flusher

    def feed(self, message: Any) -> None:
        """An input from the node's own program (its adapter calls this): ``step(own id, message)``."""
        self._handle(self.core.step(self.node_id, message, self.loop.time()))

    # -- gRPC services ----------------------------------------------------

    async def Send(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> peer_pb2.PeerAck:
        return await consume(request_iterator, self._on_envelope)

    def submit(self, commands: list[Any], on_result: Callable[[int, Any], None]) -> list[int]:
        """Hand client commands to the core as one input; ``on_result(request_id, result)`` is
        called once for each, when its result is durable (never from inside this call).
        Returns their request ids, in order."""
        ids = [next(self._request_ids) for _ in commands]
        for request_id in ids:
            self._waiting[request_id] = on_result
        self._handle(self.core.request_many(list(zip(ids, commands)), self.loop.time()))
        return ids

    def abandon(self, request_id: int) -> None:
        """Nobody waits for this request any more (the core may still carry it out)."""
        self._waiting.pop(request_id, None)

    def client_address(self, node_id: str) -> str:
        try:
            return f"{HOST}:{self.spec.address(node_id).port}"
        except KeyError:
            return ""

    async def Command(self, request: node_pb2.CommandRequest, context: grpc.aio.ServicerContext) -> node_pb2.CommandReply:
        """An operator's command to the core; answered once its effects are durable."""
        command = getattr(self.core, "command", None)
        if command is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{self.algorithm.name} nodes take no commands")
        try:
            args = json.loads(request.args_json or "{}")
        except json.JSONDecodeError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"arguments are not JSON: {exc}")
        if not isinstance(args, dict):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "arguments must be a JSON object")
        request_id = next(self._request_ids)
        done: asyncio.Future[Any] = self.loop.create_future()
        self._waiting[request_id] = lambda _, result: done.done() or done.set_result(result)
        try:
            out = command(request_id, request.name, args, self.loop.time())
        except ValueError as exc:
            self._waiting.pop(request_id, None)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        self._handle(out)
        timeout = request.timeout_s if request.timeout_s > 0 else 5.0
        try:
            result = await asyncio.wait_for(done, timeout)
        except TimeoutError:
            self._waiting.pop(request_id, None)
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, f"{request.name}: no result within {timeout:g}s")
        return node_pb2.CommandReply(result_json=json.dumps(result))

    async def Status(self, request: node_pb2.StatusRequest, context: grpc.aio.ServicerContext) -> node_pb2.NodeStatus:
        now = self.loop.time()
        status = status_to_proto(self.core.status(now, log_tail=request.log_tail), self.algorithm.detail)
        status.id = self.node_id
        status.algorithm = self.algorithm.name
        status.pid = os.getpid()
        status.uptime_s = now - self.started
        status.messages_in = self.messages_in
        status.messages_out = self.messages_out
        return status

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flusher  # what the core decided must still reach the disk
        if self._timer is not None:
            self._timer.cancel()
        await asyncio.gather(*(s.close() for s in self.peers.values()))
        if self.program is not None:
            await self.program.close()
        self.events.close()


@asynccontextmanager
async def serving(run: RunDir, args: argparse.Namespace) -> AsyncIterator[NodeServer]:
    """Bind the node's port, start it, and on exit stop it with what it decided on disk."""
    spec = ClusterSpec.load(run.cluster)
    port = spec.address(args.node_id).port
    secret = run.secret()
    node = NodeServer(run, spec, args.node_id, args.incarnation, secret)
    server = new_server(secret)  # its port is open to every local user: only the cluster's own get in
    peer_pb2_grpc.add_PeerServicer_to_server(node, server)
    node_pb2_grpc.add_NodeServicer_to_server(node, server)
    if node.algorithm.client_api == "kv":
        kv_pb2_grpc.add_KVServicer_to_server(KVService(node.submit, node.abandon, node.client_address), server)
    error = bind_all(server, [f"{HOST}:{port}"])
    if error:
        raise PortInUse(error)
    if node.program is None:
        await server.start()
        node.start()
    else:  # the node serves only once its program took init: a broken one fails start-up
        try:
            await node.program.spawn()
            node.start()
            await node.program.ready()  # StartupFailed, with one line, when it breaks the protocol
        except BaseException:
            await node.close()
            raise
        await server.start()
    log.info("%s serving on %s:%d (incarnation %d)", args.node_id, HOST, port, args.incarnation)
    try:
        yield node
    finally:
        await server.stop(grace=0.2)
        await node.close()
        node.storage.close()


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("node_id")
    parser.add_argument("--incarnation", type=int, default=0)


def main(argv: list[str] | None = None) -> int:
    return child_main("chaoslab-node", serving, argv, arguments=_arguments, label=lambda args: args.node_id)


if __name__ == "__main__":
    sys.exit(main())

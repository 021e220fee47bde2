"""The fault proxy process: every peer message of a cluster passes through it.

    python -m chaoslab.net.proxy RUN_DIR --parent-pid PID

It listens on one port per node (the node's ``proxy_port``); a node sends to a
peer's proxy port and the proxy forwards the envelope, unchanged, to the
peer's real port over its own long-lived stream. Addresses never change when
faults come and go: the proxy decides each message's fate on the way.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import grpc

from chaoslab.events import EventLog
from chaoslab.lab.rundir import RunDir
from chaoslab.lab.spec import HOST, ClusterSpec
from chaoslab.runtime.lifeline import die_with_parent
from chaoslab.v1 import peer_pb2, peer_pb2_grpc
from chaoslab.wire.streams import EXIT_PORT_IN_USE, OutboundStream, bind_all, consume, new_server, until_signalled

log = logging.getLogger("chaoslab.proxy")


class ProxyServer(peer_pb2_grpc.PeerServicer):
    def __init__(self, run: RunDir, spec: ClusterSpec) -> None:
        self.spec = spec
        self.events = EventLog(run.events, "proxy")
        self.routes = {a.id: OutboundStream(f"{HOST}:{a.port}") for a in spec.addresses}

    def start(self) -> None:
        for stream in self.routes.values():
            stream.start()

    def _on_envelope(self, env: peer_pb2.Envelope) -> None:
        route = self.routes.get(env.dst)
        if route is None:
            log.warning("no route to %r (from %s)", env.dst, env.src)
            return
        route.send(env)

    async def Send(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> peer_pb2.PeerAck:
        return await consume(request_iterator, self._on_envelope)

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.routes.values()))
        self.events.close()


async def serve(run: RunDir) -> int:
    spec = ClusterSpec.load(run.cluster)
    proxy = ProxyServer(run, spec)
    server = new_server()
    peer_pb2_grpc.add_PeerServicer_to_server(proxy, server)
    error = bind_all(server, [f"{HOST}:{a.proxy_port}" for a in spec.addresses])
    if error:
        print(error, file=sys.stderr)
        return EXIT_PORT_IN_USE
    await server.start()
    proxy.start()
    log.info("proxy serving %d links", len(spec.addresses))
    await until_signalled()
    await server.stop(grace=0.2)
    await proxy.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chaoslab-proxy")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s proxy %(levelname)s %(message)s", stream=sys.stderr)
    return asyncio.run(serve(RunDir(args.run_dir)))


if __name__ == "__main__":
    sys.exit(main())

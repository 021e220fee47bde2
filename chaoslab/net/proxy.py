"""The fault proxy process: every peer message of a cluster passes through it.

    python -m chaoslab.net.proxy RUN_DIR --parent-pid PID

(:func:`chaoslab.process.child.child_main` does what every child does around it.)

It listens on one port per node (the node's ``proxy_port``); a node sends to a
peer's proxy port and the proxy forwards the envelope to the peer's real port
over its own long-lived stream. Addresses never change when faults come and
go: the proxy decides each message's fate on the way (see
:class:`chaoslab.net.rules.FaultTable`) and holds delayed ones in a
:class:`~chaoslab.net.rules.DeliveryQueue`, which keeps each link in order.
Its control service (faults and counters) listens on ``proxy.sock`` only; the peer ports
serve only calls that carry the cluster's secret (:mod:`chaoslab.wire.auth`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc

from chaoslab.events import EventLog
from chaoslab.net.proto import from_proto, to_proto
from chaoslab.net.rules import DeliveryQueue, FaultTable, LinkRule
from chaoslab.process.child import PortInUse, child_main
from chaoslab.process.rundir import RunDir
from chaoslab.process.spec import HOST, ClusterSpec
from chaoslab.v1 import control_pb2, control_pb2_grpc, peer_pb2, peer_pb2_grpc
from chaoslab.wire.auth import secret_metadata
from chaoslab.wire.streams import OutboundStream, bind_all, consume, new_server

log = logging.getLogger("chaoslab.proxy")

_TIMER_LEAD = 0.001
_RELEASE_EARLY = 0.0005


class ProxyServer(peer_pb2_grpc.PeerServicer, control_pb2_grpc.ProxyServicer):
    def __init__(self, run: RunDir, spec: ClusterSpec, secret: str) -> None:
        self.spec = spec
        self.events = EventLog(run.events, "proxy")
        self.table = FaultTable(seed=spec.seed)
        self.held: DeliveryQueue[peer_pb2.Envelope] = DeliveryQueue()
        self.loop = asyncio.get_running_loop()
        self._pump_timer: asyncio.TimerHandle | None = None
        self._expiry_timer: asyncio.TimerHandle | None = None
        self.routes = {
            a.id: OutboundStream(f"{HOST}:{a.port}", on_sent=self._on_sent, on_drop=self._on_lost,
                                 metadata=secret_metadata(secret))
            for a in spec.addresses
        }

    def start(self) -> None:
        for stream in self.routes.values():
            stream.start()

    # -- the data path -------------------------------------------------------

    async def _on_envelope(self, env: peer_pb2.Envelope) -> None:
        route = self.routes.get(env.dst)
        if route is None:
            log.warning("no route to %r (from %s)", env.dst, env.src)
            return
        now = time.time()
        for delay in self.table.fate(env.src, env.dst, now).delays:
            if delay <= 0:
                await route.send_now(env)
            else:
                self.held.push(now + delay, env)
        self._arm_pump()

    def _arm_pump(self) -> None:
        due = self.held.next_due()
        if due is None:
            return
        # asyncio timers fire ~1 ms late here (epoll rounds up to whole ms), so
        # aim early and release what is due within half a millisecond.
        when = self._loop_time(due) - _TIMER_LEAD
        if self._pump_timer is not None:
            if self._pump_timer.when() <= when:
                return
            self._pump_timer.cancel()
        self._pump_timer = self.loop.call_at(when, self._pump)

    def _loop_time(self, wall: float) -> float:
        return self.loop.time() + (wall - time.time())

    def _pump(self) -> None:
        self._pump_timer = None
        for env in self.held.pop_due(time.time() + _RELEASE_EARLY):
            self.routes[env.dst].send(env)
        self._arm_pump()

    def _on_sent(self, env: peer_pb2.Envelope) -> None:
        self.table.delivered(env.src, env.dst, time.time(), env.ByteSize())

    def _on_lost(self, env: peer_pb2.Envelope) -> None:
        self.table.undeliverable(env.src, env.dst)

    async def Send(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> peer_pb2.PeerAck:
        return await consume(request_iterator, self._on_envelope)

    # -- the control service ---------------------------------------------------

    async def ChangeFaults(self, request: control_pb2.FaultChange, context: grpc.aio.ServicerContext) -> control_pb2.FaultState:
        now = time.time()
        try:
            removed, added = self.table.apply(from_proto(request), now)
        except ValueError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        action = "clear" if request.clear_all else "heal" if request.heal and not added else None
        if action:
            self.events.emit("fault", action=action, removed=[r.id for r in removed])
        else:
            self._log_rules("remove", removed)
        self._log_rules("add", added)
        self._release(removed)
        self._arm_expiry()
        return to_proto(self.table.state(now))

    async def Faults(self, request: control_pb2.Empty, context: grpc.aio.ServicerContext) -> control_pb2.FaultState:
        return to_proto(self.table.state(time.time()))

    def _log_rules(self, action: str, rules: list[LinkRule]) -> None:
        for rule in rules:
            self.events.emit("fault", action=action, id=rule.id, fault=rule.kind, label=rule.label,
                             **({"expires_at": rule.expires_at} if rule.expires_at else {}))

    def _arm_expiry(self) -> None:
        if self._expiry_timer is not None:
            self._expiry_timer.cancel()
            self._expiry_timer = None
        due = self.table.next_expiry()
        if due is not None:
            self._expiry_timer = self.loop.call_at(self._loop_time(due), self._expire)

    def _expire(self) -> None:
        self._expiry_timer = None
        expired = self.table.expire(time.time())
        self._log_rules("expire", expired)
        self._release(expired)
        self._arm_expiry()

    def _release(self, removed: list[LinkRule]) -> None:
        """What removed delay and reorder rules held goes now, in order (see FaultTable.unhold)."""
        held_on = self.table.unhold(removed)
        for env in self.held.pop_where(lambda env: held_on(env.src, env.dst)):
            self.routes[env.dst].send(env)

    async def close(self) -> None:
        for timer in (self._pump_timer, self._expiry_timer):
            if timer is not None:
                timer.cancel()
        await asyncio.gather(*(s.close() for s in self.routes.values()))
        self.events.close()


@asynccontextmanager
async def serving(run: RunDir, args: argparse.Namespace) -> AsyncIterator[ProxyServer]:
    """Bind every node's proxy port and ``proxy.sock``, start forwarding, and on exit stop.

    Two servers: peer traffic on the TCP ports, which any local user can reach, so only calls
    carrying the cluster's secret are served there; the control service (faults, counters)
    only on ``proxy.sock``, inside the owner's 0700 directory.
    """
    spec = ClusterSpec.load(run.cluster)
    secret = run.secret()
    proxy = ProxyServer(run, spec, secret)
    peers = new_server(secret)
    peer_pb2_grpc.add_PeerServicer_to_server(proxy, peers)
    control = new_server()
    control_pb2_grpc.add_ProxyServicer_to_server(proxy, control)
    sock = run.socket_path("proxy.sock")
    sock.unlink(missing_ok=True)
    error = bind_all(peers, [f"{HOST}:{a.proxy_port}" for a in spec.addresses]) or bind_all(control, [f"unix:{sock}"])
    if error:
        raise PortInUse(error)
    await peers.start()
    await control.start()
    proxy.start()
    log.info("proxy serving %d links", len(spec.addresses))
    try:
        yield proxy
    finally:
        await asyncio.gather(peers.stop(grace=0.2), control.stop(grace=0.2))
        await proxy.close()
        sock.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    return child_main("chaoslab-proxy", serving, argv, label=lambda args: "proxy")


if __name__ == "__main__":
    sys.exit(main())

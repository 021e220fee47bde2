"""A client of the key-value API (raft, or any algorithm that serves it): finds the leader, retries, applies once.

    from chaoslab.client import KVClient
    kv = KVClient.for_cluster(cluster)      # or KVClient({"n1": "127.0.0.1:7001", ...}, secret=...)
    kv.put("k", "1"); kv.get("k"); kv.cas("k", "1", "2")

Before its first write a client registers a session (one round trip and one
log entry a client lifetime; Raft thesis §6.3). Every write carries that
session and a fresh sequence number, and a retry reuses them, so a write
applies at most once even when a reply is lost. A call that is not
acknowledged by its deadline raises :class:`NotAcknowledged`, which says
whether the write may have been applied.

A cluster keeps a bounded number of sessions (``raft.max_sessions``). When it
has forgotten this client's, a write is answered ``SESSION_EXPIRED``, not
applied. If no earlier try of that write may have been applied, the client
registers anew and sends it again; otherwise it cannot know whether the write
took effect and raises :class:`NotAcknowledged` with ``unknown`` set, and the
next write registers a new session.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from chaoslab.errors import LabError
from chaoslab.v1 import kv_pb2, kv_pb2_grpc
from chaoslab.wire.auth import secret_metadata
from chaoslab.wire.streams import CHANNEL_OPTIONS

DEFAULT_TIMEOUT = 5.0
_ATTEMPT_TIMEOUT = 1.0  # per try: a dead or paused node must not eat the whole deadline
_BACKOFF = (0.01, 0.2)
_HOME_QUIET = 1.0  # seconds a home node that did not answer is left out of the first round

OK = kv_pb2.KV_CODE_OK
NOT_FOUND = kv_pb2.KV_CODE_NOT_FOUND
CAS_MISMATCH = kv_pb2.KV_CODE_CAS_MISMATCH
SESSION_EXPIRED = kv_pb2.KV_CODE_SESSION_EXPIRED
_RETRY = (kv_pb2.KV_CODE_NOT_LEADER, kv_pb2.KV_CODE_UNAVAILABLE)
_REFUSED = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAUTHENTICATED)


class NotAcknowledged(LabError):
    """No answer by the deadline. ``unknown`` is True when a write may have been applied."""

    def __init__(self, message: str, unknown: bool) -> None:
        super().__init__(message)
        self.unknown = unknown


@dataclass(frozen=True)
class Result:
    code: int  # kv_pb2.KVCode
    value: str
    index: int
    node: str  # who answered

    @property
    def ok(self) -> bool:
        return self.code == OK

    @property
    def code_name(self) -> str:
        return kv_pb2.KVCode.Name(self.code).removeprefix("KV_CODE_").lower()


class KVClient:
    def __init__(self, addresses: Mapping[str, str], client_id: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 home: str | None = None, secret: str | None = None) -> None:
        """``home``: a node asked first on every call, before the leader this client knows. A
        test workload binds each client to a node this way, as Jepsen does, so that a node
        answering what it should have refused or redirected (a stale read) gets asked.
        ``secret``: the cluster's (its run directory's ``secret`` file), which its nodes
        require on every call; :meth:`for_cluster` reads it for you."""
        if not addresses:
            raise LabError("a client needs at least one node address")
        if home is not None and home not in addresses:
            raise LabError(f"home node {home!r} is not one of {', '.join(sorted(addresses))}")
        self.home = home
        self._home_quiet_until = 0.0  # a home that did not answer is skipped until then
        self.addresses = dict(addresses)
        self._metadata = secret_metadata(secret) if secret else None
        self.client_id = client_id or uuid.uuid4().hex[:12]  # a label: replies echo it
        self.timeout = timeout
        self.session = 0  # the cluster's id of this client's session; 0 until the first write registers
        # Grows over the client's life, across sessions: a new session only needs seqs above 0.
        self._seq = itertools.count(1)
        self._leader: str | None = None
        self._channels: dict[str, grpc.Channel] = {}

    @classmethod
    def for_cluster(cls, cluster: Any, **kwargs: Any) -> KVClient:
        """A client of ``cluster``'s nodes; ``LabError`` if its algorithm serves no key-value API."""
        from chaoslab.errors import LabError
        from chaoslab.process.spec import HOST, ClusterSpec

        spec = ClusterSpec.load(cluster.run.cluster)
        if cluster.algorithm.client_api != "kv":
            raise LabError(f"cluster {spec.name!r} runs {cluster.algorithm.name}, which serves no key-value API")
        kwargs.setdefault("secret", cluster.run.secret())
        return cls({a.id: f"{HOST}:{a.port}" for a in spec.addresses}, **kwargs)

    # -- operations -----------------------------------------------------------

    def get(self, key: str, timeout: float | None = None) -> Result:
        return self._call(kv_pb2.KV_OP_GET, key, timeout=timeout)

    def put(self, key: str, value: str, timeout: float | None = None) -> Result:
        return self._call(kv_pb2.KV_OP_PUT, key, value=value, timeout=timeout)

    def cas(self, key: str, expected: str | None, value: str, timeout: float | None = None) -> Result:
        """Set ``key`` to ``value`` if it holds ``expected`` (``None``: if it is absent)."""
        return self._call(kv_pb2.KV_OP_CAS, key, value=value, expected=expected or "",
                          expect_absent=expected is None, timeout=timeout)

    def append(self, key: str, value: str, timeout: float | None = None) -> Result:
        return self._call(kv_pb2.KV_OP_APPEND, key, value=value, timeout=timeout)

    def delete(self, key: str, timeout: float | None = None) -> Result:
        return self._call(kv_pb2.KV_OP_DELETE, key, timeout=timeout)

    # -- the retry loop ---------------------------------------------------------

    def _stub(self, node: str) -> kv_pb2_grpc.KVStub:
        channel = self._channels.get(node)
        if channel is None:
            # The runtime's fast reconnects: with gRPC's default backoff (1 s and up), a
            # channel to a restarted node can still be waiting when that node becomes leader.
            channel = self._channels[node] = grpc.insecure_channel(self.addresses[node], options=CHANNEL_OPTIONS)
        return kv_pb2_grpc.KVStub(channel)

    def _candidates(self, first_round: bool = False) -> list[str]:
        nodes = sorted(self.addresses)
        home = self.home if first_round and time.monotonic() >= self._home_quiet_until else None
        ahead = [n for n in (home, self._leader) if n in self.addresses]
        for node in reversed(dict.fromkeys(ahead)):
            nodes.remove(node)
            nodes.insert(0, node)
        return nodes

    def register(self, timeout: float | None = None) -> int:
        """Open a new session (writes do so themselves when they need one); its id."""
        self._register(time.monotonic() + (timeout if timeout is not None else self.timeout))
        return self.session

    def _register(self, deadline: float) -> None:
        request = kv_pb2.KVRequest(client_id=self.client_id, op=kv_pb2.KV_OP_REGISTER)
        # Not a write of the caller's: a registration lost in flight opens a session nobody uses, no more.
        reply, _, _ = self._send(request, deadline, write=False, what="registering a session: ")
        if reply.code != OK or not reply.session:
            raise LabError(f"registering a session failed: {reply.error or kv_pb2.KVCode.Name(reply.code)}")
        self.session = reply.session

    def _call(self, op: int, key: str, timeout: float | None = None, **fields: Any) -> Result:
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        try:
            request = kv_pb2.KVRequest(client_id=self.client_id, op=op, key=key, **fields)
        except UnicodeEncodeError:  # e.g. a key from a command line that was not UTF-8
            raise LabError("keys and values must be text (UTF-8): this one has bytes that are not") from None
        if op == kv_pb2.KV_OP_GET:
            reply, node, _ = self._send(request, deadline, write=False)
            return Result(reply.code, reply.value, reply.index, node)
        while True:
            if not self.session:
                self._register(deadline)
            request.session, request.seq = self.session, next(self._seq)
            reply, node, unknown = self._send(request, deadline, write=True)
            if reply.code != SESSION_EXPIRED:
                return Result(reply.code, reply.value, reply.index, node)
            self.session = 0  # forgotten by the cluster: the next try or write registers anew
            if unknown:
                raise NotAcknowledged(f"session expired ({node}: {reply.error}); outcome unknown: an earlier "
                                      "try may have been applied", unknown=True)
            # Every earlier try was surely not applied, and this one was refused: send it anew.

    def _send(self, request: kv_pb2.KVRequest, deadline: float, write: bool,
              what: str = "") -> tuple[kv_pb2.KVReply, str, bool]:
        """Send ``request`` until a node answers it with something other than "try elsewhere":
        that reply, who gave it, and whether an earlier try may have been applied (a write's).
        ``NotAcknowledged`` at the deadline; ``LabError`` if refused outright or a bad request."""
        unknown = False  # did any attempt possibly reach a leader that may apply it?
        last_error = "no node answered"
        backoff = _BACKOFF[0]
        first_round = True  # the home node is asked once a call: after its redirect, the leader
        while True:
            redirected = False
            failed: set[str] = set()  # nodes that did not answer this round
            candidates, first_round = self._candidates(first_round), False
            for node in candidates:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    reply = self._stub(node).Execute(request, timeout=min(_ATTEMPT_TIMEOUT, remaining),
                                                     metadata=self._metadata)
                except grpc.RpcError as exc:
                    if exc.code() in _REFUSED:  # too large to be taken, or not the cluster's secret: surely not applied
                        raise LabError(f"refused by {node}, not applied: {exc.details()}") from None
                    # Refused before sending: not applied. Anything else: it may have been.
                    if not (exc.code() == grpc.StatusCode.UNAVAILABLE and "refused" in (exc.details() or "").lower()):
                        unknown = unknown or write
                    last_error = f"{node}: {exc.code().name.lower()}"
                    failed.add(node)
                    if self._leader == node:
                        self._leader = None
                    if node == self.home:  # crashed or paused: do not pay its timeout on every call
                        self._home_quiet_until = time.monotonic() + _HOME_QUIET
                    continue
                if reply.code in _RETRY:
                    if reply.code == kv_pb2.KV_CODE_UNAVAILABLE:
                        unknown = unknown or write
                    last_error = f"{node}: {reply.error or kv_pb2.KVCode.Name(reply.code).lower()}"
                    hint = reply.leader_hint
                    if hint and hint in self.addresses and hint != node and hint not in failed:
                        self._leader = hint
                        redirected = True
                        break  # go straight to the hinted leader (a stale hint waits for the backoff)
                    continue
                self._leader = node
                if reply.code == kv_pb2.KV_CODE_BAD_REQUEST:
                    raise LabError(f"bad request: {reply.error}")
                return reply, node, unknown
            if time.monotonic() >= deadline:
                outcome = "outcome unknown: it may have been applied" if unknown else "not applied"
                raise NotAcknowledged(f"{what}not acknowledged within the deadline ({last_error}); {outcome}", unknown)
            if redirected:
                continue
            time.sleep(min(backoff, max(0.0, deadline - time.monotonic())))
            backoff = min(backoff * 2, _BACKOFF[1])

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def __enter__(self) -> KVClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The cluster's secret on every gRPC call: who may talk to a node or to the proxy.

Every node and the proxy listen on TCP ports of 127.0.0.1, which any local user can reach.
Each cluster has a secret (random, in its 0700 run directory, readable by its owner only:
:meth:`chaoslab.process.rundir.RunDir.secret`); its own processes and its owner's clients
send it as call metadata, and a server built with :func:`secret_check` refuses any call
without it (``UNAUTHENTICATED``) before its request is even parsed. The check is per call,
not per message: a peer stream or a ``KV.Stream`` pays it once.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

METADATA_KEY = "chaoslab-secret"
REFUSAL = "this cluster takes calls only from its own processes and its owner (no or wrong cluster secret)"


def secret_metadata(secret: str) -> tuple[tuple[str, str], ...]:
    """The metadata that carries ``secret`` on a call."""
    return ((METADATA_KEY, secret),)


async def _refuse(request: Any, context: grpc.aio.ServicerContext) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSAL)


class SecretCheck(grpc.aio.ServerInterceptor):
    """Serve a call only if its metadata carries the cluster's secret (compared in constant time)."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a cluster secret must not be empty")
        self._secret = secret.encode()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        for key, value in details.invocation_metadata or ():
            if key == METADATA_KEY:
                given = value.encode() if isinstance(value, str) else value
                if hmac.compare_digest(given, self._secret):
                    return await continuation(details)
                break
        handler = await continuation(details)
        if handler is None:
            return None  # an unknown method stays UNIMPLEMENTED
        # The same kind of handler, so gRPC drives it as it would the real one; the request
        # goes unparsed (no deserializer): a stranger's bytes are never decoded.
        if handler.request_streaming and handler.response_streaming:
            return grpc.stream_stream_rpc_method_handler(_refuse)
        if handler.request_streaming:
            return grpc.stream_unary_rpc_method_handler(_refuse)
        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(_refuse)
        return grpc.unary_unary_rpc_method_handler(_refuse)

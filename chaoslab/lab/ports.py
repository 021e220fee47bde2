"""Choosing the ports a cluster binds, all on 127.0.0.1."""

from __future__ import annotations

import socket
from contextlib import ExitStack

from chaoslab.errors import LabError
from chaoslab.process.spec import HOST, ClusterSpec, NodeAddress


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As gRPC does: a port only some connection's local end (or TIME_WAIT) uses is free to listen on.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(1)  # the port must be free to listen on, not only to bind
    return sock


def assign_ports(spec: ClusterSpec) -> list[NodeAddress]:
    """Node ports then proxy ports: ``base_port`` onwards, or free ones picked by the kernel.

    Every port is held open until all are chosen, so no two collide; they are
    released just before the children bind them.
    """
    count = 2 * spec.nodes
    with ExitStack() as stack:
        ports = []
        for i in range(count):
            wanted = spec.base_port + i if spec.base_port else 0
            try:
                sock = stack.enter_context(_bind(wanted))
            except OSError:
                raise LabError(f"port {wanted} on {HOST} is in use (needed {spec.base_port}-{spec.base_port + count - 1})") from None
            ports.append(sock.getsockname()[1])
    ids = spec.node_ids
    return [NodeAddress(id=i, port=ports[k], proxy_port=ports[spec.nodes + k]) for k, i in enumerate(ids)]

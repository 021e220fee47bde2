"""What a kept channel saves an operator command: ``Cluster.command`` against a channel a call.

    python benchmarks/command_channel.py [--calls 300] [--rounds 3]

Maelstrom workloads send each client message as a ``Node.Command`` (``chaoslab send``, the
scripted runs' echo/broadcast/g-counter/lin-kv clients). ``Cluster.command`` keeps one channel a
node; before, each call read the cluster's spec and secret files and opened a channel. Both
ways take turns against one echo node (``tests/plugins/maelstrom_nodes/echo.py``) in the same
process, ``--calls`` sequential commands a round; the best round of each is reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _common import machine_facts  # benchmarks/ is on sys.path

import grpc

from chaoslab import Cluster
from chaoslab.process.spec import HOST, ClusterSpec
from chaoslab.v1 import node_pb2, node_pb2_grpc
from chaoslab.wire.auth import secret_metadata

ECHO = Path(__file__).resolve().parents[1] / "tests" / "plugins" / "maelstrom_nodes" / "echo.py"
ARGS = {"body": {"type": "echo", "echo": "x"}, "client": "c1"}


def channel_a_call(cluster: Cluster, node: str) -> object:
    """The command path as it was: spec and secret read, a channel opened and closed, per call."""
    address = ClusterSpec.load(cluster.run.cluster).address(node)
    request = node_pb2.CommandRequest(name="client", args_json=json.dumps(ARGS), timeout_s=5.0)
    with grpc.insecure_channel(f"{HOST}:{address.port}") as channel:
        reply = node_pb2_grpc.NodeStub(channel).Command(request, timeout=6.0,
                                                       metadata=secret_metadata(cluster.run.secret()))
    return json.loads(reply.result_json)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args(argv)
    for line in machine_facts():
        print(line)
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as home, \
            Cluster.up("maelstrom", nodes=1, home=home, overrides=[f"bin={ECHO}"]) as cluster:
        ways = {"kept channel (Cluster.command)": lambda: cluster.command("n1", "client", ARGS),
                "a channel a call (before)": lambda: channel_a_call(cluster, "n1")}
        for _ in range(opts.rounds):
            for name, call in ways.items():
                started = time.perf_counter()
                for _ in range(opts.calls):
                    call()
                best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
    for name, seconds in best.items():
        print(f"{name:32} {opts.calls / seconds:7.0f} commands/s  {seconds / opts.calls * 1e6:6.0f} us each")
    kept, before = best.values()
    print(f"ratio: {before / kept:.2f}x the commands a second with the kept channel")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

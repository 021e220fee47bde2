"""What hosting a Maelstrom program costs: the host hop alone, and program-to-program over the lab.

    python benchmarks/maelstrom_host.py [--quick] [--count 2000] [--flood 20000]

1. The host hop alone, in this process: a ``LineProgram`` (what a node runs its program
   with) around a program that echoes each line straight back; ``--count`` sequential round
   trips (host -> program -> host, two hops of the pipe and a loop turn) and a burst of
   ``--flood`` lines, timed on this process's clock.
2. Over a real 2-node cluster (``up maelstrom`` with ``maelstrom_pingpong.py``), timed inside
   the program: ``--count`` sequential ping/pong round trips n1 -> n2 -> n1 (each way:
   program -> host -> proxy -> host -> program), and ``--flood`` messages n1 -> n2 back to
   back (messages a host pair relays per second). Compare a one-way p50 with the proxied p50
   of ``proxy_latency.py`` (a node's core sending, no program): the difference is the hosts.
3. Broadcast gossip (needs ``node``): a 5-node grid of ``tests/plugins/maelstrom_nodes/
   broadcast.js`` (``--workload broadcast``); ``--broadcasts`` values sent by 4 client threads
   round-robin over the nodes, timed until every node reads them all, and the peer messages the
   hosts relayed meanwhile (gossip and its acknowledgements, from the hosts' own counts).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import machine_facts, percentile  # benchmarks/ is on sys.path

from chaoslab import Cluster
from chaoslab.lab.poll import wait_until
from chaoslab.runtime.program import LineProgram
from chaoslab.wire.status import node_statuses

HERE = Path(__file__).resolve().parent
BROADCAST_NODE = HERE.parent / "tests" / "plugins" / "maelstrom_nodes" / "broadcast.js"
CLIENTS = 4
ECHO_LINES = [sys.executable, "-u", "-c", "import sys\nfor line in sys.stdin: sys.stdout.write(line); sys.stdout.flush()"]


async def host_hop(count: int, flood: int) -> tuple[list[float], float]:
    loop = asyncio.get_running_loop()
    arrived: asyncio.Queue[str] = asyncio.Queue()
    program = LineProgram("bench", ECHO_LINES, arrived.put_nowait, lambda code: None)
    await program.start()
    try:
        for _ in range(200):  # warm-up
            program.write("x")
            await arrived.get()
        rtts = []
        for i in range(count):
            t = loop.time()
            program.write(f'{{"i": {i}}}')
            await arrived.get()
            rtts.append((loop.time() - t) * 1e6)
        t = loop.time()
        for i in range(flood):
            program.write(f'{{"i": {i}}}')
        for _ in range(flood):
            await arrived.get()
        return sorted(rtts), flood / (loop.time() - t)
    finally:
        await program.close()


def over_cluster(count: int, flood: int) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory() as home, Cluster.up(
        "maelstrom", nodes=2, home=home, overrides=[f"bin={HERE / 'maelstrom_pingpong.py'}"], timeout=30,
    ) as cluster:
        cluster.command("n1", "client", {"body": {"type": "rtt", "count": 200, "peer": "n2"}}, timeout=30)  # warm-up
        reply = cluster.command("n1", "client", {"body": {"type": "rtt", "count": count, "peer": "n2"}}, timeout=120)
        done = cluster.command("n1", "client", {"body": {"type": "flood", "count": flood, "peer": "n2"}}, timeout=120)
        assert done["got"] == flood, done
        return sorted(float(r) for r in reply["rtts"]), flood / done["seconds"]


def broadcast_gossip(count: int) -> tuple[float, int]:
    """Seconds from the first broadcast until every node reads all ``count``; peer messages sent meanwhile."""
    with tempfile.TemporaryDirectory() as home, Cluster.up(
        "maelstrom", nodes=5, home=home, overrides=[f"bin={BROADCAST_NODE}", "workload=broadcast"], timeout=30,
    ) as cluster:
        nodes = cluster.node_ids

        def peer_messages() -> int:
            return sum(sum(s["maelstrom"]["sent_by_type"].values()) for s in node_statuses(cluster.status()).values())

        def send(client: int) -> None:
            for value in range(client, count, CLIENTS):
                body = {"type": "broadcast", "message": value}
                assert cluster.command(nodes[value % len(nodes)], "client", {"body": body}, timeout=10)["type"] == "broadcast_ok"

        def everywhere() -> bool:
            return all(len(cluster.command(n, "client", {"body": {"type": "read"}}, timeout=10)["messages"]) == count
                       for n in nodes)

        before = peer_messages()  # topology syncs at start-up
        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(send, range(CLIENTS)))
        wait_until(everywhere, timeout=120, interval=0.01, what="every broadcast at every node")
        elapsed = time.monotonic() - started
        return elapsed, peer_messages() - before


def show(label: str, values: list[float]) -> str:
    return (f"  {label:<44} p50 {percentile(values, 50):7.0f}  p90 {percentile(values, 90):7.0f}  "
            f"p99 {percentile(values, 99):7.0f}  mean {statistics.fmean(values):7.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 round trips, 3,000 messages")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--flood", type=int, default=20000)
    parser.add_argument("--broadcasts", type=int, default=2000)
    args = parser.parse_args()
    count, flood, broadcasts = (300, 3000, 500) if args.quick else (args.count, args.flood, args.broadcasts)
    for line in machine_facts():
        print(line)
    rtts, lines_per_s = asyncio.run(host_hop(count, flood))
    print(show("host <-> program round trip (pipe, 2 hops)", rtts))
    print(f"  host <-> program burst: {lines_per_s:,.0f} lines/s each way")
    started = time.monotonic()
    peer, relayed = over_cluster(count, flood)
    print(show("n1 -> n2 -> n1 program round trip", peer))
    print(f"  one way (half the round trip): p50 {percentile(peer, 50) / 2:.0f} µs")
    print(f"  n1 -> n2 flood: {relayed:,.0f} messages/s through two hosts and the proxy "
          f"(cluster part {time.monotonic() - started:.1f} s)")
    if shutil.which("node") is None:
        print("  broadcast gossip: skipped (node is not installed)")
        return
    seconds, relayed = broadcast_gossip(broadcasts)
    print(f"  broadcast gossip, 5-node grid: {broadcasts:,} broadcasts at every node in {seconds:.2f} s "
          f"({broadcasts / seconds:,.0f}/s); {relayed:,} peer messages ({relayed / broadcasts:.1f} a broadcast), "
          f"{relayed / seconds:,.0f}/s over 5 hosts, {relayed / seconds / 5:,.0f}/s a host")


if __name__ == "__main__":
    main()

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
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import machine_facts, percentile  # benchmarks/ is on sys.path

from chaoslab import Cluster
from chaoslab.runtime.program import LineProgram

HERE = Path(__file__).resolve().parent
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


def show(label: str, values: list[float]) -> str:
    return (f"  {label:<44} p50 {percentile(values, 50):7.0f}  p90 {percentile(values, 90):7.0f}  "
            f"p99 {percentile(values, 99):7.0f}  mean {statistics.fmean(values):7.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 round trips, 3,000 messages")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--flood", type=int, default=20000)
    args = parser.parse_args()
    count, flood = (300, 3000) if args.quick else (args.count, args.flood)
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


if __name__ == "__main__":
    main()

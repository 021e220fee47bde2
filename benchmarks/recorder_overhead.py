"""What recording a history costs the chaos workload: KV throughput with and without the recorder.

    python benchmarks/recorder_overhead.py [--quick] [--clients 1,4,16] [--duration 5] [--rounds 3]

One 3-node raft cluster (``Cluster.up`` in a temporary home, so nothing leaks).
For each client count, that many closed-loop client threads in this process,
each with its own synchronous :class:`~chaoslab.client.KVClient` (as
:class:`~chaoslab.chaos.workload.KVWorkload` has them), 50 % get and 50 % put
over 8 keys, as fast as the cluster answers. Measured in alternating rounds,
plain then recorded, ``--duration`` seconds each: "recorded" wraps every call
in ``HistoryRecorder.invoke`` / ``complete`` (one JSON line each, flushed, under
one lock), "plain" does not. Reports ops/s of each (median over rounds) and
recorded / plain.

Then the recorder alone, no cluster: invoke + complete pairs per second from
one thread and from 8, the cost per operation a workload pays at most.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import machine_facts  # benchmarks/ is on sys.path

from chaoslab.chaos.history import HistoryRecorder
from chaoslab.client import KVClient
from chaoslab.lab.cluster import Cluster

KEYS = [f"k{i}" for i in range(8)]


def measure(cluster: Cluster, clients: int, duration: float, recorder: HistoryRecorder | None) -> float:
    """Operations a second that ``clients`` closed-loop threads complete in ``duration`` seconds."""
    stop = threading.Event()
    done = [0] * clients
    kvs = [KVClient.for_cluster(cluster, timeout=5.0) for _ in range(clients)]
    for kv in kvs:
        kv.get("warm")  # find the leader and open the channel before the clock starts

    def client(p: int) -> None:
        kv, n = kvs[p], 0
        while not stop.is_set():
            key = KEYS[n % len(KEYS)]
            read = n % 2 == 0
            n += 1
            handle = recorder.invoke(p, "read" if read else "write", key, None if read else f"p{p}-{n}") if recorder else 0
            result = kv.get(key) if read else kv.put(key, f"p{p}-{n}")
            if recorder:
                recorder.complete(handle, "ok", result.value if read else None, node=result.node)
            done[p] += 1

    threads = [threading.Thread(target=client, args=(p,)) for p in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    stop.wait(duration)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for kv in kvs:
        kv.close()
    return sum(done) / elapsed


def recorder_alone(path: Path, threads: int, per_thread: int) -> float:
    """invoke + complete pairs a second, ``threads`` threads sharing one recorder."""
    recorder = HistoryRecorder(path, time.time_ns())

    def work(p: int) -> None:
        for i in range(per_thread):
            h = recorder.invoke(p, "write", KEYS[i % 8], f"p{p}-{i}")
            recorder.complete(h, "ok", node="n1")

    workers = [threading.Thread(target=work, args=(p,)) for p in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    recorder.close()
    return threads * per_thread / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,4,16", help="client counts, comma-separated")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="plain/recorded pairs per client count")
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 clients, 2 s, 1 round")
    args = parser.parse_args()
    counts = [4] if args.quick else [int(c) for c in args.clients.split(",")]
    duration, rounds = (2.0, 1) if args.quick else (args.duration, args.rounds)
    for line in machine_facts(f"{rounds} round(s) of {duration:g} s per row, plain and recorded alternating"):
        print(line)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        with Cluster.up("raft", nodes=3, home=home / "home", seed=1) as cluster:
            cluster.wait_for_leader()
            print(f"{'clients':>7}  {'plain ops/s':>12}  {'recorded ops/s':>14}  {'recorded/plain':>14}")
            for clients in counts:
                plain, recorded = [], []
                for r in range(rounds):
                    plain.append(measure(cluster, clients, duration, None))
                    with HistoryRecorder(home / f"history-{clients}-{r}.jsonl", time.time_ns()) as rec:
                        recorded.append(measure(cluster, clients, duration, rec))
                p, q = statistics.median(plain), statistics.median(recorded)
                print(f"{clients:>7}  {p:>12,.0f}  {q:>14,.0f}  {q / p:>14.3f}", flush=True)
        for threads in (1, 8):
            rate = recorder_alone(home / "alone.jsonl", threads, 20_000 // threads if args.quick else 100_000 // threads)
            print(f"recorder alone, {threads} thread(s): {rate:,.0f} operations/s "
                  f"({1e6 / rate:.1f} us per invoke + complete)")


if __name__ == "__main__":
    sys.exit(main())

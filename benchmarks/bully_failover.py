"""Bully failover time: from SIGKILL of the coordinator to the next coordinator taking office.

    python benchmarks/bully_failover.py [--nodes 5] [--kills 20] [--set bully.coordinator_timeout_ms=500]

One cluster (``Cluster.up("bully")`` in a temporary home) with the timeouts of
``clusters/bully.toml`` unless ``--set`` says otherwise. Each round: wait until the
cluster is stable (every node up, all following the highest id), wait a random
0.3-0.8 s (so the kill falls anywhere in the heartbeat cycle), SIGKILL the coordinator's
process (``os.kill`` of the pid the supervisor reports; the wall clock read right before),
then read ``events.jsonl`` for the times when the next-highest node became coordinator
(``takeover``) and when the last live node followed it (``all follow``). The killed node
is restarted (it bullies back) before the next round. Reported: p50, p99 (nearest rank: with
20 rounds the second-highest) and max of both, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from chaoslab.lab.cluster import Cluster
from chaoslab.wire.status import node_statuses

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_facts, percentile


def statuses(cluster: Cluster) -> dict[str, dict]:
    return node_statuses(cluster.status(timeout=2.0))


def stable(cluster: Cluster, top: str) -> bool:
    s = statuses(cluster)
    return len(s) == len(cluster.node_ids) and all(x["leader"] == top for x in s.values()) and s[top]["role"] == "coordinator"


def wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not reached within {timeout:g}s")
        time.sleep(0.02)


def read_events(path: Path, since: float) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("time", 0) >= since:
            out.append(e)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=5)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    rng = random.Random(args.seed)
    takeover: list[float] = []
    everyone: list[float] = []
    with tempfile.TemporaryDirectory() as home, Cluster.up(
        "bully", nodes=args.nodes, seed=args.seed, home=home, overrides=args.overrides
    ) as cluster:
        ids = cluster.node_ids
        top, next_ = ids[-1], ids[-2]
        events_path = cluster.run.events
        for round_ in range(1, args.kills + 1):
            wait(lambda: stable(cluster, top), 15.0, f"round {round_}: all following {top}")
            time.sleep(rng.uniform(0.3, 0.8))
            pid = next(n.pid for n in cluster.status().nodes if n.id == top)
            killed = time.time()
            os.kill(pid, signal.SIGKILL)
            wait(lambda: stable_without(cluster, top, next_), 15.0, f"round {round_}: {next_} taking over")
            evs = read_events(events_path, killed)
            took = min(e["time"] for e in evs if e["source"] == next_ and e["kind"] == "role" and e["role"] == "coordinator")
            follows = [e["time"] for e in evs if e["kind"] == "leader" and e.get("leader") == next_]
            last = max([took, *follows])
            takeover.append((took - killed) * 1e3)
            everyone.append((last - killed) * 1e3)
            print(f"round {round_:2}: {next_} coordinator after {takeover[-1]:6.0f} ms, all follow after {everyone[-1]:6.0f} ms",
                  flush=True)
            cluster.restart(top)
    lines = machine_facts(f"cluster: bully x{args.nodes}, {args.kills} kills of the coordinator, overrides {args.overrides or 'none'}")
    for name, values in (("takeover", takeover), ("all follow", everyone)):
        v = sorted(values)
        lines.append(f"{name:>10}: p50 {percentile(v, 50):5.0f} ms   p99 {percentile(v, 99):5.0f} ms   max {v[-1]:5.0f} ms")
    print("\n".join(lines))
    return 0


def stable_without(cluster: Cluster, dead: str, top: str) -> bool:
    s = {n: x for n, x in statuses(cluster).items() if n != dead}
    return len(s) == len(cluster.node_ids) - 1 and all(x["leader"] == top for x in s.values()) and s[top]["role"] == "coordinator"


if __name__ == "__main__":
    raise SystemExit(main())

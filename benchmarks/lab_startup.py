"""Time from `chaoslab up raft --nodes N` to its return, and memory per process.

    python benchmarks/lab_startup.py [--nodes 5] [--runs 5]

Runs the real CLI in a temporary home, so the figure includes everything a
user waits for: interpreter start, the supervisor, the proxy, N nodes, the
first election. Prints each run, the median, and RSS of each process kind.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times, node_rss, proxy_rss, sup_rss = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CHAOSLAB_HOME": str(Path(tmp) / ".chaoslab")}
        cli = [sys.executable, "-m", "chaoslab"]
        for i in range(args.runs):
            start = time.perf_counter()
            subprocess.run([*cli, "up", "raft", "--nodes", str(args.nodes), "--seed", str(i + 1)], env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
            time.sleep(1.0)  # let start-up settle before measuring memory
            snap = json.loads(subprocess.run([*cli, "status", "--json"], env=env, check=True, capture_output=True).stdout)
            node_rss += [rss_kib(n["pid"]) for n in snap["nodes"]]
            proxy_rss.append(rss_kib(snap["proxy_pid"]))
            sup_rss.append(rss_kib(snap["supervisor_pid"]))
            subprocess.run([*cli, "down"], env=env, check=True, capture_output=True)
            print(f"run {i + 1}: up returned in {times[-1]:.2f} s")
    print(f"up raft --nodes {args.nodes}: median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}) over {args.runs} runs")
    print(f"RSS per node: median {statistics.median(node_rss) / 1024:.1f} MiB; "
          f"proxy {statistics.median(proxy_rss) / 1024:.1f} MiB; supervisor {statistics.median(sup_rss) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()

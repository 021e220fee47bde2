"""Time and messages per Byzantine agreement, OM(m) and SM(m), on real clusters.

    python benchmarks/byzantine_agreement.py [--agreements 5] [--nodes 4,7,10] [--round-ms 200]

For each protocol, each n in ``--nodes`` and each m in 1..3 that the protocol allows at that n
(OM: n >= 3m+1; SM: n >= m+2), one cluster (``Cluster.up`` in a temporary home) with m traitors
(the last m nodes, equivocating) and ``--agreements`` agreements commanded by the loyal n1,
alternating attack and retreat, each through the same Python API as ``chaoslab order``
(:func:`run_agreement`). Time is from the order to the last loyal lieutenant's decision as the lab
sees it (polling status every 50 ms, so up to ~50 ms late); messages are all nodes' sends.

OM decides as soon as every expected value arrived; SM cannot know no more signed values are
coming, so it waits for its last round's deadline, (m+1) x round_ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from _common import machine_facts

from chaoslab import Cluster
from chaoslab.algorithms.byzantine.adapters.agreement import run_agreement


def allowed(protocol: str, n: int, m: int) -> bool:
    return n >= 3 * m + 1 if protocol == "om" else n >= m + 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agreements", type=int, default=5)
    parser.add_argument("--nodes", default="4,7,10")
    parser.add_argument("--round-ms", type=int, default=200)
    parser.add_argument("--protocols", default="om,sm")
    args = parser.parse_args()
    sizes = [int(n) for n in args.nodes.split(",")]
    lines = machine_facts(f"{args.agreements} agreements per row, round_ms={args.round_ms}, traitors = m (equivocate)")
    for line in lines:
        print(line, flush=True)
    print(f"{'protocol':8} {'n':>3} {'m':>2} {'time p50':>9} {'min':>7} {'max':>7} {'messages':>9} {'rounds':>6}  ok")
    for protocol in args.protocols.split(","):
        for n in sizes:
            for m in (1, 2, 3):
                if not allowed(protocol, n, m):
                    continue
                traitors = ",".join(f"n{i}" for i in range(n - m + 1, n + 1))
                with tempfile.TemporaryDirectory() as home:
                    cluster = Cluster.up(
                        "byzantine", nodes=n, seed=1, home=Path(home),
                        overrides=[f"protocol={protocol}", f"traitor_ids={traitors}", f"m={m}",
                                   "strategy=equivocate", f"round_ms={args.round_ms}"],
                    )
                    try:
                        reports = [run_agreement(cluster, ("attack", "retreat")[i % 2], "n1")
                                   for i in range(args.agreements)]
                    finally:
                        cluster.down()
                times = sorted(r.elapsed_s * 1000 for r in reports)
                messages = {r.messages for r in reports}
                ok = sum(r.ok for r in reports)
                print(f"{protocol.upper():8} {n:>3} {m:>2} {statistics.median(times):>7.0f}ms {times[0]:>5.0f}ms {times[-1]:>5.0f}ms "
                      f"{'/'.join(map(str, sorted(messages))):>9} {max(r.rounds for r in reports):>6}  {ok}/{len(reports)}",
                      flush=True)


if __name__ == "__main__":
    sys.exit(main())

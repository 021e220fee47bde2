"""How fast `chaoslab check` decides: operations checked per second, by shape of history.

    python benchmarks/check_speed.py [--quick] [--repeat 3] [--profile]

Histories come from the reference store in ``chaoslab.check.generate``
(linearizable by construction; each client is busy about 90% of the time, so
with c clients about 0.9c operations overlap at any moment; each operation takes
effect at a uniformly random point of its interval, so overlapping operations
take effect in random order, the hardest case; "server-like" rows apply each
operation within the first 5% of its latency, as a server that applies
requests in about the order they arrive and answers later); the invalid ones
from ``stale_read`` (one read returns an overwritten value). Only
``check_history`` is timed (parsing in-memory records, partitioning, the
search, and for invalid histories the bisection that finds the smallest
failing prefix), best of ``--repeat`` runs, as CPU time (the check is one
thread; on a shared machine wall time says more about the neighbours) and wall
time; ops/s is from CPU time. Sections:

- size: 1k, 10k, 100k operations (10 clients, 100 operations a key);
- concurrency: 5, 10, 50 clients (~1,700 operations over 10 keys: the shape of
  Porcupine's 50-client key-value benchmark; and a single register);
- info: share of operations whose outcome is unknown;
- keys: the same 10k operations over 1 to 1,000 keys;
- invalid: the same sizes with one stale read, and the time a verdict takes.

``--profile`` runs cProfile on the 100k-operation history and prints the top
functions (where the time goes).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import machine_facts  # noqa: E402

from chaoslab.check import check_history  # noqa: E402
from chaoslab.check.generate import KV_MIX, REGISTER_MIX, generate, stale_read  # noqa: E402


def timed(records: list[dict[str, Any]], model: str, repeat: int, timeout: float) -> tuple[float, float, str, int]:
    """Best CPU time and best wall time of ``repeat`` checks (CPU time: the machine is shared)."""
    cpu, wall, verdict, steps = float("inf"), float("inf"), "", 0
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = check_history(records, model, timeout=timeout)
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start)
        verdict, steps = result.verdict, sum(p.steps for p in result.partitions)
    return cpu, wall, verdict, steps


def row(label: str, ops: int, cpu: float, wall: float, verdict: str, steps: int) -> None:
    rate = ops / cpu if cpu > 0 else float("inf")
    print(f"{label:<46} {ops:>7,} ops  cpu {cpu * 1000:>9.1f} ms  wall {wall * 1000:>9.1f} ms "
          f"{rate:>9,.0f} ops/s  {verdict:<8} {steps:>10,} steps", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smaller sizes, one run each")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--timeout", type=float, default=60.0, help="per check (verdict unknown past it)")
    p.add_argument("--profile", action="store_true")
    args = p.parse_args()
    repeat = 1 if args.quick else args.repeat
    big = 10_000 if args.quick else 100_000
    for line in machine_facts():
        print(line)
    print()

    def kv(n: int, clients: int, keys: int, info: float = 0.0, seed: int = 1) -> Any:
        return generate(n, clients=clients, keys=keys, info=info, mix=KV_MIX, seed=seed)

    print("== size (10 clients, kv, 100 operations a key)")
    for n in (1_000, 10_000, big):
        g = kv(n, 10, max(1, n // 100))
        row(f"{n:,} ops", len(g.records) // 2, *timed(g.records, "kv", repeat, args.timeout))

    print("\n== concurrency (~1,700 ops)")
    for clients in (5, 10, 50):
        g = kv(1_700, clients, 10)
        row(f"kv, 10 keys, {clients} clients", len(g.records) // 2, *timed(g.records, "kv", repeat, args.timeout))
    porcupine = {"append": 6, "get": 3, "put": 1}  # the shape of Porcupine's c10/c50 kv histories (6.824)
    for clients in (10, 50):
        g = generate(1_700, clients=clients, keys=10, mix=porcupine, seed=1, spread=0.05)
        row(f"kv append/get/put, 10 keys, {clients} clients, server-like", len(g.records) // 2,
            *timed(g.records, "kv", repeat, args.timeout))
    for clients in (10, 50):
        g = generate(1_700, clients=clients, keys=10, mix=porcupine, seed=1)
        row(f"kv append/get/put, 10 keys, {clients} clients, any order", len(g.records) // 2,
            *timed(g.records, "kv", 1 if clients > 10 else repeat, args.timeout))
    for clients in (5, 10, 20, 50):
        g = generate(1_700, clients=clients, keys=1, mix=REGISTER_MIX, seed=1)
        row(f"cas-register (one key), {clients} clients", len(g.records) // 2,
            *timed(g.records, "cas-register", 1 if clients > 10 else repeat, args.timeout))
    for clients in (10, 50):
        g = generate(1_700, clients=clients, keys=1, mix={"read": 1, "write": 9}, seed=1)
        row(f"register, 90% writes, {clients} clients", len(g.records) // 2,
            *timed(g.records, "register", repeat, args.timeout))

    print("\n== info share (10k ops, 10 clients, 100 keys)")
    for info in (0.0, 0.01, 0.05, 0.1, 0.2):
        g = kv(10_000, 10, 100, info)
        row(f"{info:.0%} unknown outcomes", len(g.records) // 2, *timed(g.records, "kv", repeat, args.timeout))

    print("\n== keys (10k ops, 10 clients)")
    for keys in (1, 10, 100, 1_000):
        g = kv(10_000, 10, keys)
        row(f"{keys:,} keys", len(g.records) // 2, *timed(g.records, "kv", repeat, args.timeout))

    print("\n== not linearizable: one stale read (10 clients, 100 operations a key; incl. finding the window)")
    for n in (1_000, 10_000, big):
        g = kv(n, 10, max(1, n // 100), seed=2)
        bad, _ = stale_read(g, 1)
        row(f"{n:,} ops, valid", len(g.records) // 2, *timed(g.records, "kv", repeat, args.timeout))
        row(f"{n:,} ops, one stale read", len(bad) // 2, *timed(bad, "kv", repeat, args.timeout))
    for n in (200, 500, 1_000, 2_000):
        g = generate(n, clients=5, keys=1, mix=REGISTER_MIX, seed=2)
        bad, _ = stale_read(g, 1)
        row(f"one register, {n:,} ops, 5 clients, stale read", len(bad) // 2,
            *timed(bad, "cas-register", repeat, args.timeout))

    if args.profile:
        g = kv(big, 10, big // 100, 0.05)
        print(f"\n== profile: {big:,} ops, 10 clients, {big // 100:,} keys, 5% info")
        prof = cProfile.Profile()
        prof.enable()
        check_history(g.records, "kv")
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    return 0


if __name__ == "__main__":
    sys.exit(main())

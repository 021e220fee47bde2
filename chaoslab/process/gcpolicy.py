"""Garbage-collector settings for the lab's long-running processes (nodes, proxy).

Every message allocates short-lived objects (entries, commands, results,
protobuf wrappers) that reference counting frees; almost none form cycles.
With CPython's default thresholds (700, 10, 10) the cyclic collector still ran
about 260 times per 50,000 replicated writes and took about 9 % of a node's
CPU, most of it rescanning state that lives for the whole run (the log, the
client sessions, the imported modules). Collecting gen 0 every 100,000
allocations instead raised write throughput by about 15 % on the 2-core
machine (``benchmarks/kv_throughput.py``, 1,024 clients), at the price of a
few MB more between collections. Cycles are still collected, just less often.
"""

from __future__ import annotations

import gc

THRESHOLDS = (100_000, 50, 20)


def tune_for_throughput() -> None:
    """Call once start-up is done: what exists by then (modules, gRPC) is never garbage."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)

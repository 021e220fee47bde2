"""Helpers the benchmark scripts share: percentiles and the facts every report starts with.

The scripts run as ``python benchmarks/NAME.py``, so this folder is on sys.path
and they import it as ``_common``.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of already sorted values (NaN when empty)."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))]


def machine_facts(*extra: str) -> list[str]:
    """Command line, machine and Python: the first lines of every report, then ``extra`` lines."""
    import grpc

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}",
        f"machine: nproc={nproc} ({model or platform.machine()}), {platform.system()} {platform.release()}",
        f"python {platform.python_version()} ({platform.python_implementation()}), grpcio {grpc.__version__}",
        *extra,
    ]

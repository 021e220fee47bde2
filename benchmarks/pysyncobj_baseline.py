"""PySyncObj on 3 local nodes, measured the way its own benchmark measures it: the baseline to beat.

    python benchmarks/pysyncobj_baseline.py [--quick] [--nodes 3] [--rates 8000,16000,24000,32000] [--duration 6]

PySyncObj (bakwc/PySyncObj, ``pip install -e '.[bench]'``) ships
``benchmarks/testobj.py`` and ``benchmarks/benchmarks.py``. They start each
node as a separate process holding a replicated object; every node generates
load in-process: once a second it submits ``rate / nodes`` calls of a
``@replicated`` method in one burst, then sleeps out the second. After a few
seconds of that and a drain, each node reports the share of its calls whose
callback said SUCCESS; a rate "passes" when that share is at least 0.9, and
``benchmarks.py`` binary-searches the highest passing rate (25 s a run, five
searches). ``testobj_delay.py`` measures latency the same way, with
``appendEntriesUseBatch=False``, from a timestamp carried in the call to its
callback.

This script does the same with less waiting, so it fits in a benchmark run:
a ladder of total rates (fresh processes for each, as ``benchmarks.py`` does),
``--duration`` seconds of load after a warm-up, stopping at the first rate that
fails, then two bisections between the last pass and that failure (to within
about 1,000/s, which the coarse ladder alone misses by up to 4,000/s); latency from the call's timestamp to its callback on every call; and one
low-rate run without batching for PySyncObj's unbatched latency. One change:
each node submits its second's calls in 100 bursts (every 10 ms) rather than
one, so latency is the system's and not the wait behind a second's burst
(``--bursts 1`` is testobj.py exactly; the highest passing rate is about the
same either way, p50 at 8,000/s is ~590 ms with one burst against ~230 ms with ten). Each node process is this very file run with ``--node``; they live in
a temporary directory and are killed in ``finally``.

Note what PySyncObj does not do: by default its log lives in memory (no journal
file, no fsync), and its "commit" is acknowledged from the in-memory log. A
chaoslab write is fsynced on a majority before it is acknowledged.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import machine_facts, percentile  # benchmarks/ is on sys.path

HOST = "127.0.0.1"
PASS_SHARE = 0.9  # benchmarks.py: a rate passes when >= 90 % of calls succeed
CMD_SIZE = 16  # bytes of payload per call (chaoslab's benchmark puts 16-byte values)
DEFAULT_RATES = [8000, 16000, 20000, 24000, 28000]  # total calls/s tried in turn
DEFAULT_SLICES = 100  # bursts a second each node submits in


# ---------------------------------------------------------------- one node process (``--node``)


def node_main(args: argparse.Namespace) -> int:
    """testobj.py / testobj_delay.py: one replicated object, load generated in-process."""
    import random

    from pysyncobj import FAIL_REASON, SyncObj, SyncObjConf, replicated

    class TestObj(SyncObj):
        def __init__(self, self_addr: str, partners: list[str], conf: SyncObjConf) -> None:
            super().__init__(self_addr, partners, conf)
            self.applied = 0

        @replicated
        def testMethod(self, value: str, call_time: float) -> float:  # PySyncObj's benchmark name
            self.applied += 1
            return call_time

    conf = SyncObjConf(appendEntriesUseBatch=not args.unbatched)
    obj = TestObj(args.node, args.partners, conf)
    sent = success = errors = 0
    latencies: list[float] = []
    error_kinds: dict[str, int] = {}
    window = [0.0, 0.0]

    def callback(res: object, err: int) -> None:
        nonlocal success, errors
        if err == FAIL_REASON.SUCCESS:
            success += 1
            latencies.append(time.time() - res)  # type: ignore[operator]
        else:
            errors += 1
            error_kinds[str(err)] = error_kinds.get(str(err), 0) + 1

    deadline = time.time() + 30.0
    while obj._getLeader() is None:  # a private method, as testobj.py uses
        if time.time() > deadline:
            print(json.dumps({"error": "no leader within 30 s"}), flush=True)
            return 2
        time.sleep(0.05)
    time.sleep(args.warmup)

    # testobj.py submits a second's calls in one burst, then sleeps out the second;
    # ``--slices N`` spreads them over N bursts a second (N = 1 is testobj.py).
    per_slice = [int(args.rate) * (i + 1) // args.slices - int(args.rate) * i // args.slices for i in range(args.slices)]
    period = 1.0 / args.slices
    fmt = "%0" + str(CMD_SIZE) + "x"
    start = window[0] = time.time()
    tick = 0
    while time.time() - start < args.duration:
        for _ in range(per_slice[tick % args.slices]):
            obj.testMethod(fmt % random.randrange(16**CMD_SIZE), time.time(), callback=callback)
            sent += 1
        tick += 1
        delay = start + tick * period - time.time()
        if delay > 0:
            time.sleep(delay)
    window[1] = time.time()
    time.sleep(args.drain)
    latencies.sort()
    print(json.dumps({
        "node": args.node, "sent": sent, "success": success, "errors": errors, "error_kinds": error_kinds,
        "seconds": window[1] - window[0], "applied": obj.applied,
        "lat_ms": [round(x * 1e3, 3) for x in latencies[:: max(1, len(latencies) // 20000)]],
        "lat_count": len(latencies),
    }), flush=True)
    obj.destroy()
    return 0


# ---------------------------------------------------------------- the driver


@dataclass
class RateResult:
    rate: int  # offered, all nodes together, calls/s
    unbatched: bool
    sent: int = 0
    success: int = 0
    errors: int = 0
    seconds: float = 0.0
    lat_ms: list[float] = field(default_factory=list)  # sorted
    failed: str = ""  # a node process that did not report

    @property
    def share(self) -> float:
        return self.success / self.sent if self.sent else 0.0

    @property
    def passed(self) -> bool:
        return not self.failed and self.share >= PASS_SHARE

    @property
    def commits_per_s(self) -> float:
        return self.success / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        return percentile(self.lat_ms, p)


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def run_rate(rate: int, nodes: int, duration: float, warmup: float, drain: float, tmp: Path,
             unbatched: bool = False, slices: int = 1) -> RateResult:
    """One singleBenchmark(): ``nodes`` fresh processes, each offering ``rate / nodes`` calls/s."""
    addrs = [f"{HOST}:{p}" for p in free_ports(nodes)]
    per_node = max(1, rate // nodes)
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    result = RateResult(per_node * nodes, unbatched)
    workdir = Path(tempfile.mkdtemp(prefix=f"rate{rate}-", dir=tmp))
    try:
        for i, addr in enumerate(addrs):
            cmd = [sys.executable, str(Path(__file__).resolve()), "--node", addr, *[a for a in addrs if a != addr],
                   "--rate", str(per_node), "--duration", str(duration), "--warmup", str(warmup), "--drain", str(drain)]
            if unbatched:
                cmd.append("--unbatched")
            if slices != 1:
                cmd += ["--slices", str(slices)]
            logs.append(open(workdir / f"node{i}.log", "wb"))  # noqa: SIM115 (closed in finally)
            procs.append(subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=logs[-1], start_new_session=True))
        limit = time.monotonic() + 30 + warmup + duration + drain + 15
        for i, p in enumerate(procs):
            try:
                out, _ = p.communicate(timeout=max(1.0, limit - time.monotonic()))
            except subprocess.TimeoutExpired:
                result.failed = f"node {i} did not finish"
                continue
            try:
                rep = json.loads(out.decode().strip().splitlines()[-1])
            except (ValueError, IndexError):
                result.failed = f"node {i} exited {p.returncode} without a report"
                continue
            if "error" in rep:
                result.failed = f"node {i}: {rep['error']}"
                continue
            result.sent += rep["sent"]
            result.success += rep["success"]
            result.errors += rep["errors"]
            result.seconds = max(result.seconds, rep["seconds"])
            # Each node reports at most ~20,000 of its latencies, evenly spaced in sorted order
            # (a faithful sample of its distribution); nodes offer equal rates, so merging is fair.
            result.lat_ms += rep["lat_ms"]
    finally:
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for f in logs:
            f.close()
    result.lat_ms.sort()
    return result


@dataclass
class Baseline:
    nodes: int
    runs: list[RateResult]
    unbatched: RateResult | None
    seconds: float
    version: str
    slices: int = DEFAULT_SLICES

    @property
    def best(self) -> RateResult | None:
        passing = [r for r in self.runs if r.passed]
        return max(passing, key=lambda r: r.commits_per_s) if passing else None


def pysyncobj_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pysyncobj")
    except PackageNotFoundError:
        return None


def measure(nodes: int = 3, rates: list[int] | None = None, duration: float = 6.0, warmup: float = 2.0,
            drain: float = 2.0, unbatched_rate: int = 300, slices: int = DEFAULT_SLICES, refine: int = 2,
            log=print) -> Baseline:
    """The ladder of rates (stopping at the first that fails), then ``refine`` bisections between
    the last rate that passed and the one that failed (as benchmarks.py's binary search, to within
    1,000/s), and one unbatched low-rate run."""
    version = pysyncobj_version()
    if version is None:
        raise RuntimeError("pysyncobj is not installed: pip install -e '.[bench]'")
    rates = rates or DEFAULT_RATES
    begin = time.monotonic()
    runs: list[RateResult] = []

    def run(rate: int, tmp: str) -> RateResult:
        r = run_rate(rate, nodes, duration, warmup, drain, Path(tmp), slices=slices)
        runs.append(r)
        log(f"  pysyncobj {nodes} nodes, offered {r.rate:>6}/s: {r.commits_per_s:>8.0f} commits/s, "
            f"success {r.share:.0%}, p50 {r.pct(50):.1f} ms, p99 {r.pct(99):.1f} ms"
            + (f"  [{r.failed}]" if r.failed else "") + ("" if r.passed else "  -> fails the 90 % bar"))
        return r

    with tempfile.TemporaryDirectory(prefix="chaoslab-pysyncobj-") as tmp:
        passed, failed = None, None
        for rate in rates:
            if run(rate, tmp).passed:
                passed = rate
            else:
                failed = rate
                break
        for _ in range(refine):
            if passed is None or failed is None or failed - passed <= 1000:
                break
            mid = (passed + failed) // 2 // 500 * 500
            if run(mid, tmp).passed:
                passed = mid
            else:
                failed = mid
        unbatched = None
        if unbatched_rate:
            unbatched = run_rate(unbatched_rate, nodes, duration, warmup, drain, Path(tmp), unbatched=True,
                                 slices=slices)
            log(f"  pysyncobj {nodes} nodes, unbatched, offered {unbatched.rate}/s: p50 {unbatched.pct(50):.2f} ms, "
                f"p99 {unbatched.pct(99):.2f} ms, success {unbatched.share:.0%}")
    return Baseline(nodes, runs, unbatched, time.monotonic() - begin, version, slices)


def print_baseline(b: Baseline) -> None:
    bursts = "one burst a second, as testobj.py" if b.slices == 1 else f"in {b.slices} bursts a second"
    print(f"PySyncObj {b.version} baseline: {b.nodes} local node processes, load generated in each node "
          f"(rate/{b.nodes} calls a node, {bursts}), {CMD_SIZE}-byte payload, in-memory journal (no fsync); "
          f"a rate passes when >= {PASS_SHARE:.0%} of calls succeed")
    print(f"  {'offered/s':>10}{'commits/s':>11}{'success':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  batched")
    for r in [*b.runs, *([b.unbatched] if b.unbatched else [])]:
        print(f"  {r.rate:>10}{r.commits_per_s:>11.0f}{r.share:>9.0%}{r.pct(50):>9.1f}{r.pct(99):>9.1f}"
              f"{r.pct(100):>9.1f}  {'no' if r.unbatched else 'yes'}" + (f"  [{r.failed}]" if r.failed else ""))
    best = b.best
    if best:
        print(f"  highest passing rate: {best.commits_per_s:.0f} commits/s (p50 {best.pct(50):.0f} ms, "
              f"p99 {best.pct(99):.0f} ms)")
    else:
        print("  no rate passed the 90 % success bar")
    print(f"  ({b.seconds:.0f} s)")


def code_state() -> str:
    """The chaoslab commit measured, and whether the working tree differed from it."""
    repo = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                             timeout=5, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=5, check=False).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    if not sha:
        return "unknown (not a git checkout)"
    return f"commit {sha}" + (f" + uncommitted changes in {len(dirty)} tracked files" if dirty else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (one rate, ~10 s)")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--rates", default=None, help="comma-separated total rates to try, calls/s")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load per rate (default 6)")
    parser.add_argument("--bursts", type=int, default=DEFAULT_SLICES,
                        help="bursts a second each node submits in (1 = testobj.py exactly; default 100: paced, "
                             "so latency is not a burst's queue)")
    # --node mode: one PySyncObj process (started by the driver)
    parser.add_argument("--node", default=None, help=argparse.SUPPRESS)
    parser.add_argument("partners", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=float, default=2.0, help=argparse.SUPPRESS)
    parser.add_argument("--drain", type=float, default=2.0, help=argparse.SUPPRESS)
    parser.add_argument("--unbatched", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--slices", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.node:
        if args.duration is None:
            args.duration = 6.0
        return node_main(args)
    for line in machine_facts(f"code: {code_state()}", f"pysyncobj {pysyncobj_version() or 'not installed'}"):
        print(line)
    rates = [int(x) for x in args.rates.split(",")] if args.rates else ([8000] if args.quick else None)
    duration = args.duration or (2.0 if args.quick else 6.0)
    try:
        b = measure(args.nodes, rates, duration, warmup=1.0 if args.quick else 2.0, drain=1.0 if args.quick else 2.0,
                    unbatched_rate=150 if args.quick else 300, slices=args.bursts, refine=0 if args.quick else 2)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print()
    print_baseline(b)
    return 0 if b.best else 1


if __name__ == "__main__":
    sys.exit(main())

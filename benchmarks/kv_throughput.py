"""KV throughput and latency of a raft cluster, 3 and 5 nodes, against PySyncObj on the same machine.

    python benchmarks/kv_throughput.py [--quick] [--nodes 3,5] [--clients 1,16,64,256,1024,2048] [--duration 4]
                                       [--warmup 1] [--api stream|unary] [--no-baseline]

For each node count, one cluster (``Cluster.up`` in a temporary home, so
nothing leaks); its leader found through the supervisor's status. For each
workload (``put``: writes only; ``mixed``: 50 % get, 50 % put) and each client
count, that many closed-loop clients run in this process on grpc.aio: each
registers a session first (before the warm-up), then has one request in flight
at a time with an increasing seq (a session allows no more), so N clients keep
N requests in flight. By default
they share ``--conns`` long-lived ``KV.Stream`` calls to the leader: whatever
the clients queued while the previous write was out goes as one ``KVBatch``,
and replies (``KVReplyBatch``) are matched by client id and seq. ``--api
unary`` makes each request a concurrent ``KV.Execute`` call instead. After ``--warmup`` seconds, every
request that completes within the next ``--duration`` seconds counts:
ops/s (OK replies), p50/p99/max latency (send to reply, in this process), and
errors (a non-OK code, e.g. UNAVAILABLE) and timeouts (no reply in
``--timeout`` s). Keys are drawn from 1,000, values are 16 bytes.

CPU seconds of every process (leader, followers, proxy, this load generator)
are read from /proc over each measurement, so the report says where the time
went, per operation. The disk's fdatasync latency is probed before and after
the run: every flush of a node waits for one, so the figures move with it.

Then, unless ``--no-baseline``, PySyncObj on 3 nodes, measured the way its own
benchmark does (``benchmarks/pysyncobj_baseline.py``), and the ratio
chaoslab / PySyncObj.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from collections.abc import Callable
from typing import Any

from _common import machine_facts, percentile  # benchmarks/ is on sys.path

import grpc

from chaoslab.errors import LabError
from chaoslab.lab.cluster import Cluster
from chaoslab.process.spec import HOST, ClusterSpec
from chaoslab.v1 import kv_pb2, kv_pb2_grpc
from chaoslab.wire.auth import secret_metadata
from chaoslab.wire.streams import CHANNEL_OPTIONS

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pysyncobj_baseline  # a sibling script (benchmarks/ is on sys.path)
from proxy_latency import MachineShare, proc_cpu_s

KEYS = 1000
KEY_NAMES = [f"k{i}" for i in range(KEYS)]
_MEASUREMENTS = itertools.count(1)
VALUE_BYTES = 16
OK = kv_pb2.KV_CODE_OK
NOT_FOUND = kv_pb2.KV_CODE_NOT_FOUND


# ---------------------------------------------------------------- connections to the leader


class Timeout(Exception):
    pass


Callback = Callable[[Any], None]  # gets a KVReply, or the exception that ended the request


class StreamConn:
    """One ``KV.Stream`` call: what clients queued goes out as one ``KVBatch`` per write; replies are
    matched by (client_id, seq) and handed to each request's callback."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float, metadata: Any) -> None:
        self.call = kv_pb2_grpc.KVStub(channel).Stream(metadata=metadata)
        self.timeout = timeout
        self.waiters: dict[tuple[str, int], Callback] = {}
        self.batch = kv_pb2.KVBatch()  # what goes out with the next write
        self.ready = asyncio.Event()
        self.broken: BaseException | None = None
        self.deadlines: collections.deque[tuple[float, tuple[str, int]]] = collections.deque()
        self.tasks = [asyncio.create_task(self._write()), asyncio.create_task(self._read()),
                      asyncio.create_task(self._sweep())]

    def submit(self, req: dict[str, Any], callback: Callback) -> None:
        """Send one request (KVRequest's fields); ``callback`` gets its reply, a Timeout or the error."""
        if self.broken is not None:
            callback(self.broken)
            return
        key = (req["client_id"], req["seq"])
        self.waiters[key] = callback
        self.deadlines.append((time.monotonic() + self.timeout, key))
        self.batch.requests.add(**req)  # built in the next message, not built and then copied in
        self.ready.set()

    async def _write(self) -> None:
        # grpc.aio allows one write in flight per call; whatever queued meanwhile rides the next one.
        try:
            while True:
                await self.ready.wait()
                self.ready.clear()
                batch, self.batch = self.batch, kv_pb2.KVBatch()
                if batch.requests:
                    await self.call.write(batch)
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as exc:
            self._fail(exc)

    async def _read(self) -> None:
        try:
            async for batch in self.call:
                for reply in batch.replies:
                    callback = self.waiters.pop((reply.client_id, reply.seq), None)
                    if callback is not None:
                        callback(reply)
            self._fail(ConnectionError("the server ended the stream"))
        except grpc.aio.AioRpcError as exc:
            self._fail(exc)

    async def _sweep(self) -> None:
        """Time out requests in send order: one timer for all, not one per request."""
        while True:
            await asyncio.sleep(self.timeout / 10)
            now = time.monotonic()
            while self.deadlines and (self.deadlines[0][0] <= now or self.deadlines[0][1] not in self.waiters):
                _, key = self.deadlines.popleft()
                callback = self.waiters.pop(key, None)
                if callback is not None:
                    callback(Timeout())

    def _fail(self, exc: BaseException) -> None:
        self.broken = exc
        waiters, self.waiters = self.waiters, {}
        for callback in waiters.values():
            callback(exc)

    async def close(self) -> None:
        self.call.cancel()
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class UnaryConn:
    """Every request its own concurrent ``KV.Execute`` call on one channel."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float, metadata: Any) -> None:
        self.stub = kv_pb2_grpc.KVStub(channel)
        self.timeout = timeout
        self.metadata = metadata  # the cluster's secret, which every call carries
        self.tasks: set[asyncio.Task[None]] = set()

    def submit(self, req: dict[str, Any], callback: Callback) -> None:
        task = asyncio.create_task(self._execute(kv_pb2.KVRequest(**req), callback))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _execute(self, req: kv_pb2.KVRequest, callback: Callback) -> None:
        try:
            reply: Any = await self.stub.Execute(req, timeout=self.timeout, metadata=self.metadata)
        except grpc.aio.AioRpcError as exc:
            reply = Timeout() if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED else exc
        callback(reply)

    async def close(self) -> None:
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


# ---------------------------------------------------------------- clients and one measurement


@dataclass
class Stats:
    """What completed inside the measurement window."""

    ok: int = 0
    errors: int = 0
    timeouts: int = 0
    lat_us: list[float] = field(default_factory=list)
    error_kinds: collections.Counter[str] = field(default_factory=collections.Counter)


@dataclass
class Window:
    start: float = float("inf")  # perf_counter seconds
    end: float = float("inf")

    def holds(self, t: float) -> bool:
        return self.start <= t < self.end


class Client:
    """A closed loop: one request in flight, the next sent from the reply's callback.

    Callbacks rather than a coroutine per client: at 1,024 clients the load
    generator shares the machine's two cores with the cluster, and a task switch
    per request cost it about as much CPU as the leader's whole share.
    """

    def __init__(self, conn: Any, cid: str, mixed: bool, window: Window, stats: Stats, rng: random.Random) -> None:
        self.conn, self.cid, self.mixed, self.window, self.stats, self.rng = conn, cid, mixed, window, stats, rng
        self.seq = 0
        self.session = 0
        self.t0 = 0.0
        self.stopped = False
        self.idle = asyncio.Event()
        self.value = "v" * VALUE_BYTES

    def start(self) -> None:
        """Register a session (matched on the stream by seq 0), then start the loop."""
        if self.stopped:
            self.idle.set()
            return
        self.conn.submit({"client_id": self.cid, "seq": 0, "op": kv_pb2.KV_OP_REGISTER}, self.on_registered)

    def on_registered(self, reply: Any) -> None:
        if isinstance(reply, kv_pb2.KVReply) and reply.code == OK and reply.session:
            self.session = reply.session
            self.send()
        else:
            asyncio.get_running_loop().call_later(0.01, self.start)

    def send(self) -> None:
        if self.stopped:
            self.idle.set()
            return
        self.seq += 1
        get = self.mixed and self.rng.random() < 0.5
        # A get needs a seq too, only so that its reply can be matched on the stream;
        # the state machine ignores it (reads are not logged).
        req = {"client_id": self.cid, "session": self.session, "seq": self.seq,
               "op": kv_pb2.KV_OP_GET if get else kv_pb2.KV_OP_PUT,
               "key": KEY_NAMES[int(self.rng.random() * KEYS)], "value": "" if get else self.value}
        self.t0 = time.perf_counter()
        self.conn.submit(req, self.on_reply)

    def on_reply(self, reply: Any) -> None:
        t1 = time.perf_counter()
        if isinstance(reply, kv_pb2.KVReply):
            outcome = "ok" if reply.code in (OK, NOT_FOUND) else kv_pb2.KVCode.Name(reply.code).lower()
        elif isinstance(reply, Timeout):
            outcome = "timeout"
        elif isinstance(reply, grpc.aio.AioRpcError):
            outcome = reply.code().name.lower()
        else:
            outcome = "disconnected"
        if self.window.holds(t1):
            if outcome == "ok":
                self.stats.ok += 1
                self.stats.lat_us.append((t1 - self.t0) * 1e6)
            elif outcome == "timeout":
                self.stats.timeouts += 1
            else:
                self.stats.errors += 1
                self.stats.error_kinds[outcome] += 1
        if outcome in ("ok", "timeout"):
            self.send()
        else:
            asyncio.get_running_loop().call_later(0.01, self.send)  # do not spin on a broken connection


@dataclass
class Result:
    nodes: int
    workload: str
    clients: int
    seconds: float
    stats: Stats
    cpu: dict[str, float]  # process kind -> CPU seconds in the window

    @property
    def ops(self) -> float:
        return self.stats.ok / self.seconds

    def pct(self, p: float) -> float:
        return percentile(self.stats.lat_us, p)


class Processes:
    """CPU seconds of the cluster's processes and of this one, by role."""

    def __init__(self, cluster: Cluster, leader: str) -> None:
        st = cluster.status()
        self.pids = {"leader": [n.pid for n in st.nodes if n.id == leader],
                     "followers": [n.pid for n in st.nodes if n.id != leader],
                     "proxy": [st.proxy_pid], "supervisor": [st.supervisor_pid]}

    def sample(self) -> dict[str, float]:
        out = {}
        for kind, pids in self.pids.items():
            total = 0.0
            for pid in pids:
                try:
                    total += proc_cpu_s(pid)
                except OSError:
                    pass
            out[kind] = total
        t = os.times()
        out["load generator"] = t.user + t.system
        return out


async def measure(conns: list[Any], nodes: int, workload: str, n_clients: int, warmup: float, duration: float,
                  timeout: float, procs: Processes, seed: int) -> Result:
    stats, window = Stats(), Window()
    rng = random.Random(seed)
    # Fresh client ids for every measurement: replies are matched by (client_id, seq), and a late one
    # from the last measurement must match nothing.
    tag = f"{workload[0]}{n_clients}-{next(_MEASUREMENTS)}-{rng.randrange(1 << 30):x}"
    clients = [Client(conns[i % len(conns)], f"{tag}-c{i}", workload == "mixed", window, stats, random.Random(rng.random()))
               for i in range(n_clients)]
    try:
        for c in clients:
            c.start()
        await asyncio.sleep(warmup)
        cpu0 = procs.sample()
        window.start = time.perf_counter()
        window.end = window.start + duration
        await asyncio.sleep(duration)
        cpu1 = procs.sample()
        seconds = time.perf_counter() - window.start
    finally:
        for c in clients:
            c.stopped = True
        # each stops after its request in flight is answered or times out
        await asyncio.wait([asyncio.create_task(c.idle.wait()) for c in clients], timeout=timeout + 1)
    stats.lat_us.sort()
    return Result(nodes, workload, n_clients, min(seconds, duration), stats, {k: cpu1[k] - cpu0[k] for k in cpu0})


async def run_cluster(nodes: int, args: argparse.Namespace, home: Path, log) -> list[Result]:
    cluster = Cluster.up("raft", nodes=nodes, seed=args.seed, home=home, name=f"bench{nodes}", overrides=args.set)
    results: list[Result] = []
    channel = None
    conns: list[Any] = []
    cpu_start = None
    try:
        leader = cluster.wait_for_leader()
        cpu_start = cluster_cpu(cluster)
        spec = ClusterSpec.load(cluster.run.cluster)
        address = f"{HOST}:{spec.address(leader).port}"
        procs = Processes(cluster, leader)
        log(f"  {nodes} nodes up, leader {leader} at {address}")
        channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        await asyncio.wait_for(channel.channel_ready(), 5.0)
        make = StreamConn if args.api == "stream" else UnaryConn
        metadata = secret_metadata(cluster.run.secret())
        conns = [make(channel, args.timeout, metadata) for _ in range(args.conns)]
        for workload in args.workloads:
            for n in args.clients:
                used = conns[: max(1, min(len(conns), n))]
                r = await measure(used, nodes, workload, n, args.warmup, args.duration, args.timeout, procs,
                                  args.seed * 1000 + n)
                results.append(r)
                log(f"  {nodes} nodes {workload:<5} {n:>3} clients: {r.ops:>7.0f} ops/s  p50 {r.pct(50) / 1e3:6.2f} ms"
                    f"  p99 {r.pct(99) / 1e3:6.2f} ms  errors {r.stats.errors}  timeouts {r.stats.timeouts}")
        if cluster.leader() != leader:
            log(f"  WARNING: leadership moved during the run (now {cluster.leader()}); figures may include an election")
    finally:
        for c in conns:
            await c.close()
        if channel is not None:
            await channel.close()
        if cpu_start is not None:
            try:
                CLUSTER_CPU[0] += cluster_cpu(cluster) - cpu_start
            except LabError:  # the supervisor is not answering; down() will say more
                pass
        cluster.down()
    return results


CLUSTER_CPU = [0.0]  # CPU seconds the benchmark's clusters used (to tell them from other processes)


def cluster_cpu(cluster: Cluster) -> float:
    st = cluster.status()
    total = 0.0
    for pid in [st.supervisor_pid, st.proxy_pid, *(n.pid for n in st.nodes)]:
        try:
            total += proc_cpu_s(pid)
        except OSError:
            pass
    return total


def fsync_probe(directory: Path, count: int = 300) -> tuple[float, float]:
    """p50 and p99 (ms) of a 300-byte append + fdatasync in ``directory``, what a WAL save does.

    A node's loop waits for this on every flush, so its figures move with the disk's.
    """
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    try:
        for _ in range(count):
            os.write(fd, b"x" * 300)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            times.append((time.perf_counter() - t0) * 1e3)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]


# ---------------------------------------------------------------- report


def print_results(results: list[Result], args: argparse.Namespace) -> None:
    conns = f"{args.conns} KV.Stream call(s)" if args.api == "stream" else "concurrent KV.Execute calls"
    print(f"chaoslab KV, closed-loop clients (one request in flight each) over {conns} to the leader; "
          f"{args.warmup:g} s warm-up, {args.duration:g} s measured; latency in ms; cluster settings: "
          + (", ".join(args.set) if args.set else "clusters/raft.toml defaults"))
    print(f"  {'nodes':>5} {'workload':<8}{'clients':>8}{'ops/s':>9}{'p50':>8}{'p99':>8}{'max':>8}{'errors':>8}"
          f"{'timeouts':>9}   CPU µs/op: leader followers proxy loadgen")
    for r in results:
        per = {k: v / max(1, r.stats.ok) * 1e6 for k, v in r.cpu.items()}
        print(f"  {r.nodes:>5} {r.workload:<8}{r.clients:>8}{r.ops:>9.0f}{r.pct(50) / 1e3:>8.2f}{r.pct(99) / 1e3:>8.2f}"
              f"{r.pct(100) / 1e3:>8.1f}{r.stats.errors:>8}{r.stats.timeouts:>9}   "
              f"{per['leader']:>14.0f}{per['followers']:>10.0f}{per['proxy']:>6.0f}{per['load generator']:>8.0f}"
              + (f"  ({dict(r.stats.error_kinds)})" if r.stats.error_kinds else ""))
    busiest = max(results, key=lambda r: r.ops)
    cores = {k: v / busiest.seconds for k, v in busiest.cpu.items()}
    print(f"  at the highest rate ({busiest.nodes} nodes, {busiest.workload}, {busiest.clients} clients), cores busy: "
          + ", ".join(f"{k} {v:.2f}" for k, v in cores.items() if k != "supervisor")
          + f" (of {len(os.sched_getaffinity(0))})")


def print_comparison(results: list[Result], base: pysyncobj_baseline.Baseline | None) -> None:
    three = [r for r in results if r.nodes == 3 and r.workload == "put"]
    if not three:
        return
    best = max(three, key=lambda r: r.ops)
    one = min(three, key=lambda r: r.clients)
    print()
    print(f"chaoslab 3 nodes, writes: best {best.ops:.0f} ops/s ({best.clients} clients, p50 {best.pct(50) / 1e3:.1f} ms, "
          f"p99 {best.pct(99) / 1e3:.1f} ms); {one.clients} client: p50 {one.pct(50) / 1e3:.2f} ms")
    if base is None:
        return
    pbest = base.best
    if pbest is None:
        print("PySyncObj: no rate passed; no ratio")
        return
    print(f"PySyncObj 3 nodes, writes: highest passing rate {pbest.commits_per_s:.0f} commits/s "
          f"(p50 {pbest.pct(50):.0f} ms, p99 {pbest.pct(99):.0f} ms)"
          + (f"; unbatched at {base.unbatched.rate}/s: p50 {base.unbatched.pct(50):.2f} ms" if base.unbatched else ""))
    print(f"ratio chaoslab / PySyncObj, write throughput: {best.ops / pbest.commits_per_s:.2f}")
    print(f"ratio chaoslab / PySyncObj, p50 latency, each at its highest rate (where PySyncObj's queue grows): "
          f"{best.pct(50) / 1e3 / pbest.pct(50):.2f}")
    if base.unbatched:
        print(f"ratio chaoslab ({one.clients} client) / PySyncObj (unbatched, {base.unbatched.rate}/s), p50 latency: "
              f"{one.pct(50) / 1e3 / base.unbatched.pct(50):.2f}")


async def amain(args: argparse.Namespace) -> int:
    begin = time.monotonic()
    share = MachineShare()
    results: list[Result] = []
    failed = ""
    with tempfile.TemporaryDirectory(prefix="chaoslab-kvbench-") as tmp:
        disk = [fsync_probe(Path(tmp))]
        for nodes in args.nodes:
            try:
                results += await run_cluster(nodes, args, Path(tmp) / "home", print)
            except Exception as exc:  # noqa: BLE001 (any failure of a cluster is reported, and the run goes on)
                failed = f"{nodes} nodes: {type(exc).__name__}: {exc}"
                print(f"  FAILED {failed}", file=sys.stderr)
        disk.append(fsync_probe(Path(tmp)))
    base = None
    if args.baseline:
        print("  PySyncObj baseline ...")
        try:
            base = await asyncio.to_thread(
                pysyncobj_baseline.measure, 3, [8000] if args.quick else None, 2.0 if args.quick else 6.0,
                1.0 if args.quick else 2.0, 1.0 if args.quick else 2.0, 150 if args.quick else 300)
        except RuntimeError as exc:  # not installed: the chaoslab figures stand on their own
            print(f"  PySyncObj baseline skipped: {exc}")
    t = os.times()
    others, steal = share.others(CLUSTER_CPU[0] + t.children_user + t.children_system)
    print()
    for line in machine_facts(f"code: {pysyncobj_baseline.code_state()}", f"pysyncobj {pysyncobj_baseline.pysyncobj_version() or 'not installed'}"):
        print(line)
    print(f"processes outside this benchmark (its clusters and PySyncObj nodes excluded) used {others:.0%} of the "
          f"machine's CPU (hypervisor steal {steal:.0%})"
          + ("  -- figures are noisier than on an idle machine" if others > 0.05 else ""))
    print(f"disk: a 300-byte append + fdatasync in {tempfile.gettempdir()} took p50 {disk[0][0]:.2f} ms, "
          f"p99 {disk[0][1]:.2f} ms before the run and p50 {disk[1][0]:.2f} ms, p99 {disk[1][1]:.2f} ms after "
          f"(every flush of a node waits for one)")
    print()
    if results:
        print_results(results, args)
    if base is not None:
        print()
        pysyncobj_baseline.print_baseline(base)
    print_comparison(results, base)
    print(f"whole run: {time.monotonic() - begin:.0f} s")
    if failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    if not results or all(r.stats.ok == 0 for r in results):
        print("FAILED: no operation succeeded", file=sys.stderr)
        return 1
    if base is not None and all(r.failed for r in base.runs):
        print(f"FAILED: PySyncObj did not run: {base.runs[0].failed}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (< 30 s)")
    parser.add_argument("--nodes", default=None, help="comma-separated cluster sizes (default 3,5; quick 3)")
    parser.add_argument("--clients", default=None, help="comma-separated client counts (default 1,16,64,256,1024,2048)")
    parser.add_argument("--workloads", default="put,mixed", help="put, mixed (50/50 get/put) or both")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per point (default 4)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds per point (default 1)")
    parser.add_argument("--timeout", type=float, default=2.0, help="a request not answered in this many seconds "
                        "is a timeout")
    parser.add_argument("--api", choices=("stream", "unary"), default="stream")
    parser.add_argument("--conns", type=int, default=4, help="KV.Stream calls the clients share (default 4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a cluster setting, e.g. raft.max_inflight=2 (repeatable)")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip PySyncObj")
    args = parser.parse_args()
    args.nodes = [int(x) for x in (args.nodes or ("3" if args.quick else "3,5")).split(",")]
    args.clients = [int(x) for x in (args.clients or ("1,256" if args.quick else "1,16,64,256,1024,2048")).split(",")]
    args.workloads = [w for w in args.workloads.split(",") if w]
    if any(w not in ("put", "mixed") for w in args.workloads):
        parser.error("--workloads: put and/or mixed")
    args.duration = args.duration or (1.5 if args.quick else 4.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 1.0)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())

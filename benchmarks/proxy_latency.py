"""What the fault proxy costs: one-way latency and throughput, direct hop vs through the proxy.

    python benchmarks/proxy_latency.py [--quick] [--rate 1000] [--count 4000] [--rounds 8] [--blast 50000]

Sets up what the lab sets up for two nodes: a temporary run directory, a
``cluster.json`` with ports from ``assign_ports``, and the real proxy process
(``python -m chaoslab.net.proxy RUN_DIR --parent-pid PID``). The sender (n1,
an ``OutboundStream`` as a node uses) and the sink (n2's ``Peer`` server on its
real port) live in this one process, so one clock (``perf_counter_ns``) times
every message: the send time travels in ``Envelope.seq`` and the sink takes the
difference. ``Envelope.term`` tags the phase, so a straggler from one phase is
never counted in the next.

Phases, after a warm-up of each path:
  1. latency, paced (no queueing): direct n1 -> n2, n1 -> proxy -> n2, and the
     same with a do-nothing rule (``delay 0ms``) active, the cost of the rule
     engine; the three take turns for ``--rounds`` rounds, so load from other
     processes hits them alike; then with ``delay 20ms``, its accuracy;
  3. throughput: a raw client stream blasting AppendEntries heartbeats as fast
     as gRPC takes them, direct and through the proxy; CPU of the proxy process
     per message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

from _common import machine_facts, percentile  # benchmarks/ is on sys.path

import grpc

from chaoslab.lab.ports import assign_ports
from chaoslab.net.proto import to_proto
from chaoslab.net.rules import FaultChange, delay_rule
from chaoslab.process.rundir import RunDir
from chaoslab.process.spec import HOST, ClusterSpec
from chaoslab.v1 import control_pb2, control_pb2_grpc, peer_pb2, peer_pb2_grpc
from chaoslab.wire.auth import secret_metadata
from chaoslab.wire.streams import CHANNEL_OPTIONS, OutboundStream, consume, new_server

TARGET_ADDED_P50_US = 250.0
DELAY_MS = 20.0


# ---------------------------------------------------------------- the sink (n2)


@dataclass
class Phase:
    tag: int
    expected: int
    latencies_ns: list[int] = field(default_factory=list)
    count: int = 0
    first_ns: int = 0
    last_ns: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Sink(peer_pb2_grpc.PeerServicer):
    """n2's (and n1's) Peer server: stamps each envelope of the current phase on arrival."""

    def __init__(self) -> None:
        self.phase = Phase(tag=0, expected=0)

    def start_phase(self, tag: int, expected: int) -> Phase:
        self.phase = Phase(tag=tag, expected=expected)
        return self.phase

    def _on_envelope(self, env: peer_pb2.Envelope) -> None:
        now = time.perf_counter_ns()
        phase = self.phase
        if env.term != phase.tag:
            return  # a straggler from an earlier phase
        if phase.count == 0:
            phase.first_ns = now
        phase.count += 1
        phase.last_ns = now
        phase.latencies_ns.append(now - env.seq)
        if phase.count >= phase.expected:
            phase.done.set()

    async def Send(self, request_iterator, context):  # type: ignore[no-untyped-def]
        return await consume(request_iterator, self._on_envelope)


def heartbeat(tag: int, i: int) -> peer_pb2.Envelope:
    """A small envelope like the ones a Raft leader sends most: an empty AppendEntries."""
    return peer_pb2.Envelope(
        src="n1", dst="n2", term=tag, trace_id=f"n1-{i}", seq=0,
        append_entries=peer_pb2.AppendEntries(term=tag, leader="n1", prev_log_index=1000 + i,
                                              prev_log_term=tag, leader_commit=1000 + i),
    )


async def wait_delivered(phase: Phase, timeout: float) -> None:
    """Until every message arrived, or ``timeout`` passed, or nothing arrived for a second."""
    deadline = time.monotonic() + timeout
    seen, quiet_since = -1, time.monotonic()
    while not phase.done.is_set() and time.monotonic() < deadline:
        if phase.count != seen:
            seen, quiet_since = phase.count, time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:
            return
        try:
            await asyncio.wait_for(phase.done.wait(), 0.1)
        except asyncio.TimeoutError:
            pass


# ---------------------------------------------------------------- the measurements


@dataclass
class LatencyResult:
    name: str
    sent: int
    delivered: int
    rate: float  # achieved send rate, msg/s
    lat_us: list[float]  # sorted

    def pct(self, p: float) -> float:
        return percentile(self.lat_us, p)


async def paced(name: str, stream: OutboundStream, sink: Sink, tag: int, count: int, rate: float) -> LatencyResult:
    """``count`` envelopes at ``rate``/s through ``stream``; one-way latency of each at the sink."""
    envs = [heartbeat(tag, i) for i in range(count)]
    phase = sink.start_phase(tag, count)
    interval = 1e9 / rate
    start = next_ns = time.perf_counter_ns()
    for env in envs:
        wait = next_ns - time.perf_counter_ns()
        if wait > 0:
            await asyncio.sleep(wait / 1e9)
        now = time.perf_counter_ns()
        env.seq = now
        stream.send(env)
        # Never catch up in bursts: a late tick moves the schedule, so messages never queue.
        next_ns = max(next_ns + interval, now + interval / 2)
    elapsed = (time.perf_counter_ns() - start) / 1e9
    await wait_delivered(phase, timeout=5.0)
    return LatencyResult(name, count, phase.count, count / elapsed, sorted(x / 1e3 for x in phase.latencies_ns))


@dataclass
class ThroughputResult:
    name: str
    sent: int
    delivered: int
    seconds: float  # first send to last delivery
    proxy_cpu_s: float | None

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0


async def blast(name: str, address: str, sink: Sink, tag: int, count: int, proxy_pid: int | None,
                metadata: Any) -> ThroughputResult:
    """One raw client stream fed as fast as gRPC takes it (no queue, so no drops at the sender)."""
    envs = [heartbeat(tag, i) for i in range(count)]
    phase = sink.start_phase(tag, count)

    async def messages():  # type: ignore[no-untyped-def]
        # One envelope per stream message: the sender's worst case (a node's
        # OutboundStream batches whatever queued up); the proxy batches on its way out.
        for env in envs:
            env.seq = time.perf_counter_ns()
            yield peer_pb2.EnvelopeBatch(envelopes=[env])

    cpu0 = proc_cpu_s(proxy_pid) if proxy_pid else None
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        await asyncio.wait_for(channel.channel_ready(), 5.0)
        start = time.perf_counter_ns()
        await peer_pb2_grpc.PeerStub(channel).Send(messages(), metadata=metadata)
        await wait_delivered(phase, timeout=30.0)
    cpu = proc_cpu_s(proxy_pid) - cpu0 if proxy_pid and cpu0 is not None else None
    return ThroughputResult(name, count, phase.count, (phase.last_ns - start) / 1e9, cpu)


def merge(name: str, results: list[LatencyResult]) -> LatencyResult:
    sent = sum(r.sent for r in results)
    rate = sent / sum(r.sent / r.rate for r in results)
    return LatencyResult(name, sent, sum(r.delivered for r in results), rate,
                         sorted(x for r in results for x in r.lat_us))


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")


async def change_faults(control: control_pb2_grpc.ProxyStub, change: FaultChange) -> control_pb2.FaultState:
    return await control.ChangeFaults(to_proto(change), timeout=5.0)


# ---------------------------------------------------------------- the proxy process


def proxy_command(run_dir: RunDir) -> list[str]:
    """Exactly how the supervisor starts the proxy (this process is its parent)."""
    return [sys.executable, "-m", "chaoslab.net.proxy", str(run_dir.path), "--parent-pid", str(os.getpid())]


def wait_until_serving(proc: subprocess.Popen[bytes], port: int, sock: Path, log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"proxy exited with {proc.returncode}: {log.read_text(errors='replace').strip()}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                if sock.exists():
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"proxy not serving on {HOST}:{port} after {timeout:.0f} s")


def stop_proxy(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- report


class MachineShare:
    """How much of the machine other processes took while we ran (they make every figure noisier)."""

    def __init__(self) -> None:
        self.begin = time.monotonic()
        self.busy0, self.steal0 = self._machine()
        self.own0 = self._own()

    @staticmethod
    def _machine() -> tuple[float, float]:
        # cpu  user nice system idle iowait irq softirq steal ...
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        tck = os.sysconf("SC_CLK_TCK")
        return (sum(ticks) - ticks[3] - ticks[4] - ticks[7]) / tck, ticks[7] / tck

    @staticmethod
    def _own() -> float:
        t = os.times()
        return t.user + t.system

    def others(self, proxy_cpu_s: float) -> tuple[float, float]:
        """(share of all CPUs other processes used, share stolen by the hypervisor), 0..1."""
        busy, steal = self._machine()
        capacity = (time.monotonic() - self.begin) * (os.cpu_count() or 1)
        other = busy - self.busy0 - (self._own() - self.own0) - proxy_cpu_s
        return max(0.0, other / capacity), (steal - self.steal0) / capacity


def print_report(args: argparse.Namespace, lat: list[LatencyResult], delay: LatencyResult | None,
                 thr: list[ThroughputResult], seconds: float, others: tuple[float, float]) -> None:
    print()
    print("chaoslab proxy benchmark: direct hop vs through the fault proxy (127.0.0.1, gRPC Peer.Send streams)")
    for line in machine_facts("asyncio default loop"):
        print(line)
    print(f"other processes used {others[0]:.0%} of the machine's CPU during the run (hypervisor steal {others[1]:.0%})"
          + ("  -- figures are noisier than on an idle machine" if others[0] > 0.10 else ""))
    print(f"target: the proxy adds under {TARGET_ADDED_P50_US:.0f} µs at p50")
    print()
    print(f"one-way latency, {args.count} heartbeats a path paced at {args.rate:.0f}/s, paths taking turns in "
          f"{args.rounds} rounds (µs; sender and sink share one clock)")
    print(f"  {'path':<34}{'rate/s':>8}{'recv':>7}{'p50':>9}{'p90':>9}{'p99':>9}{'p99.9':>9}{'max':>9}")
    for r in lat:
        print(f"  {r.name:<34}{r.rate:>8.0f}{r.delivered:>7}{r.pct(50):>9.0f}{r.pct(90):>9.0f}"
              f"{r.pct(99):>9.0f}{r.pct(99.9):>9.0f}{r.pct(100):>9.0f}")
    direct, proxied = lat[0], lat[1]
    added50, added99 = proxied.pct(50) - direct.pct(50), proxied.pct(99) - direct.pct(99)
    print(f"  added by the proxy:             p50 {added50:+.0f} µs   p99 {added99:+.0f} µs")
    if len(lat) > 2:
        rule = lat[2]
        print(f"  added by a 'delay 0ms' rule:    p50 {rule.pct(50) - proxied.pct(50):+.0f} µs   "
              f"p99 {rule.pct(99) - proxied.pct(99):+.0f} µs")
    if delay is not None:
        err = [x - DELAY_MS * 1e3 for x in delay.lat_us]
        acc = LatencyResult("", delay.sent, delay.delivered, delay.rate, err)
        print(f"  'delay {DELAY_MS:.0f}ms' rule, observed - {DELAY_MS:.0f} ms ({delay.delivered}/{delay.sent} recv at "
              f"{delay.rate:.0f}/s): min {acc.pct(0):+.0f}  p50 {acc.pct(50):+.0f}  p99 {acc.pct(99):+.0f}  "
              f"max {acc.pct(100):+.0f} µs")
        print(f"    of which the hold itself (beyond the no-rule proxied path): p50 {acc.pct(50) - proxied.pct(50):+.0f} µs")
    print()
    print(f"throughput, {args.blast} heartbeats a path ({heartbeat(1, 1).ByteSize()} B each) blasted on one client "
          f"stream, in 2 turns a path")
    print(f"  {'path':<34}{'msg/s':>9}{'delivered':>12}{'seconds':>9}{'proxy CPU':>11}{'µs/msg':>8}")
    for t in thr:
        cpu = f"{t.proxy_cpu_s:.2f} s" if t.proxy_cpu_s is not None else "-"
        per = f"{t.proxy_cpu_s / max(t.delivered, 1) * 1e6:.0f}" if t.proxy_cpu_s is not None else "-"
        print(f"  {t.name:<34}{t.rate:>9.0f}{t.delivered:>6}/{t.sent:<5}{t.seconds:>9.2f}{cpu:>11}{per:>8}")
    if len(thr) == 2 and thr[0].rate:
        print(f"  through the proxy / direct: {thr[1].rate / thr[0].rate:.2f}")
    print()
    verdict = "MET" if added50 < TARGET_ADDED_P50_US else "MISSED"
    print(f"verdict: the proxy adds {added50:.0f} µs at p50 (target < {TARGET_ADDED_P50_US:.0f} µs): {verdict}")
    print(f"whole run: {seconds:.1f} s")


# ---------------------------------------------------------------- main


async def run(args: argparse.Namespace, tmp: Path) -> int:
    begin = time.monotonic()
    share = MachineShare()
    run_dir = RunDir(tmp / "bench")
    run_dir.path.mkdir(mode=0o700)
    spec = ClusterSpec(name="bench", algorithm="raft", nodes=2, seed=7)
    spec.addresses = assign_ports(spec)
    spec.save(run_dir.cluster)
    # As in the lab: every hop carries the cluster's secret, and the sink (n2's server) checks it.
    secret = run_dir.write_secret()
    metadata = secret_metadata(secret)
    n1, n2 = spec.address("n1"), spec.address("n2")

    sink = Sink()
    server = new_server(secret)
    peer_pb2_grpc.add_PeerServicer_to_server(sink, server)
    for a in (n1, n2):  # both nodes' real ports, as in the lab (the proxy keeps a stream to each)
        server.add_insecure_port(f"{HOST}:{a.port}")
    await server.start()

    proxy_log = run_dir.proxy_log.open("wb")
    proc = subprocess.Popen(
        proxy_command(run_dir),
        stdin=subprocess.DEVNULL, stdout=proxy_log, stderr=subprocess.STDOUT,
    )
    direct = OutboundStream(f"{HOST}:{n2.port}", metadata=metadata)
    via_proxy = OutboundStream(f"{HOST}:{n2.proxy_port}", metadata=metadata)
    try:
        sock = run_dir.socket_path("proxy.sock")
        await asyncio.to_thread(wait_until_serving, proc, n2.proxy_port, sock, run_dir.proxy_log)
        direct.start()
        via_proxy.start()
        tags = iter(range(1, 10_000))
        warm = max(200, args.count // 10)
        for stream in (direct, via_proxy):
            await paced("warm-up", stream, sink, next(tags), warm, args.rate)
        async with grpc.aio.insecure_channel(f"unix:{sock}") as channel:
            control = control_pb2_grpc.ProxyStub(channel)
            noop = FaultChange(add=(delay_rule(0.0),))
            clear = FaultChange(clear_all=True)
            # (name, stream, fault change before, after): run in turns, round after round, so a
            # busy neighbour on the machine slows every path alike.
            configs = [("direct   n1 -> n2", direct, None, None),
                       ("proxied  n1 -> proxy -> n2", via_proxy, None, None),
                       ("proxied + rule 'delay 0ms'", via_proxy, noop, clear)]
            parts: dict[str, list[LatencyResult]] = {c[0]: [] for c in configs}
            per_round = max(1, args.count // args.rounds)
            for _ in range(args.rounds):
                for name, stream, before, after in configs:
                    if before is not None:
                        await change_faults(control, before)
                    parts[name].append(await paced(name, stream, sink, next(tags), per_round, args.rate))
                    if after is not None:
                        await change_faults(control, after)
            lat = [merge(name, results) for name, results in parts.items()]

            await change_faults(control, FaultChange(add=(delay_rule(DELAY_MS / 1e3),)))
            delay = await paced(f"proxied + rule 'delay {DELAY_MS:.0f}ms'", via_proxy, sink, next(tags),
                                max(100, args.count // 4), args.rate)
            await change_faults(control, clear)

            for port in (n2.port, n2.proxy_port):
                await blast("warm-up", f"{HOST}:{port}", sink, next(tags), max(1000, args.blast // 20), None, metadata)
            tparts: dict[str, list[ThroughputResult]] = {"direct   n1 -> n2": [], "proxied  n1 -> proxy -> n2": []}
            for _ in range(2):
                for (name, results), port, pid in zip(tparts.items(), (n2.port, n2.proxy_port), (None, proc.pid)):
                    results.append(await blast(name, f"{HOST}:{port}", sink, next(tags), args.blast // 2, pid, metadata))
            thr = [ThroughputResult(name, sum(r.sent for r in rs), sum(r.delivered for r in rs),
                                    sum(r.seconds for r in rs),
                                    None if rs[0].proxy_cpu_s is None else sum(r.proxy_cpu_s or 0 for r in rs))
                   for name, rs in tparts.items()]
            state = await control.Faults(control_pb2.Empty(), timeout=5.0)
    finally:
        proxy_cpu = proc_cpu_s(proc.pid) if proc.poll() is None else 0.0
        await direct.close()
        await via_proxy.close()
        stop_proxy(proc)
        proxy_log.close()
        await server.stop(grace=0.2)

    print_report(args, lat, delay, thr, time.monotonic() - begin, share.others(proxy_cpu))
    link = next((c for c in state.links if c.src == "n1" and c.dst == "n2"), None)
    if link is not None:
        print(f"proxy counters n1->n2 over the whole run: sent {link.sent}, delivered {link.delivered}, "
              f"dropped {link.dropped}, delayed {link.delayed}")
    if proc.returncode not in (0, None):
        print(f"proxy exited with {proc.returncode}: {run_dir.proxy_log.read_text(errors='replace')[-500:]}", file=sys.stderr)
        return 1
    lost = [r.name for r in [*lat, delay] if r.delivered < r.sent]
    if lost:
        print(f"messages lost in latency phases (should not happen without faults): {', '.join(lost)}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (a few seconds)")
    parser.add_argument("--rate", type=float, default=1000.0, help="paced send rate for latency, msg/s")
    parser.add_argument("--count", type=int, default=None, help="messages per latency phase (default 4000)")
    parser.add_argument("--rounds", type=int, default=None, help="latency paths take turns this many times (default 8)")
    parser.add_argument("--blast", type=int, default=None, help="messages per throughput phase (default 50000)")
    args = parser.parse_args()
    if args.count is None:
        args.count = 300 if args.quick else 4000
    if args.rounds is None:
        args.rounds = 2 if args.quick else 8
    if args.blast is None:
        args.blast = 3000 if args.quick else 50_000
    with tempfile.TemporaryDirectory(prefix="chaoslab-bench-") as tmp:
        return asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())

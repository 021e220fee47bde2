"""One seeded run, end to end: faults for a while, then "does it settle?".

Tests and ``python -m chaoslab.sim`` both go through :func:`run_scenario`, so
the replay command printed in a failure reproduces the failing run exactly.

Faults come from the seed (``nemesis``), from moments the algorithm names
(``crash_points``: right after a node votes, appends...), or from a written
``schedule``, all within the first ``duration`` seconds; then everything heals
and every crashed node restarts. The checks, each reported with the seed and
the replay line:

- safety invariants on every step (the spec's ``sim.invariants``);
- liveness: the cluster converges (a leader, for algorithms with one) within the
  spec's ``leader_bound`` of the last heal, and settles within ``settle``;
- with a workload (algorithms that serve the key-value API): every client done and
  every node caught up, then the spec's ``check_final`` (acknowledged writes
  survive, replicas agree); the clients' history is linearizable
  (:func:`chaoslab.check.check_history`; a check that times out is reported as
  unknown, not as a failure); with ``max_stall``, writes keep committing (no gap
  between acknowledged writes longer than that while clients run).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaoslab.algorithms.registry import DEFAULT_ALGORITHM
from chaoslab.algorithms.spec import AlgorithmSpec
from chaoslab.check import INVALID, UNKNOWN, CheckResult, check_history
from chaoslab.check.report import render_text
from chaoslab.sim.invariants import converged_for, invariants_for, spec_of
from chaoslab.sim.nemesis import CrashPoints, Nemesis
from chaoslab.sim.network import NetworkConfig
from chaoslab.sim.schedule import apply_schedule, parse_schedule
from chaoslab.sim.simulation import InvariantViolation, Simulation
from chaoslab.sim.workload import Workload

CHECK_TIMEOUT = 10.0  # seconds of wall time for the linearizability check before "unknown"


@dataclass
class ScenarioResult:
    """What one run showed. ``ok`` is false on a safety violation, a liveness failure, a lost
    write or a history that is not linearizable; ``violations`` holds every one found
    (``violation`` is the first)."""

    sim: Simulation
    seed: int
    faults_until: float  # when the fault window closed (0 without faults)
    settled_at: float | None  # virtual time the cluster settled, None if it did not
    violation: str | None  # the first of violations (None: ok)
    replay: str
    workload: Workload | None = None
    violations: list[str] = field(default_factory=list)
    linearizable: CheckResult | None = None  # the clients' history checked (with a workload)
    crash_points: CrashPoints | None = None

    @property
    def ok(self) -> bool:
        return self.violation is None

    def summary(self) -> str:
        sim = self.sim
        head = (
            f"seed={self.seed} steps={sim.steps} messages sent={sim.messages_sent} "
            f"delivered={sim.messages_delivered} lost={sim.messages_lost}"
        )
        if self.crash_points is not None:
            struck = ", ".join(f"{n} {p}" for p, n in self.crash_points.counts.items())
            head += f"\ncrash points struck: {struck}"
        if self.workload is not None:
            counts = self.workload.counts()
            head += f"\nclient operations: {counts['ok']} ok, {counts['fail']} failed, {counts['info']} unknown"
        lin = self.linearizable
        if lin is not None:
            why = f" ({lin.reason})" if lin.verdict == UNKNOWN and lin.reason else ""
            head += f"\nlinearizability: {lin.verdict}{why} in {lin.seconds:.3f}s"
        if self.violations:
            return head + "".join(f"\nVIOLATION: {v}" for v in self.violations)
        assert self.settled_at is not None
        return (
            f"{head}\nok: invariants held; settled at t={self.settled_at:.6f}s "
            f"({self.settled_at - self.faults_until:.3f}s after faults ended)"
        )


def replay_command(
    algorithm: str,
    *,
    seed: int,
    nodes: int,
    duration: float,
    nemesis: bool,
    network: NetworkConfig,
    config: Mapping[str, Any],
    settle: float,
    workload: int = 0,
    rate: float = 0.0,
    keys: int = 4,
    request_window: float = 0.0,
    fsync: float = 0.0,
    crash_points: Sequence[str] = (),
    schedule: str = "",
    max_stall: float = 0.0,
) -> str:
    """The ``python -m chaoslab.sim`` command line that repeats this run."""
    args = ["python", "-m", "chaoslab.sim", "--algorithm", algorithm, "--seed", str(seed), "--nodes", str(nodes)]
    args += ["--duration", f"{duration:g}", "--settle", f"{settle:g}"]
    if nemesis:
        args.append("--nemesis")
    if crash_points:
        args += ["--crash-after", ",".join(crash_points)]
    if schedule:
        args += ["--schedule", schedule]
    if fsync:
        args += ["--fsync-ms", f"{fsync * 1000:g}"]
    if workload:
        args += ["--workload", str(workload)]
        if rate:
            args += ["--rate", f"{rate:g}"]
        if keys != 4:
            args += ["--keys", str(keys)]
        if request_window:
            args += ["--request-window", f"{request_window:g}"]
        if max_stall:
            args += ["--max-stall", f"{max_stall:g}"]
    default = NetworkConfig()
    if network.drop != default.drop:
        args += ["--drop", f"{network.drop:g}"]
    if network.duplicate != default.duplicate:
        args += ["--duplicate", f"{network.duplicate:g}"]
    if network.reorder != default.reorder:
        args += ["--reorder", f"{network.reorder:g}"]
    if network.delay != default.delay:
        args += ["--delay-ms", f"{network.delay[0] * 1000:g}", f"{network.delay[1] * 1000:g}"]
    for key, value in config.items():
        args += ["--set", f"{key}={json.dumps(value, separators=(',', ':'))}"]
    return shlex.join(args)


def run_scenario(
    algorithm: str | AlgorithmSpec = DEFAULT_ALGORITHM,
    *,
    seed: int,
    nodes: int = 5,
    duration: float = 10.0,
    nemesis: bool = False,
    network: NetworkConfig | None = None,
    config: Mapping[str, Any] | None = None,
    settle: float = 3.0,
    trace_messages: bool = False,
    workload: int = 0,
    rate: float = 0.0,
    keys: int = 4,
    request_window: float = 0.0,
    fsync: float = 0.0,
    crash_points: Sequence[str] = (),
    schedule: str = "",
    max_stall: float = 0.0,
    check_timeout: float = CHECK_TIMEOUT,
) -> ScenarioResult:
    """Run one seeded scenario; safety invariants are checked on every step.

    Faults (``nemesis``: random ones from the seed; ``crash_points``: names of the spec's
    crash points, or ``["all"]``; ``schedule``: see :mod:`chaoslab.sim.schedule`) run for
    ``duration`` virtual seconds; then everything heals, crashed nodes restart, and the
    cluster has the spec's leader bound to converge and ``settle`` in all to settle. Without
    faults it must converge and settle from the start, and runs on until ``duration``.

    ``workload`` clients (``rate`` operations/s in all, default 20 per client, over ``keys``
    keys) run until ``duration``; requests reaching a node within ``request_window`` seconds
    go to its core as one burst. Settling then also means every client is done and every
    node has applied the leader's whole log; the spec's ``sim.check_final`` must pass, the
    history must be linearizable (checked for at most ``check_timeout`` seconds), and with
    ``max_stall`` no gap between acknowledged writes before ``duration`` may exceed it.
    ``fsync`` is the virtual time one fsync takes (see :class:`Simulation`).
    """
    network = network or NetworkConfig()
    config = dict(config or {})
    spec = spec_of(algorithm)
    name = algorithm if isinstance(algorithm, str) else spec.name
    points = list(spec.sim.crash_points()) if list(crash_points) == ["all"] else list(crash_points)
    if crash_points and not points:
        raise ValueError(f"{spec.name} names no crash points")
    replay = replay_command(
        name,
        seed=seed,
        nodes=nodes,
        duration=duration,
        nemesis=nemesis,
        network=network,
        config=config,
        settle=settle,
        workload=workload,
        rate=rate,
        keys=keys,
        request_window=request_window,
        fsync=fsync,
        crash_points=crash_points,
        schedule=schedule,
        max_stall=max_stall,
    )
    sim = Simulation(algorithm, nodes, seed, config, network, trace_messages=trace_messages,
                     request_window=request_window, fsync=fsync)
    sim.replay = replay
    actions = parse_schedule(schedule, sim.node_ids)
    late = [a for a in actions if a.time > duration]
    if late:
        raise ValueError(f"schedule action {str(late[0])!r} is after the end of the faults (duration {duration:g}s)")
    invariants = invariants_for(spec)
    for invariant in invariants:
        sim.add_invariant(invariant)
    converged = leader = converged_for(spec)
    clients = None
    if workload:
        if spec.client_api != "kv":
            raise ValueError(f"a client workload needs an algorithm that serves the key-value API, not {spec.name}")
        clients = Workload(sim, clients=workload, keys=keys, rate=rate or 20.0 * workload)
        clients.start(0.0, until=duration)
        converged = _quiet(converged, clients, spec.sim.caught_up)
    faulty = nemesis or bool(points) or bool(actions)
    faults_until = duration if faulty else 0.0
    crasher = None
    if points:
        crasher = CrashPoints(sim, points)
        crasher.schedule(0.0, duration)
    if nemesis:
        Nemesis(sim).schedule(0.0, duration)  # heals and restarts everything at the end
    elif faulty:
        sim.at(duration, _heal_all)
    apply_schedule(sim, actions)
    bound = spec.sim.leader_bound(config) if spec.sim.leader_bound is not None else None
    window = settle if bound is None else min(bound, settle)
    result = ScenarioResult(sim, seed, faults_until, None, None, replay, clients, crash_points=crasher)
    led = settled = False
    settled_at = 0.0
    try:
        if faulty:
            sim.run_for(duration)
        led = sim.run_until(leader, window)
        settled_at = sim.now
        if led and faulty:
            settled = sim.run_until(converged, settle - (sim.now - faults_until))
            settled_at = sim.now
        elif led:
            # No faults: settled once converged; it runs on until duration, invariants still on.
            if sim.now < duration:
                sim.run_for(duration - sim.now)
            settled = clients is None or sim.run_until(converged, settle)  # clients done, nodes caught up
    except InvariantViolation as e:
        result.violations.append(str(e))
    else:
        if not led:
            what = "settle" if window == settle else f"converge (the spec's leader bound: {bound:g}s)"
            result.violations.append(_liveness(seed, what, window, faults_until, replay))
        elif not settled:
            what = "settle" if clients is None else "settle and catch up"
            result.violations.append(_liveness(seed, what, settle, faults_until, replay))
        else:
            result.settled_at = settled_at
    if clients is not None:
        clients.finish()
        if settled and spec.sim.check_final is not None:
            try:
                spec.sim.check_final(sim, invariants, clients)
            except AssertionError as e:
                result.violations.append(f"[seed={seed}, t={sim.now:.6f}s] {e}\nreplay: {replay}")
        if max_stall:
            stall = _longest_stall(clients, duration)
            if stall[1] - stall[0] > max_stall:
                result.violations.append(
                    f"[seed={seed}] liveness: no write committed from t={stall[0]:.3f}s to t={stall[1]:.3f}s "
                    f"({stall[1] - stall[0]:.3f}s > {max_stall:g}s)\nreplay: {replay}"
                )
        if clients.history:
            lin = check_history(clients.history, "kv", timeout=check_timeout, source=f"seed {seed}")
            result.linearizable = lin
            if lin.verdict == INVALID:
                result.violations.append(
                    f"[seed={seed}] linearizability: the clients' history is not linearizable\n{render_text(lin)}"
                    f"\nreplay: {replay}\n(add --history h.jsonl to write the history, then: chaoslab check h.jsonl)"
                )
    if result.violations:
        result.violation = result.violations[0]
        result.settled_at = None
    return result


def _liveness(seed: int, what: str, within: float, since: float, replay: str) -> str:
    return f"[seed={seed}] liveness: the cluster did not {what} within {within:g}s after t={since:g}s\nreplay: {replay}"


def _heal_all(sim: Simulation) -> None:
    """The end of the faults: every cut healed, the base network back, every crashed node restarted."""
    sim.restore()
    for node in sim.down():
        sim.restart(node)


def _longest_stall(clients: Workload, until: float) -> tuple[float, float]:
    """The longest stretch of [0, until] with no write acknowledged: (from, to)."""
    times = [op.time for op in clients.history if op.type == "ok" and op.f != "get" and op.time <= until]
    edges = [0.0, *times, until]
    return max(zip(edges, edges[1:]), key=lambda pair: pair[1] - pair[0])


def _quiet(
    converged: Callable[[Simulation], bool], clients: Workload, caught_up: Callable[[Simulation], bool] | None
) -> Callable[[Simulation], bool]:
    """Settled, every client done, every node caught up (as the algorithm defines it)."""
    if caught_up is None:
        return lambda sim: clients.idle() and converged(sim)
    return lambda sim: clients.idle() and converged(sim) and caught_up(sim)

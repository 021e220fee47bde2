"""One seeded run, end to end: faults for a while, then "does it settle?".

Tests and ``python -m chaoslab.sim`` both go through :func:`run_scenario`, so
the replay command printed in a failure reproduces the failing run exactly.
With a workload (algorithms that serve the key-value API), clients run during the fault window; after the
heal the cluster must settle *and* catch up, and then every acknowledged
write must have survived and every replica must hold the same state.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chaoslab.algorithms.registry import DEFAULT_ALGORITHM
from chaoslab.algorithms.spec import AlgorithmSpec
from chaoslab.sim.invariants import converged_for, invariants_for, spec_of
from chaoslab.sim.nemesis import Nemesis
from chaoslab.sim.network import NetworkConfig
from chaoslab.sim.simulation import InvariantViolation, Simulation
from chaoslab.sim.workload import Workload


@dataclass
class ScenarioResult:
    """What one run showed. ``ok`` is false on a safety violation or when it did not settle."""

    sim: Simulation
    seed: int
    faults_until: float  # when the fault window closed (0 without a nemesis)
    settled_at: float | None  # virtual time the cluster settled, None if it did not
    violation: str | None  # a safety invariant's message, or the liveness failure
    replay: str
    workload: Workload | None = None

    @property
    def ok(self) -> bool:
        return self.violation is None

    def summary(self) -> str:
        sim = self.sim
        head = (
            f"seed={self.seed} steps={sim.steps} messages sent={sim.messages_sent} "
            f"delivered={sim.messages_delivered} lost={sim.messages_lost}"
        )
        if self.workload is not None:
            counts = self.workload.counts()
            head += f"\nclient operations: {counts['ok']} ok, {counts['fail']} failed, {counts['info']} unknown"
        if self.violation is not None:
            return f"{head}\nVIOLATION: {self.violation}"
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
) -> str:
    """The ``python -m chaoslab.sim`` command line that repeats this run."""
    args = ["python", "-m", "chaoslab.sim", "--algorithm", algorithm, "--seed", str(seed), "--nodes", str(nodes)]
    args += ["--duration", f"{duration:g}", "--settle", f"{settle:g}"]
    if nemesis:
        args.append("--nemesis")
    if workload:
        args += ["--workload", str(workload)]
        if rate:
            args += ["--rate", f"{rate:g}"]
        if keys != 4:
            args += ["--keys", str(keys)]
        if request_window:
            args += ["--request-window", f"{request_window:g}"]
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
) -> ScenarioResult:
    """Run one seeded scenario; safety invariants are checked on every step.

    With ``nemesis``: random faults for ``duration`` virtual seconds, then up to
    ``settle`` more for the cluster to settle. Without: the cluster must settle
    within ``settle`` of the start, then runs on until ``duration``.

    ``workload`` clients (``rate`` operations/s in all, default 20 per client,
    over ``keys`` keys) run until ``duration``; requests reaching a node within
    ``request_window`` seconds go to its core as one burst. Settling then also means every
    client is done and every node has applied the leader's whole log, and the
    final checks (the spec's ``sim.check_final``) must pass.
    """
    network = network or NetworkConfig()
    config = dict(config or {})
    spec = spec_of(algorithm)
    name = algorithm if isinstance(algorithm, str) else spec.name
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
    )
    sim = Simulation(algorithm, nodes, seed, config, network, trace_messages=trace_messages,
                     request_window=request_window)
    sim.replay = replay
    invariants = invariants_for(spec)
    for invariant in invariants:
        sim.add_invariant(invariant)
    converged = converged_for(spec)
    clients = None
    if workload:
        if spec.client_api != "kv":
            raise ValueError(f"a client workload needs an algorithm that serves the key-value API, not {spec.name}")
        clients = Workload(sim, clients=workload, keys=keys, rate=rate or 20.0 * workload)
        clients.start(0.0, until=duration)
        converged = _quiet(converged, clients, spec.sim.caught_up)
    faults_until = duration if nemesis else 0.0
    try:
        if nemesis:
            # Faults for the whole duration, then the settle window.
            Nemesis(sim).schedule(0.0, duration)
            sim.run_for(duration)
            settled = sim.run_until(converged, settle)
            settled_at = sim.now
        else:
            # No faults: settle from the start, then keep running (invariants still on).
            settled = sim.run_until(converged_for(spec), settle)
            settled_at = sim.now
            if settled and sim.now < duration:
                sim.run_for(duration - sim.now)
            if settled and clients is not None:
                settled = sim.run_until(converged, settle)  # clients done, every node caught up
    except InvariantViolation as e:
        return ScenarioResult(sim, seed, faults_until, None, str(e), replay, clients)
    if not settled:
        what = "settle" if clients is None else "settle and catch up"
        violation = (
            f"[seed={seed}] liveness: the cluster did not {what} within {settle:g}s after t={faults_until:g}s"
            f"\nreplay: {replay}"
        )
        if clients is not None:
            clients.finish()
        return ScenarioResult(sim, seed, faults_until, None, violation, replay, clients)
    if clients is not None and spec.sim.check_final is not None:
        try:
            spec.sim.check_final(sim, invariants, clients)
        except AssertionError as e:
            violation = f"[seed={seed}, t={sim.now:.6f}s] {e}\nreplay: {replay}"
            return ScenarioResult(sim, seed, faults_until, None, violation, replay, clients)
    return ScenarioResult(sim, seed, faults_until, settled_at, None, replay, clients)


def _quiet(
    converged: Callable[[Simulation], bool], clients: Workload, caught_up: Callable[[Simulation], bool] | None
) -> Callable[[Simulation], bool]:
    """Settled, every client done, every node caught up (as the algorithm defines it)."""
    if caught_up is None:
        return lambda sim: clients.idle() and converged(sim)
    return lambda sim: clients.idle() and converged(sim) and caught_up(sim)

"""``chaoslab run``: one scenario on a fresh real cluster, from ``up`` to ``report.json``.

The order of a run (times in seconds since t0, when the clients start):

1. ``up`` a cluster of its own (``run-<scenario>-<pid>-<n>`` in the home) with the
   scenario's algorithm, nodes, settings and the run's seed; ``up`` returns once the
   algorithm is ready (for Raft: a leader).
2. t0; the workload's clients start; steps and the nemesis run on one timeline.
3. At the workload's end: clients stop, every fault is lifted (the *final heal*:
   ``leader_within`` counts from here), the run waits for the cluster to recover,
   and reads every key once more (the final reads ``no_lost_writes`` uses).
4. Final node statuses; the cluster's events.jsonl is copied; the cluster goes
   ``down`` — always, also on an error or Ctrl-C.
5. Verdicts, ``report.json``, ``report.html``.

The exit code is the contract's: 0 every verdict as expected, 1 a violation
(or an expected one not found), 2 unknown or error.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoslab.algorithms import AlgorithmSpec, get_algorithm
from chaoslab.algorithms.registry import load_ref
from chaoslab.chaos import verdicts as v
from chaoslab.chaos.history import HistoryRecorder
from chaoslab.chaos.html import write_html
from chaoslab.chaos.nemesis import Nemesis
from chaoslab.chaos.report import EVENTS, HISTORY, new_run_dir, replay_command, runs_home, write_report
from chaoslab.chaos.scenario import CHECKS, Availability, Scenario, Step
from chaoslab.chaos.schedule import GateTimeout, MonotonicClock, Timeline
from chaoslab.chaos.steps import Applied, FaultRecord, Faults, StepFailed, apply_step, step_label
from chaoslab.errors import LabError
from chaoslab.events import EventLog, read_events
from chaoslab.lab.cluster import Cluster
from chaoslab.lab.rundir import home_dir
from chaoslab.seeds import derive_rng
from chaoslab.wire.status import node_statuses

__all__ = ["CHECK_ORDER", "WORKLOADS", "RunProgress", "RunResult", "availability_windows", "plan_checks", "run", "verdicts_for"]

CHECK_ORDER = CHECKS  # the order verdicts are made and reported in
#: Each workload kind's class, as ``"module:attr"``: loaded when a run needs it, so the runner
#: imports no algorithm's adapters (Maelstrom's live in its folder).
WORKLOADS = {
    "kv": "chaoslab.chaos.workload:KVWorkload",
    "orders": "chaoslab.chaos.workload:OrdersWorkload",
    "echo": "chaoslab.algorithms.maelstrom.adapters.workloads:EchoWorkload",
    "broadcast": "chaoslab.algorithms.maelstrom.adapters.workloads:BroadcastWorkload",
    "g-counter": "chaoslab.algorithms.maelstrom.adapters.workloads:GCounterWorkload",
}
#: What a run checks by workload kind when neither the scenario nor the algorithm says.
WORKLOAD_CHECKS = {
    "kv": ("linearizable", "no_lost_writes"),
    "echo": ("echoes_match",),
    "broadcast": ("all_delivered",),
    "g-counter": ("counter_sum",),
}
RECOVERY_TIMEOUT = 10.0   # after the final heal, how long to wait for the cluster to be ready again
WAIT_FOR_TIMEOUT = 10.0   # a ``wait_for`` step without its own timeout
CHECK_TIMEOUT = 60.0      # the linearizability checker's budget
ERROR_LOG = "error.txt"   # a run that broke keeps its traceback here

_names = itertools.count(1)


@dataclass(frozen=True)
class RunProgress:
    """What a run is doing, for a progress display."""

    scenario: str
    phase: str      # "starting", "running", "healing", "checking", "done"
    step: str       # the last step run, or what the schedule waits for
    ops: int
    elapsed: float  # seconds since t0
    total: float    # the workload's duration


@dataclass
class RunResult:
    """A finished run: its report (``report.json``'s content) and verdicts."""

    scenario: str
    file: str
    seed: int
    quick: bool
    run_dir: Path
    report: dict[str, Any]
    verdicts: list[v.Verdict] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return int(self.report["exit_code"])

    @property
    def ok(self) -> bool:
        """Every verdict as expected (exit code 0)."""
        return self.exit_code == 0

    @property
    def outcome(self) -> str:
        """``valid``, ``invalid``, ``unknown`` or ``error``."""
        return str(self.report["verdict"])

    @property
    def error(self) -> str | None:
        return self.report.get("error")

    @property
    def replay(self) -> str:
        return str(self.report["replay"])

    def verdict(self, name: str) -> v.Verdict:
        """The verdict called ``name`` (``result.verdict("linearizable").status``)."""
        for found in self.verdicts:
            if found.name == name:
                return found
        names = ", ".join(found.name for found in self.verdicts) or "none"
        raise KeyError(f"no verdict {name!r} in this run (it has: {names})")


def plan_checks(scenario: Scenario, spec: AlgorithmSpec) -> dict[str, Any]:
    """The checks a run makes: ``[check]``'s answers, the algorithm's defaults where it has none.

    Values are True or a bound in seconds (``leader_within``); checks turned off are left out.
    """
    defaults = dict(spec.default_checks)
    if not defaults:  # a plug-in that does not say: what its workload and roles allow
        if scenario.workload is not None:
            defaults.update(dict.fromkeys(WORKLOAD_CHECKS.get(scenario.workload.kind, ()), True))
        if any(kind == "lead" for kind in spec.roles.values()):
            defaults["election_safety"] = True
    plan = {}
    for name in CHECK_ORDER:
        value = getattr(scenario.check, name)
        value = defaults.get(name) if value is None else value
        if value:
            plan[name] = value
    return plan


def cluster_name(scenario: str) -> str:
    """A name no other run uses: ``run-<scenario>-<pid>-<n>`` (cut to the lab's 40 characters)."""
    tail = f"-{os.getpid()}-{next(_names)}"
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in scenario).strip("-") or "scenario"
    return f"run-{slug[:40 - 4 - len(tail)].rstrip('-')}{tail}"


@contextmanager
def _no_interrupts() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait while the cluster is taken down (a second one must not leave
    processes behind)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(scenario: Scenario, seed: int, *, quick: bool = False, home: str | os.PathLike[str] | None = None,
        report_dir: str | os.PathLike[str] | None = None,
        progress: Callable[[RunProgress], None] | None = None) -> RunResult:
    """Run ``scenario`` (its quick profile with ``quick``) on a fresh cluster; see the module docstring.

    Bad input (an unknown algorithm) raises :class:`LabError` before anything starts; a run
    that fails later (the cluster would not start, a ``wait_for`` timed out) returns a result
    with verdict ``error`` and exit code 2. KeyboardInterrupt tears the cluster down and is raised again.
    """
    plan = scenario.quick() if quick else scenario
    try:
        spec = get_algorithm(plan.cluster.algorithm)
    except KeyError as exc:
        raise LabError(f"{scenario.path}: {exc.args[0]}") from None
    overrides = plan.cluster.overrides()
    checks = plan_checks(plan, spec)
    base = Path(report_dir) if report_dir is not None else runs_home(home)
    run_dir = new_run_dir(base, plan.name)
    return _Run(plan, spec, seed, quick, home_dir(home), run_dir, overrides, checks, progress).execute()


class _Run:
    """One run's state, from ``up`` to the report (see :func:`run`)."""

    def __init__(self, scenario: Scenario, spec: AlgorithmSpec, seed: int, quick: bool, home: Path, run_dir: Path,
                 overrides: list[str], checks: dict[str, Any], progress: Callable[[RunProgress], None] | None) -> None:
        self.scenario = scenario
        self.spec = spec
        self.seed = seed
        self.quick = quick
        self.home = home
        self.run_dir = run_dir
        self.overrides = overrides
        self.checks = checks
        self.progress = progress or (lambda p: None)
        self.duration = _duration(scenario)
        self.cluster: Any = None
        self.clock: MonotonicClock | None = None
        self.recorder: HistoryRecorder | None = None
        self.workload: Any = None  # a workload class of WORKLOADS
        self.faults: Faults | None = None
        self.timeline: Timeline | None = None
        self.events: EventLog | None = None
        self.final_heal: float | None = None  # unix seconds
        self.statuses: dict[str, dict[str, Any]] = {}
        self.step_errors: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.timings: dict[str, float] = {}
        self.phase = "starting"

    # -- the run ------------------------------------------------------------------------

    def execute(self) -> RunResult:
        begun = time.monotonic()
        error: str | None = None
        self._report_progress()  # the bar shows while the cluster starts
        try:
            try:
                self._up()
                self._drive()
                self._recover()
            except (LabError, GateTimeout) as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a bug of ours or a client's: an error run, the trace kept
                error = f"{type(exc).__name__}: {exc} (traceback in {ERROR_LOG})"
                (self.run_dir / ERROR_LOG).write_text(traceback.format_exc())
            finally:
                with _no_interrupts():
                    self._teardown()
        except KeyboardInterrupt:
            self._write(begun, "interrupted (Ctrl-C)", [], exit_code=130)
            raise
        verdicts = [] if error else self._verdicts()
        result = self._write(begun, error, verdicts)
        if self._html():
            write_report(self.run_dir, result.report)  # with the note of what went wrong
        self._report_progress("done")
        return result

    def _up(self) -> None:
        started = time.monotonic()
        c = self.scenario.cluster
        self.cluster = Cluster.up(c.algorithm, nodes=c.nodes, name=cluster_name(self.scenario.name), seed=self.seed,
                                  home=self.home, overrides=self.overrides)
        self.timings["up"] = time.monotonic() - started
        self.events = EventLog(self.cluster.run.events, "run")

    def _drive(self) -> None:
        self.clock = clock = MonotonicClock()
        self.recorder = HistoryRecorder(self.run_dir / HISTORY, clock.t0_ns)
        self.workload = self._workload()
        self.faults = faults = Faults(self.cluster, clock.now, emit=self._emit)
        self.timeline = timeline = Timeline(clock)
        self.phase = "running"
        self._emit("run_start", scenario=self.scenario.name, seed=self.seed, quick=self.quick)
        if self.workload is not None:
            self.workload.start()
        for index, step in enumerate(self.scenario.steps):
            timeline.step(step.at, step_label(step), _bind(self._step, index, step))
        if self.scenario.nemesis is not None:
            Nemesis(faults, self.scenario.nemesis, self.seed, on_error=self._step_failed).schedule(timeline, self.duration)
        timeline.run_until(self.duration, on_tick=self._report_progress)
        self.timings["run"] = clock.now()
        for label in timeline.skipped:
            self.notes.append(f"step {label!r} did not run (the workload had ended)")

    def _workload(self) -> Any:
        section = self.scenario.workload
        if section is None:
            return None
        ref = WORKLOADS.get(section.kind)
        if ref is None:
            raise LabError(f"{self.scenario.path}: unknown workload kind {section.kind!r} ({', '.join(WORKLOADS)})")
        return load_ref(ref)(self.cluster, section, derive_rng(self.seed, "workload"), self.recorder)

    def _step(self, index: int, step: Step) -> None:
        label = step_label(step)
        assert self.faults is not None and self.timeline is not None
        if step.action == "wait_for":
            timeout = float(step.options.get("timeout", WAIT_FOR_TIMEOUT))
            self.timeline.gate(str(step.target or "leader"), self.faults.has_leader, timeout)
            return
        try:
            applied = apply_step(step, index, self.faults, self.seed)
        except StepFailed as exc:
            self._step_failed(label, str(exc))
            return
        self._emit("step", label=label, index=index, nodes=applied.record.nodes if applied else [])
        if applied is not None and step.until is not None:
            self.timeline.at(step.until, f"undo {label}", _bind(self._undo, applied))

    def _undo(self, applied: Applied) -> None:
        assert self.faults is not None
        try:
            self.faults.undo(applied)
        except StepFailed as exc:
            self._step_failed(f"undo {applied.record.label}", str(exc))

    def _step_failed(self, label: str, error: str) -> None:
        at = self.clock.now() if self.clock else 0.0
        self.step_errors.append({"time": round(at, 3), "label": label, "error": error})
        self._emit("step_failed", label=label, error=error)

    def _recover(self) -> None:
        """The end of the workload: stop clients, lift every fault, wait for the cluster, read every key."""
        assert self.faults is not None and self.clock is not None
        self.phase = "healing"
        self._report_progress()
        if self.workload is not None:
            self.workload.stop()
        self.final_heal = time.time()
        for problem in self.faults.undo_all():
            self._step_failed("final heal", problem)
        self._emit("final_heal")
        started = time.monotonic()
        if not self._settled(max(RECOVERY_TIMEOUT, 2 * float(self.checks.get("leader_within", 0)))):
            self.notes.append(f"the cluster was not ready {RECOVERY_TIMEOUT:g}s after the final heal")
        if self.workload is not None and hasattr(self.workload, "final_reads"):
            self.workload.final_reads(timeout=self.scenario.workload.settle)
        self.timings["recover"] = time.monotonic() - started
        self.statuses = node_statuses(self.cluster.status())

    def _settled(self, timeout: float) -> bool:
        """Every node up and serving, the algorithm ready, and at most one node leading."""
        def settled() -> bool:
            status = self.cluster.status()
            statuses = node_statuses(status)
            return (all(n.state == "up" for n in status.nodes) and len(statuses) == len(status.nodes)
                    and self.spec.is_ready(list(statuses.values())) and len(self.spec.leaders(statuses)) <= 1)

        deadline = time.monotonic() + timeout
        while True:
            try:
                if settled():
                    return True
            except LabError:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def _teardown(self) -> None:
        """Whatever happened: stop the clients, close the history, keep the events, stop the cluster."""
        started = time.monotonic()
        if self.workload is not None:
            try:
                self.workload.stop(timeout=2.0)
            except Exception as exc:  # noqa: BLE001 - teardown goes on whatever a client did
                self.notes.append(f"stopping the workload: {exc}")
        if self.recorder is not None:
            self.recorder.close()
        if self.events is not None:
            self.events.close()
        if self.cluster is not None:
            try:
                shutil.copyfile(self.cluster.run.events, self.run_dir / EVENTS)
            except OSError as exc:
                self.notes.append(f"copying events.jsonl: {exc}")
            self._keep_logs(self.cluster.run)
            self.cluster.down()
        self.timings["down"] = time.monotonic() - started

    def _keep_logs(self, run: Any) -> None:
        """Every process's log into ``logs/`` of the run directory: the cluster's own directory
        goes with ``down``, and a run that failed must keep its evidence (why no leader came back)."""
        logs = self.run_dir / "logs"
        sources = [run.supervisor_log, run.proxy_log, *(run.node_log(n) for n in self.cluster.node_ids)]
        for source in sources:
            if not source.exists():  # a process that never started has no log to keep
                continue
            try:
                logs.mkdir(exist_ok=True)
                name = source.parent.name + ".log" if source.name == "node.log" else source.name
                shutil.copyfile(source, logs / name)
            except OSError as exc:
                self.notes.append(f"keeping {source.name}: {exc}")

    # -- verdicts and the report -----------------------------------------------------

    def _verdicts(self) -> list[v.Verdict]:
        self.phase = "checking"
        self._report_progress()
        started = time.monotonic()
        verdicts = verdicts_for(self.checks, self.scenario, self.spec, self.run_dir, self.final_heal or 0.0,
                         self.statuses, getattr(self.workload, "reports", []),
                         self.faults.records if self.faults else [], self.duration)
        self.timings["checks"] = time.monotonic() - started
        return verdicts

    def _write(self, begun: float, error: str | None, verdicts: list[v.Verdict], exit_code: int | None = None) -> RunResult:
        s = self.scenario
        if error is not None:
            verdict, code = "error", 2 if exit_code is None else exit_code
        else:
            verdict, code = v.overall(verdicts, s.check.expect)
        counts = self.recorder.counts() if self.recorder is not None else {"invoke": 0, "ok": 0, "fail": 0, "info": 0}
        report = {
            "scenario": s.name, "file": str(s.path), "description": s.description, "seed": self.seed,
            "quick": self.quick, "algorithm": s.cluster.algorithm, "nodes": s.cluster.nodes,
            "cluster": self.cluster.name if self.cluster is not None else None,
            "started_at": self.clock.started_at if self.clock is not None else time.time(),
            "wall_s": round(time.monotonic() - begun, 3), "replay": replay_command(s.path, self.seed, self.quick, s.replay_args),
            "ops": counts, "faults": [r.to_dict() for r in (self.faults.records if self.faults else [])],
            "verdicts": [v.to_dict() for v in verdicts], "verdict": verdict, "expect": s.check.expect,
            "as_expected": code == 0, "exit_code": code, "error": error,
            "duration_s": self.duration, "final_heal": _since(self.final_heal, self.clock),
            "step_errors": self.step_errors, "notes": self.notes,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }
        write_report(self.run_dir, report)
        return RunResult(scenario=s.name, file=str(s.path), seed=self.seed, quick=self.quick, run_dir=self.run_dir,
                         report=report, verdicts=verdicts)

    def _html(self) -> bool:
        """Write report.html; False when it went fine, True when the report got a note why not."""
        try:
            write_html(self.run_dir)
        except Exception as exc:  # noqa: BLE001 - a page that cannot be drawn leaves the verdicts standing
            self.notes.append(f"report.html: {type(exc).__name__}: {exc}")
            return True
        return False

    # -- helpers --------------------------------------------------------------------------

    def _emit(self, kind: str, **data: Any) -> None:
        if self.events is not None:
            self.events.emit(kind, **data)

    def _report_progress(self, phase: str | None = None) -> None:
        if phase is not None:
            self.phase = phase
        timeline = self.timeline
        step = ""
        if timeline is not None:
            step = f"waiting for {timeline.waiting_for}" if timeline.waiting_for else timeline.current
        ops = self.recorder.counts().get("invoke", 0) if self.recorder is not None else 0
        elapsed = min(self.clock.now(), self.duration) if self.clock is not None else 0.0
        self.progress(RunProgress(self.scenario.name, self.phase, step, ops, elapsed, self.duration))


def _bind(fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    return lambda: fn(*args)


def _since(unix: float | None, clock: MonotonicClock | None) -> float | None:
    if unix is None or clock is None:
        return None
    return round(unix - clock.started_at, 3)


def _duration(scenario: Scenario) -> float:
    """How long the timeline runs: the workload's duration, or (no workload) until the last step or undo."""
    if scenario.workload is not None:
        return scenario.workload.duration
    times = [t for s in scenario.steps for t in (s.at, s.until) if t is not None]
    if scenario.nemesis is not None and scenario.nemesis.stop is not None:
        times.append(scenario.nemesis.stop)
    return max(times, default=0.0)


def verdicts_for(checks: Mapping[str, Any], scenario: Scenario, spec: AlgorithmSpec, run_dir: Path, final_heal: float,
                 statuses: Mapping[str, Mapping[str, Any]], reports: Sequence[Any], faults: Sequence[FaultRecord],
                 duration: float) -> list[v.Verdict]:
    """The verdicts of a finished run, one per planned check and one for ``[[check.availability]]``;
    a check that fails to run gives an ``unknown`` verdict saying why."""
    history = run_dir / HISTORY
    events, _ = read_events(run_dir / EVENTS)
    calls: dict[str, Callable[[Any], v.Verdict]] = {
        "linearizable": lambda _: v.linearizable(history, timeout=CHECK_TIMEOUT),
        "no_lost_writes": lambda _: v.no_lost_writes(history),
        "echoes_match": lambda _: v.echoes_match(history),
        "all_delivered": lambda _: v.all_delivered(history),
        "counter_sum": lambda _: v.counter_sum(history),
        "election_safety": lambda _: v.election_safety(events, spec),
        "leader_within": lambda bound: v.leader_within(events, spec, since=final_heal, bound=float(bound)),
        "one_coordinator": lambda _: v.one_coordinator(statuses, spec),
        "agreement": lambda _: v.agreement(reports),
    }
    out = [_guarded(name, calls[name], value) for name, value in checks.items()]
    if scenario.check.availability:
        windows, missing = availability_windows(scenario.check.availability, faults, duration)
        if missing:
            out.append(v.Verdict("availability", "unknown", f"no step named {missing[0]!r} ran: its window is unknown",
                                 {"missing": missing}, []))
        else:
            out.append(_guarded("availability", v.availability, history, windows))
    return out


def _guarded(name: str, compute: Callable[..., v.Verdict], *args: Any) -> v.Verdict:
    try:
        return compute(*args)
    except Exception as exc:  # noqa: BLE001 - a checker that breaks makes its verdict unknown, not the run
        return v.Verdict(name, "unknown", f"the check failed: {type(exc).__name__}: {exc}")


def availability_windows(specs: Sequence[Availability], faults: Sequence[FaultRecord],
                         duration: float) -> tuple[list[tuple[str, float, float, float]], list[str]]:
    """``[[check.availability]]`` as (label, start, end, min) windows: a named step's fault
    (until it ended, or the run's end), or explicit times; and the names of steps that never ran."""
    windows, missing = [], []
    for a in specs:
        if a.during:
            named = [r for r in faults if r.name == a.during]
            if not named:
                missing.append(a.during)
                continue
            for r in named:
                windows.append((a.during, r.start, duration if r.end is None else r.end, a.min))
        else:
            start = 0.0 if a.start is None else a.start
            windows.append((f"{start:g}s-{duration if a.end is None else a.end:g}s", start,
                            duration if a.end is None else a.end, a.min))
    return windows, missing

"""Faults on a live cluster for a scripted run: a scenario's steps, applied and undone.

:class:`Faults` is the one door to the cluster for a run's steps and its nemesis
alike: it resolves targets (``leader`` at the moment the fault starts, ``random``
from the run's seed), applies the fault through the :class:`~chaoslab.lab.cluster.Cluster`
API, and keeps a :class:`FaultRecord` of it (what ``report.json`` lists under
``faults``). What it applied it can undo exactly: the rules of that fault by id
(so a drop from one step and a delay from another compose, and lifting one
leaves the other), a restart of the nodes that fault crashed, a resume of the
ones it paused. At the end of a run :meth:`Faults.undo_all` lifts everything.

A fault that cannot be applied (a node already down, no leader to isolate)
raises :class:`StepFailed`; the run logs it and goes on.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from chaoslab.chaos.scenario import Step
from chaoslab.errors import LabError
from chaoslab.net.parse import parse_duration, parse_probability
from chaoslab.net.partitions import parse_spec
from chaoslab.seeds import derive_rng

__all__ = ["LEADER_WAIT", "Applied", "FaultRecord", "Faults", "StepFailed", "apply_step", "step_label"]

#: How long a step whose target is ``leader`` waits for one before it fails.
LEADER_WAIT = 5.0
LINK_KINDS = ("drop", "delay", "duplicate", "reorder")

Emit = Callable[..., Any]


class StepFailed(Exception):
    """A fault that could not be applied now; the run records it and goes on."""


@dataclass
class FaultRecord:
    """One fault as report.json lists it; times in seconds since t0, ``end`` None while in force."""

    label: str
    kind: str
    start: float
    nodes: list[str]
    source: str  # "step" or "nemesis"
    end: float | None = None
    name: str = ""  # the step's name, for ``[[check.availability]] during = ...``

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "kind": self.kind, "start": round(self.start, 3),
                "end": None if self.end is None else round(self.end, 3), "nodes": list(self.nodes),
                "source": self.source, "name": self.name}


@dataclass
class Applied:
    """What one fault did, so that exactly it can be undone."""

    record: FaultRecord
    rule_ids: tuple[str, ...] = ()
    down: set[str] = field(default_factory=set)  # crashed or paused by it, not yet back


def step_label(step: Step) -> str:
    """A step as a fault's label: ``partition isolate:leader`` (its duration is in start/end)."""
    return replace(step, until=None).describe()


def _words(targets: Any) -> list[str]:
    """``"leader"``, ``"n1,n2"``, ``"n1 n2"`` or ``["n1", "n2"]`` -> words."""
    if isinstance(targets, str):
        return [w for w in targets.replace(",", " ").split() if w]
    if isinstance(targets, Sequence):
        return [w for t in targets for w in _words(t)]
    raise StepFailed(f"bad target {targets!r}: name nodes, leader, random or all")


class Faults:
    """Applies faults to ``cluster`` and keeps their records (see the module docstring).

    ``clock()`` is seconds since the run's t0; ``emit(kind, **data)`` logs an
    event of the run (the cluster's events.jsonl in a real run).
    """

    def __init__(self, cluster: Any, clock: Callable[[], float], *, emit: Emit | None = None,
                 leader_wait: float = LEADER_WAIT) -> None:
        self.cluster = cluster
        self.clock = clock
        self.emit = emit or (lambda kind, **data: None)
        self.leader_wait = leader_wait
        self.records: list[FaultRecord] = []
        self.node_ids: list[str] = list(cluster.node_ids)
        self._lock = threading.RLock()
        self._partition: Applied | None = None  # the partition in force (a new one replaces it)
        self._links: list[Applied] = []          # link rules in force
        self._down: list[Applied] = []           # crashes and pauses with nodes still down

    # -- what is going on ---------------------------------------------------------

    def down_nodes(self) -> set[str]:
        """Nodes crashed or paused by a fault in force."""
        with self._lock:
            return {n for a in self._down for n in a.down}

    def leader(self, wait: float | None = None) -> str:
        """The leader now, waiting up to ``wait`` (default ``leader_wait``) seconds for one."""
        try:
            return self.cluster.wait_for_leader(timeout=self.leader_wait if wait is None else wait)
        except TimeoutError:
            raise StepFailed(f"no leader within {self.leader_wait if wait is None else wait:g}s") from None

    def has_leader(self) -> bool:
        try:
            return self.cluster.leader() is not None
        except LabError:
            return False

    def _states(self) -> dict[str, str]:
        return {n.id: n.state for n in self.cluster.status().nodes}

    def _open(self, label: str, kind: str, nodes: Sequence[str], source: str, name: str) -> FaultRecord:
        record = FaultRecord(label=label, kind=kind, start=self.clock(), nodes=list(nodes), source=source, name=name)
        self.records.append(record)
        return record

    def _close(self, applied: Applied) -> None:
        if applied.record.end is None:
            applied.record.end = self.clock()

    # -- targets ---------------------------------------------------------------------

    def resolve(self, targets: Any, eligible: Sequence[str], rng: random.Random | None = None) -> list[str]:
        """Node ids for ``targets``: ids as given, ``leader`` now, ``random`` and ``all`` among ``eligible``."""
        chosen: list[str] = []
        for word in _words(targets):
            if word == "leader":
                picked = [self.leader()]
            elif word == "random":
                pool = [n for n in eligible if n not in chosen]
                if not pool:
                    raise StepFailed("no node to pick at random")
                picked = [(rng or random.Random(0)).choice(pool)]
            elif word == "all":
                picked = list(eligible)
            elif word in self.node_ids:
                picked = [word]
            else:
                raise StepFailed(f"unknown node {word!r} (nodes: {', '.join(self.node_ids)})")
            chosen += [n for n in picked if n not in chosen]
        if not chosen:
            raise StepFailed("no node to act on")
        return chosen

    # -- process faults --------------------------------------------------------------

    def crash(self, targets: Any, *, source: str, label: str, rng: random.Random | None = None, name: str = "") -> Applied:
        """SIGKILL the targets (``random``/``all`` among the nodes that are up)."""
        return self._take_down("crash", targets, source, label, rng, name)

    def pause(self, targets: Any, *, source: str, label: str, rng: random.Random | None = None, name: str = "") -> Applied:
        """SIGSTOP the targets (``random``/``all`` among the nodes that are up)."""
        return self._take_down("pause", targets, source, label, rng, name)

    def _take_down(self, kind: str, targets: Any, source: str, label: str, rng: random.Random | None,
                   name: str) -> Applied:
        with self._lock:
            up = [n for n, state in self._states().items() if state == "up"]
            nodes = self.resolve(targets, up, rng)
            done = self._call(getattr(self.cluster, kind), *nodes)
            applied = Applied(self._open(label, kind, done, source, name), down=set(done))
            self._down.append(applied)
            return applied

    def restart(self, targets: Any, rng: random.Random | None = None) -> list[str]:
        """Start crashed nodes again (``all``/``random`` among the crashed)."""
        return self._bring_back("crash", "restart", "crashed", targets, rng)

    def resume(self, targets: Any, rng: random.Random | None = None) -> list[str]:
        """Thaw paused nodes (``all``/``random`` among the paused)."""
        return self._bring_back("pause", "resume", "paused", targets, rng)

    def _bring_back(self, kind: str, method: str, state: str, targets: Any, rng: random.Random | None) -> list[str]:
        with self._lock:
            eligible = [n for n, s in self._states().items() if s == state]
            nodes = self.resolve(targets, eligible, rng)
            done = self._call(getattr(self.cluster, method), *nodes)
            self._back(kind, done)
            return done

    def _back(self, kind: str, nodes: Sequence[str]) -> None:
        """``nodes`` are up again: a crash or pause record ends once all its nodes are."""
        for applied in list(self._down):
            if applied.record.kind == kind:
                applied.down.difference_update(nodes)
                if not applied.down:
                    self._close(applied)
                    self._down.remove(applied)

    # -- network faults --------------------------------------------------------------

    def partition(self, spec: str, *, source: str, label: str, name: str = "", seed: int | None = None) -> Applied:
        """Partition the network as ``spec`` says (the CLI's grammar), replacing any partition;
        ``seed`` draws random shapes (default: the cluster's seed and how many it drew before)."""
        with self._lock:
            try:
                parsed = parse_spec(spec)
            except ValueError as exc:
                raise StepFailed(str(exc)) from None
            words = spec.split() if isinstance(spec, str) else list(spec)
            if parsed.shape == "isolate" and parsed.node == "leader":
                words = [f"isolate:{self.leader()}"]
            elif parsed.shape == "majority":
                self.leader()  # the cluster reads the leader itself; make sure there is one
            state = self._call(self.cluster.partition, *words, seed=seed)
            rules = [r for r in state.rules if r.is_partition]
            applied = Applied(self._open(label, "partition", _cut_off(state, rules), source, name),
                              rule_ids=tuple(r.id for r in rules))
            if self._partition is not None:
                self._close(self._partition)  # replaced: its rules are gone
            self._partition = applied
            return applied

    def link(self, kind: str, amount: Any, options: Mapping[str, Any] | None = None, *, source: str, label: str,
             name: str = "") -> Applied:
        """Add one ``drop``/``duplicate``/``reorder`` (a probability) or ``delay`` (seconds) rule."""
        options = dict(options or {})
        kwargs: dict[str, Any] = {"src": _nodes_option(options, "src", "from"), "dst": _nodes_option(options, "dst", "to")}
        if "seed" in options:
            kwargs["seed"] = int(options["seed"])
        try:
            if kind == "delay":
                value = _seconds(amount)
                kwargs["jitter_s"] = _seconds(options.get("jitter", 0.0))
                kwargs["dist"] = str(options.get("dist", "uniform"))
            elif kind in LINK_KINDS:
                value = amount if isinstance(amount, (int, float)) and not isinstance(amount, bool) else parse_probability(amount)
            else:
                raise StepFailed(f"unknown link fault {kind!r}")
        except ValueError as exc:
            raise StepFailed(str(exc)) from None
        with self._lock:
            state = self._call(getattr(self.cluster, kind), value, **kwargs)
            added = (state.rules[-1].id,)  # rules are listed in the order added
            nodes = sorted({*kwargs["src"], *kwargs["dst"]}, key=self._order)
            applied = Applied(self._open(label, kind, nodes, source, name), rule_ids=added)
            self._links.append(applied)
            return applied

    def heal(self) -> None:
        """Lift the partition (link faults stay)."""
        with self._lock:
            self._call(self.cluster.heal)
            if self._partition is not None:
                self._close(self._partition)
                self._partition = None

    def clear(self) -> None:
        """Lift every network fault."""
        with self._lock:
            self._call(self.cluster.clear)
            for applied in [*self._links, *([self._partition] if self._partition else [])]:
                self._close(applied)
            self._links.clear()
            self._partition = None

    # -- undoing ---------------------------------------------------------------------

    def undo(self, applied: Applied) -> None:
        """Lift exactly ``applied``: remove its rules, restart or resume its nodes still down."""
        with self._lock:
            kind = applied.record.kind
            if applied.record.end is not None:
                return  # healed, cleared, replaced or brought back already
            if kind in ("crash", "pause"):
                self._call(getattr(self.cluster, "restart" if kind == "crash" else "resume"), *sorted(applied.down))
                self._back(kind, list(applied.down))
                return
            self._call(self.cluster.remove_faults, *applied.rule_ids)
            self._close(applied)
            if applied is self._partition:
                self._partition = None
            elif applied in self._links:
                self._links.remove(applied)

    def undo_all(self) -> list[str]:
        """The end of a run: clear the network, resume the paused and restart the crashed, whoever
        did it; returns what could not be undone (one line each)."""
        problems = []
        with self._lock:
            try:
                self.clear()
            except StepFailed as exc:
                problems.append(f"clear: {exc}")
            try:
                states = self._states()
            except LabError as exc:
                return [*problems, f"status: {exc}"]
            for method, state, kind in (("resume", "paused", "pause"), ("restart", "crashed", "crash")):
                nodes = [n for n, s in states.items() if s == state]
                if not nodes:
                    continue
                try:
                    self._call(getattr(self.cluster, method), *nodes)
                except StepFailed as exc:
                    problems.append(f"{method}: {exc}")
                self._back(kind, nodes)
            now = self.clock()
            for record in self.records:  # what was lifted behind our back (a node restarted by hand...)
                if record.end is None:
                    record.end = now
            self._down.clear()
        return problems

    # -- helpers ---------------------------------------------------------------------

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except LabError as exc:
            raise StepFailed(str(exc)) from None

    def _order(self, node: str) -> int:
        return self.node_ids.index(node) if node in self.node_ids else len(self.node_ids)

    def command(self, name: str, node: str, args: Mapping[str, Any] | None = None, timeout: float = 5.0) -> Any:
        """An operator command (``Cluster.command``); ``node`` may be ``leader``."""
        target = self.leader() if node == "leader" else node
        return self._call(self.cluster.command, target, name, dict(args or {}), timeout=timeout)


def _cut_off(state: Any, rules: Sequence[Any]) -> list[str]:
    """The nodes a partition cuts off: every group but the largest, or, for shapes without
    groups (one way, ring), the nodes that stop hearing someone."""
    groups = [g.split(",") for g in state.partition_groups]
    if len(groups) >= 2:
        largest = max(groups, key=len)
        return [n for g in groups if g is not largest for n in g]
    return sorted({n for r in rules for n in r.dst})


def _nodes_option(options: Mapping[str, Any], *keys: str) -> tuple[str, ...]:
    for key in keys:
        if options.get(key):
            return tuple(_words(options[key]))
    return ()


def _seconds(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return parse_duration(str(value))


def apply_step(step: Step, index: int, faults: Faults, seed: int) -> Applied | None:
    """Apply one step (not ``wait_for``, which the schedule handles); the fault it started, if any.

    ``random`` targets draw from ``derive_rng(seed, "step", index)`` (or from the step's own
    ``seed``): the same seed picks the same nodes. Raises :class:`StepFailed` when the step
    cannot be applied now.
    """
    own = step.options.get("seed")
    rng = derive_rng(seed, "step", index) if own is None else derive_rng(own, "pick")
    label, source, name = step_label(step), "step", step.name
    action, target = step.action, step.target
    if action == "partition":
        return faults.partition(target, source=source, label=label, name=name, seed=own)
    if action in ("crash", "pause"):
        return getattr(faults, action)(target, source=source, label=label, rng=rng, name=name)
    if action in ("restart", "resume"):
        getattr(faults, action)(target, rng)
        return None
    if action in LINK_KINDS:
        return faults.link(action, target, step.options, source=source, label=label, name=name)
    if action == "heal":
        faults.heal()
        return None
    if action == "clear":
        faults.clear()
        return None
    if action == "command":
        node = step.options.get("node", "leader")
        faults.command(str(target), str(node), step.args, timeout=float(step.options.get("timeout", 5.0)))
        return None
    raise StepFailed(f"{action!r} is not a step this run can apply")

"""A scenario file, as typed objects: what ``faults/*.toml`` holds once it parsed.

The parser (:mod:`chaoslab.chaos.parse`) builds these and is the only place that
knows TOML; the runner, the nemesis, the verdicts and the report read only these.
Times are seconds after the workload started (the cluster is up and, for
algorithms with roles, has a leader by then). ``line`` fields carry the line of
the file a piece came from, so a runtime error can still point at the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

#: Every step action, in the CLI's vocabulary (``chaoslab partition``, ``crash``, ...).
ACTIONS = (
    "partition", "heal", "clear", "crash", "restart", "pause", "resume",
    "drop", "delay", "duplicate", "reorder", "wait_for", "command",
)
#: What a nemesis may do, each drawn from the same vocabulary as the steps.
NEMESIS_KINDS = ("partition", "isolate", "crash", "pause", "drop", "delay", "duplicate", "reorder")
#: What a kv workload's clients do; the mix gives each a weight.
KV_OPS = ("read", "write", "cas")
#: The checks a run can make: ``[check]`` keys and verdict names, in the order a report lists them.
CHECKS = ("linearizable", "no_lost_writes", "echoes_match", "all_delivered", "counter_sum", "election_safety",
          "leader_within", "one_coordinator", "agreement")
#: The checks that judge one workload kind's history, and that kind.
HISTORY_CHECKS = {"linearizable": "kv", "no_lost_writes": "kv", "echoes_match": "echo", "all_delivered": "broadcast",
                  "counter_sum": "g-counter", "agreement": "orders"}
#: Each workload kind's operations that ``mix`` weighs, and its default weights (a kind not
#: here has no mix: orders, echo).
MIX_OPS = {"kv": KV_OPS, "broadcast": ("broadcast", "read"), "g-counter": ("add", "read")}
DEFAULT_MIX = {"kv": {"read": 0.5, "write": 0.4, "cas": 0.1},
               "broadcast": {"broadcast": 0.5, "read": 0.5},
               "g-counter": {"add": 0.5, "read": 0.5}}


@dataclass(frozen=True)
class ClusterSection:
    algorithm: str = "raft"
    nodes: int = 3
    settings: dict[str, Any] = field(default_factory=dict)  # ``[cluster.set]``: ``up --set key=value``

    def overrides(self) -> list[str]:
        """``settings`` as ``up --set`` strings (``["heartbeat_ms=30", "raft.pre_vote=false"]``),
        for :func:`chaoslab.lab.spec.build_spec` / ``Cluster.up(overrides=...)``."""
        found = []
        for key, value in self.settings.items():
            if key == self.algorithm and isinstance(value, dict):  # [cluster.set.raft] or raft.x = ...
                found += [f"{key}.{k}={_toml_value(v)}" for k, v in value.items()]
            else:
                found.append(f"{key}={_toml_value(value)}")
        return found


def _toml_value(value: Any) -> str:
    """A value as TOML text (what ``--set`` parses back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    # JSON's string escapes are a subset of TOML's basic string escapes.
    return json.dumps(str(value), ensure_ascii=False)


@dataclass(frozen=True)
class WorkloadSection:
    """Clients run for ``duration``; ``kind`` is "kv" (Jepsen clients), "orders" (Byzantine), or
    one of Maelstrom's "echo", "broadcast", "g-counter"; ``mix`` weighs the kind's ``MIX_OPS``."""

    kind: str = "kv"
    clients: int = 4
    rate: float = 100.0  # operations a second, all clients together
    keys: int = 4
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX["kv"]))
    duration: float = 10.0
    timeout: float = 1.0  # a client gives up on one operation after this (a write then is ``info``)
    settle: float = 10.0  # after the final heal, how long the final reads may wait for nodes to answer and agree


@dataclass(frozen=True)
class Step:
    """One timed fault. ``target`` is the action's argument in the CLI's grammar.

    partition: a partition spec (``"n1,n2 n3,n4,n5"``, ``"isolate:leader"``, ``"ring"``, ...);
    crash/pause: node ids, ``leader``, ``random``, comma-separated; restart/resume: node ids
    (the file's ``all`` arrives as every id); drop/duplicate/reorder: a probability (float);
    delay: seconds (float); heal/clear: ""; wait_for: "leader"; command: an algorithm
    command's name (``node`` in ``options``, its ``args`` in ``args``).
    ``until`` (seconds) undoes the step then: heal a partition or link fault, restart a crash,
    resume a pause (``for``, ``restart_after``, ``resume_after`` in the file).
    ``options``: ``src``/``dst`` (tuples of ids), ``jitter`` (seconds), ``dist``, ``seed``
    (int), ``timeout`` (seconds; wait_for always has one, default 10), ``node`` (command).
    """

    at: float
    action: str
    target: Any = ""
    until: float | None = None
    options: dict[str, Any] = field(default_factory=dict)  # src, dst, jitter, timeout, node, ...
    args: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # names a window for ``[[check.availability]]``
    line: int = 0

    def describe(self) -> str:
        """One human line: ``partition isolate:leader for 5s``."""
        text = self.action if self.target in ("", True) else f"{self.action} {self.target}"
        if self.until is not None:
            text += f" for {self.until - self.at:g}s"
        return text


@dataclass(frozen=True)
class NemesisSection:
    """Random faults from ``kinds``, one every ``interval`` seconds, each lasting ``hold``."""

    kinds: tuple[str, ...]
    interval: float = 3.0
    hold: float = 1.5
    seed: int | None = None  # None: derived from the run's seed
    start: float = 0.0
    stop: float | None = None  # None: the workload's end


@dataclass(frozen=True)
class Availability:
    """At least ``min`` of operations in a window succeed: the window is a named step's fault, or [start, end].

    The parser fills ``start`` and ``end`` in for a ``during`` window too (the step's ``at``
    until its undo), so readers need only those two; ``during`` stays as the window's label.
    """

    min: float
    during: str = ""  # a step's ``name``
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class CheckSection:
    """Which verdicts a run reports; ``None`` means "the algorithm's default"."""

    linearizable: bool | None = None      # kv workloads: the history through chaoslab.check
    no_lost_writes: bool | None = None    # every acknowledged write present after the final heal and restart
    election_safety: bool | None = None   # at most one leader a term, from the events log
    leader_within: float | None = None    # a leader this soon after the last heal / restart
    one_coordinator: bool | None = None   # bully: one coordinator once healed
    agreement: bool | None = None         # byzantine: IC1 / IC2 for every order
    echoes_match: bool | None = None      # echo workloads: every echo came back as sent
    all_delivered: bool | None = None     # broadcast: every acknowledged message in every node's final read
    counter_sum: bool | None = None       # g-counter: final reads within the acknowledged sum and the unknown adds
    availability: tuple[Availability, ...] = ()
    expect: str = "valid"                 # "violation": the run is meant to find one (a demonstration)


@dataclass(frozen=True)
class Scenario:
    name: str  # the file's stem unless the file names it
    path: Path
    description: str = ""
    cluster: ClusterSection = field(default_factory=ClusterSection)
    workload: WorkloadSection | None = None
    steps: tuple[Step, ...] = ()
    nemesis: NemesisSection | None = None
    check: CheckSection = field(default_factory=CheckSection)
    quick_scale: float = 0.5  # ``--quick``: every time multiplied by this (bounds are not)
    #: ``chaoslab run`` options that changed the file's cluster (``--algorithm``, ``--set``), for the replay command
    replay_args: tuple[str, ...] = ()

    def quick(self) -> Scenario:
        """The quick profile: the same run, its times scaled by ``quick_scale``; check bounds stay."""
        s = self.quick_scale
        steps = tuple(replace(st, at=st.at * s, until=None if st.until is None else st.until * s) for st in self.steps)
        workload = None if self.workload is None else replace(self.workload, duration=self.workload.duration * s)
        nemesis = None if self.nemesis is None else replace(
            self.nemesis, interval=self.nemesis.interval * s, hold=self.nemesis.hold * s,
            start=self.nemesis.start * s, stop=None if self.nemesis.stop is None else self.nemesis.stop * s)
        windows = tuple(replace(a, start=None if a.start is None else a.start * s,
                                end=None if a.end is None else a.end * s) for a in self.check.availability)
        return replace(self, steps=steps, workload=workload, nemesis=nemesis,
                       check=replace(self.check, availability=windows))

"""Which check catches which planted bug, at which seeds: ``python -m buggy_raft.survey [SEEDS [BUG...]]``
(with tests/plugins on ``PYTHONPATH``); ``--without [SEEDS [BUG...]]`` runs the bugs the new checks
catch with that check taken away; ``--clients-only`` keeps only what a real cluster's run can check
(liveness, the end state, the history). The tests pin seeds this finds; TESTING.md has its table.

Each bug runs under one profile (``PROFILES``: the run_scenario arguments that give it a
chance: clients, the nemesis, crash points where the bug needs a crash at one moment), and the
real core runs the same seeds under the same profile as the control.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from collections import Counter
from typing import Any

import chaoslab.sim.scenario as scenario
from chaoslab.algorithms.raft.invariants import LeaderHearsMajority, StateMachineSafety, raft_invariants
from chaoslab.sim import NetworkConfig, ScenarioResult, run_scenario

REF = "buggy_raft.spec:SPEC"
LOSSY = NetworkConfig(drop=0.05, delay=(0.001, 0.020), duplicate=0.02)
BASE: dict[str, Any] = {"nodes": 5, "duration": 4.0, "settle": 6.0, "network": LOSSY, "workload": 3}

# Twice: the leader cut off for a while, then back (a deposed leader that has not noticed).
ISOLATE_LEADER = "0.8 isolate leader; 2 heal; 2.4 isolate leader; 3.6 heal"
# Slow and reordering: a vote request can still be on its way when its voter is back up.
SLOW = NetworkConfig(drop=0.05, delay=(0.001, 0.060), duplicate=0.05, reorder=0.2)
RESENDS = NetworkConfig(drop=0.05, delay=(0.001, 0.020), duplicate=0.05, reorder=0.1)
NO_LEASE = {"check_quorum": False}

PROFILES: dict[str, dict[str, Any]] = {
    "stale_reads": {"schedule": ISOLATE_LEADER, "keys": 2, "config": NO_LEASE},
    "apply_before_commit": {"nemesis": True},
    "follower_applies_uncommitted": {"nemesis": True},
    "late_vote": {"nemesis": True, "crash_points": ["vote"], "network": SLOW,
                  "config": {**NO_LEASE, "pre_vote": False, "election_timeout_ms": [150, 200]}},
    "late_append": {"nemesis": True, "crash_points": ["append"], "nodes": 3},
    "no_step_down": {"nemesis": True},
    "commit_not_clamped": {"nemesis": True},
    "snapshot_keeps_log": {"schedule": ISOLATE_LEADER, "config": {**NO_LEASE, "snapshot_threshold": 5}},
    "stale_snapshot": {"network": RESENDS, "config": {"snapshot_threshold": 20}},
}

# A violation's message names its check; the checks, as the table calls them.
CHECKS = {
    "election safety": "election safety",
    "double vote": "one vote per term",
    "term went": "terms only grow",
    "restarted at term": "terms only grow",
    "log matching": "log matching",
    "state machine safety": "state machine safety",
    "out of order or twice": "state machine safety",
    "installed a snapshot": "state machine safety",
    "leader completeness": "leader completeness",
    "check quorum": "check quorum (liveness)",
    "liveness": "leader/settle bound (liveness)",
    "no write committed": "progress (liveness)",
    "acknowledged": "no lost writes",
    "replicas disagree": "replicas agree",
    "linearizab": "linearizable history",
}


def classify(violation: str) -> str:
    """The check that raised ``violation`` (a run_scenario message)."""
    head = violation.split("\n", 1)[0]
    for needle, check in CHECKS.items():
        if needle in head:
            return check
    return f"other: {head[:60]}"


def run(bug: str, seed: int, **overrides: Any) -> ScenarioResult:
    """``bug``'s profile at ``seed`` (``bug="none"``: the real core under the same profile)."""
    profile = {**BASE, **PROFILES.get(bug, {}), **overrides}
    profile["config"] = {"bug": bug, **profile.get("config", {})}
    return run_scenario(REF, seed=seed, **profile)


# What each bug is caught by that the simulator did not have before: without it, how many runs catch it?
WITHOUT = {
    "stale_reads": "the linearizability check",
    "no_step_down": "the check-quorum invariant",
    "late_vote": "crash points",
    "late_append": "crash points",
}


def run_without(bug: str, seed: int) -> ScenarioResult:
    """``bug``'s profile at ``seed`` with the check of ``WITHOUT[bug]`` taken away."""
    what = WITHOUT[bug]
    if what == "crash points":
        return run(bug, seed, crash_points=[])
    if what == "the linearizability check":
        real = scenario.check_history
        scenario.check_history = lambda *a, **k: types.SimpleNamespace(verdict="valid", reason="", seconds=0.0)
        try:
            return run(bug, seed)
        finally:
            scenario.check_history = real
    from buggy_raft.spec import SPEC

    invariants = [i for i in raft_invariants() if not isinstance(i, LeaderHearsMajority)]
    spec = dataclasses.replace(SPEC, sim=dataclasses.replace(SPEC.sim, invariants=lambda: list(invariants)))
    profile = {**BASE, **PROFILES[bug]}
    profile["config"] = {"bug": bug, **profile.get("config", {})}
    return run_scenario(spec, seed=seed, **profile)


class _Applied(StateMachineSafety):
    """Keeps what was applied (the end-of-run checks read it) and never fails a step."""

    def __call__(self, sim: Any) -> None:
        try:
            super().__call__(sim)
        except AssertionError:
            pass


def run_clients_only(bug: str, seed: int) -> ScenarioResult:
    """``bug``'s profile at ``seed`` with only what a real cluster's run can check: no invariant
    on every step, only liveness, the end state and the clients' history."""
    from buggy_raft.spec import SPEC

    spec = dataclasses.replace(SPEC, sim=dataclasses.replace(SPEC.sim, invariants=lambda: [_Applied()]))
    profile = {**BASE, **PROFILES[bug]}
    profile["config"] = {"bug": bug, **profile.get("config", {})}
    return run_scenario(spec, seed=seed, **profile)


def caught_by(result: ScenarioResult) -> list[str]:
    return sorted({classify(v) for v in result.violations})


def survey(bug: str, seeds: range) -> tuple[Counter[str], dict[str, list[int]], list[int]]:
    """For ``bug`` over ``seeds``: how often each check fired, the seeds each caught it at, and
    the seeds where the real core failed under the same profile (should be none)."""
    counts: Counter[str] = Counter()
    where: dict[str, list[int]] = {}
    control_failures = []
    for seed in seeds:
        for check in caught_by(run(bug, seed)):
            counts[check] += 1
            where.setdefault(check, []).append(seed)
        if not run("none", seed, **PROFILES.get(bug, {})).ok:
            control_failures.append(seed)
    return counts, where, control_failures


def main(argv: list[str]) -> int:
    if argv[:1] == ["--clients-only"]:
        seeds = range(int(argv[1]) if len(argv) > 1 else 40)
        for bug in argv[2:] or list(PROFILES):
            counts: Counter[str] = Counter(c for seed in seeds for c in caught_by(run_clients_only(bug, seed)))
            caught = "; ".join(f"{check}: {n}" for check, n in counts.most_common()) or "nothing"
            print(f"{bug} with client checks only: {caught}", flush=True)
        return 0
    if argv[:1] == ["--without"]:
        seeds = range(int(argv[1]) if len(argv) > 1 else 40)
        for bug in argv[2:] or list(WITHOUT):
            caught = {seed: caught_by(r) for seed in seeds if not (r := run_without(bug, seed)).ok}
            print(f"{bug} without {WITHOUT[bug]}: caught in {len(caught)} of {len(seeds)} {caught}", flush=True)
        return 0
    seeds = range(int(argv[0]) if argv else 40)
    bugs = argv[1:] or list(PROFILES)
    print(f"| bug | caught by (runs of {len(seeds)}) | first seeds | real core, same seeds |")
    print("| --- | --- | --- | --- |")
    for bug in bugs:
        counts, where, control = survey(bug, seeds)
        caught = "; ".join(f"{check}: {n}" for check, n in counts.most_common()) or "nothing"
        firsts = "; ".join(f"{check}: {', '.join(map(str, s[:4]))}" for check, s in where.items()) or "-"
        print(f"| {bug} | {caught} | {firsts} | {'passes' if not control else f'FAILS at {control}'} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

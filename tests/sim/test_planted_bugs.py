"""Planted bugs (tests/plugins/buggy_raft): each is caught, by the check the table in TESTING.md
names, at the seed it names; the real core passes the same seeds; and without that check
(or without the targeted crashes) the bug gets through.

A seed here is one ``buggy_raft.survey`` found (``python -m buggy_raft.survey 100`` with
tests/plugins on PYTHONPATH reruns the whole table); every failure message ends with the
replay line, which reproduces it from the shell.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("plugin_algorithms")
ROOT = Path(__file__).resolve().parents[2]

# (bug, seed, the check that catches it there)
CAUGHT = [
    ("stale_reads", 4, "linearizable history"),
    ("apply_before_commit", 8, "state machine safety"),
    ("follower_applies_uncommitted", 8, "state machine safety"),
    ("follower_applies_uncommitted", 11, "leader completeness"),
    ("late_vote", 16, "one vote per term"),
    ("late_append", 1, "leader completeness"),
    ("late_append", 0, "leader/settle bound (liveness)"),
    ("no_step_down", 0, "check quorum (liveness)"),
    ("commit_not_clamped", 8, "state machine safety"),
    ("snapshot_keeps_log", 55, "state machine safety"),
    ("stale_snapshot", 13, "state machine safety"),
]


def survey() -> types.ModuleType:
    import buggy_raft.survey  # importable once the plugin_algorithms fixture put tests/plugins on the path

    return buggy_raft.survey


def ids(case: tuple[str, int, str]) -> str:
    return f"{case[0]}-seed={case[1]}"


class TestEachBugIsCaught:
    @pytest.mark.parametrize("case", CAUGHT, ids=ids)
    def test_caught_by_its_check(self, case: tuple[str, int, str]) -> None:
        """The planted bug fails the run at this seed, and the named check is among the reasons."""
        bug, seed, check = case
        s = survey()
        result = s.run(bug, seed)
        assert not result.ok
        assert check in s.caught_by(result), result.summary()
        assert result.violation is not None and "replay: python -m chaoslab.sim" in result.violation

    @pytest.mark.parametrize("case", CAUGHT, ids=ids)
    def test_the_real_core_passes_the_same_run(self, case: tuple[str, int, str]) -> None:
        """The same profile and seed with the real core: every check holds (so the bug is the difference)."""
        bug, seed, _ = case
        s = survey()
        result = s.run("none", seed, **s.PROFILES[bug])
        assert result.ok, result.summary()


class TestWithoutTheCheck:
    @pytest.mark.parametrize(("bug", "seed"), [
        ("stale_reads", 4), ("stale_reads", 23), ("stale_reads", 25), ("stale_reads", 27),
        ("no_step_down", 0), ("no_step_down", 6), ("no_step_down", 7), ("no_step_down", 8),
        ("late_vote", 16), ("late_vote", 23), ("late_append", 1), ("late_append", 2),
    ], ids=lambda v: str(v))
    def test_the_same_runs_pass_without_it(self, bug: str, seed: int) -> None:
        """What the simulator lacked before: a stale read breaks no invariant, loses no write and
        settles (only the results of reads show it); a leader that keeps the lead of a minority is
        stuck, not unsafe (only the check-quorum invariant shows it); a vote or an acknowledged entry
        written one output late is lost only by a crash in between (the random nemesis alone misses
        it). Each of these runs catches its bug, and passes with that check taken away."""
        s = survey()
        assert not s.run(bug, seed).ok
        assert s.run_without(bug, seed).ok, s.WITHOUT[bug]


# (bug, seed, check): caught with only what a real cluster's run has (no invariant on every step)
CLIENT_VISIBLE = [
    ("stale_reads", 4, "linearizable history"),
    ("apply_before_commit", 8, "linearizable history"),
    ("apply_before_commit", 27, "no lost writes"),
    ("follower_applies_uncommitted", 8, "replicas agree"),
    ("follower_applies_uncommitted", 16, "no lost writes"),
    ("late_append", 4, "linearizable history"),
]


class TestWithClientChecksOnly:
    @pytest.mark.parametrize("case", CLIENT_VISIBLE, ids=ids)
    def test_caught_without_invariants(self, case: tuple[str, int, str]) -> None:
        """A real cluster has no invariant checked on every step, only its clients' history, the end
        state and liveness: these bugs show there too (``survey --clients-only`` counts how often)."""
        bug, seed, check = case
        s = survey()
        assert check in s.caught_by(s.run_clients_only(bug, seed))


class TestReplay:
    def test_the_printed_replay_reproduces_a_planted_bug(self) -> None:
        """The replay line of a planted bug's failure, run from the shell (tests/plugins on
        PYTHONPATH), fails the same way: exit 1 and the same first violation."""
        s = survey()
        result = s.run("stale_reads", 4)
        assert result.violation is not None
        printed = next(line for line in result.violation.splitlines() if line.startswith("replay: "))
        argv = shlex.split(printed.removeprefix("replay: "))
        proc = subprocess.run([sys.executable, *argv[1:], "--quiet"], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 1, proc.stderr
        assert result.violation.split("\n", 1)[0] in proc.stdout

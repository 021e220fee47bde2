"""`chaoslab run` on several files: each runs in turn, the exit code is the worst, failing runs
print their replay command, --json prints the reports. The runner itself is replaced here."""

from __future__ import annotations

import json
import sys

import pytest

from chaoslab import cli
from chaoslab.chaos import runner
from chaoslab.chaos import verdicts as v
from chaoslab.chaos.report import replay_command

SCENARIO = """\
[cluster]
algorithm = "raft"
nodes = 3
[workload]
duration = "2s"
"""


@pytest.fixture
def files(tmp_path):
    paths = []
    for name in ("first", "second", "third"):
        path = tmp_path / f"{name}.toml"
        path.write_text(SCENARIO)
        paths.append(path)
    return paths


@pytest.fixture
def fake_runs(monkeypatch, tmp_path):
    """runner.run gives each scenario the exit code set for its name (0 by default), without a cluster."""
    codes: dict[str, int] = {}
    ran = []

    def run(scenario, seed, *, quick=False, home=None, report_dir=None, progress=None):
        ran.append((scenario.name, seed, quick))
        code = codes.get(scenario.name, 0)
        verdict = {0: "valid", 1: "invalid", 2: "unknown"}[code]
        report = {"scenario": scenario.name, "seed": seed, "quick": quick, "exit_code": code, "verdict": verdict,
                  "expect": "valid", "as_expected": code == 0, "ops": {"invoke": 3, "ok": 2, "fail": 0, "info": 1},
                  "faults": [], "verdicts": [], "wall_s": 1.0, "error": None, "step_errors": [], "notes": [],
                  "replay": replay_command(scenario.path, seed, quick)}
        verdicts = [v.Verdict("linearizable", "valid", "linearizable: 3 operations"),
                    v.Verdict("no_lost_writes", verdict, f"{verdict}: 1 acknowledged write lost" if code else "none lost")]
        return runner.RunResult(scenario.name, str(scenario.path), seed, quick, tmp_path / scenario.name, report, verdicts)

    monkeypatch.setattr(runner, "run", run)
    return codes, ran


def chaoslab(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["chaoslab", *args])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    captured = capsys.readouterr()
    return exit_.value.code, captured.out, captured.err


class TestRunCommand:
    def test_every_file_runs_in_turn_and_the_worst_code_wins(self, monkeypatch, capsys, files, fake_runs):
        codes, ran = fake_runs
        codes["second"] = 1
        code, out, _ = chaoslab(monkeypatch, capsys, "run", *map(str, files), "--seed", "7", "--quick")
        assert code == 1
        assert ran == [("first", 7, True), ("second", 7, True), ("third", 7, True)]
        assert out.count("replay:") == 1 and f"chaoslab run {files[1]} --seed 7 --quick" in out
        assert "first: valid (exit 0, seed 7)" in out and "second: invalid (exit 1, seed 7)" in out

    def test_a_failed_run_says_which_check_failed_and_why(self, monkeypatch, capsys, files, fake_runs):
        """The log alone tells a CI reader what broke: each invalid or unknown verdict, one line."""
        codes, _ = fake_runs
        codes.update(second=1, third=2)
        _, out, _ = chaoslab(monkeypatch, capsys, "run", *map(str, files), "--seed", "7")
        assert "  no_lost_writes: invalid: invalid: 1 acknowledged write lost" in out
        assert "  no_lost_writes: unknown: unknown: 1 acknowledged write lost" in out
        assert "linearizable:" not in out and out.count("no_lost_writes:") == 2  # valid verdicts stay quiet

    def test_unknown_beats_a_violation(self, monkeypatch, capsys, files, fake_runs):
        codes, _ = fake_runs
        codes.update(first=1, third=2)
        assert chaoslab(monkeypatch, capsys, "run", *map(str, files))[0] == 2

    def test_json_prints_the_reports(self, monkeypatch, capsys, files, fake_runs):
        code, out, _ = chaoslab(monkeypatch, capsys, "run", str(files[0]), str(files[2]), "--json", "--seed", "3")
        assert code == 0
        assert [r["scenario"] for r in json.loads(out)] == ["first", "third"]

    def test_a_seed_is_drawn_and_shown_when_none_is_given(self, monkeypatch, capsys, files, fake_runs):
        codes, ran = fake_runs
        codes["first"] = 1
        _, out, _ = chaoslab(monkeypatch, capsys, "run", str(files[0]))
        assert f"first: invalid (exit 1, seed {ran[0][1]})" in out and f"--seed {ran[0][1]}" in out

    def test_bad_input_runs_nothing(self, monkeypatch, capsys, files, fake_runs, tmp_path):
        """A missing file after good ones: one line, exit 2, and not one scenario ran."""
        _, ran = fake_runs
        code, out, err = chaoslab(monkeypatch, capsys, "run", str(files[0]), str(tmp_path / "missing.toml"))
        assert code == 2 and ran == [] and err.count("\n") == 1 and "missing.toml" in err

"""`chaoslab run` end to end on real clusters: a short raft scenario, Ctrl-C mid-run, bad input.

Scenarios are written into the test's own directory and kept to a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaoslab.testing import processes_of, run_cli, run_scenario, wait_until, wait_until_gone

SHORT = """\
name = "short-raft"
description = "Isolate the leader for 1.5 s, then crash the leader for 1 s."

[cluster]
algorithm = "raft"
nodes = 3

[workload]
clients = 3
rate = 60
keys = 3
duration = "5s"

[[step]]
at = "1s"
partition = "isolate:leader"
for = "1.5s"
name = "isolated"

[[step]]
at = "3s"
crash = "leader"
restart_after = "1s"

[check]
leader_within = "5s"

[[check.availability]]
during = "isolated"
min = 0.2
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def only_run(home: Path) -> Path:
    runs = sorted((home / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


class TestRun:
    def test_a_short_raft_scenario(self, home, tmp_path):
        """Valid run: exit 0, the run dir holds history, events and report, the faults are in the
        report with their nodes, and no cluster or process is left."""
        scenario = write(tmp_path, "short-raft.toml", SHORT)
        done = run_cli(home, "run", str(scenario), "--seed", "4", timeout=90)
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert "short-raft: valid (exit 0, seed 4)" in done.stdout and "ok/fail/info" in done.stdout
        run_dir = only_run(home)
        assert {p.name for p in run_dir.iterdir()} == {"history.jsonl", "events.jsonl", "report.json", "report.html", "logs"}
        assert {p.name for p in (run_dir / "logs").iterdir()} == {"supervisor.log", "proxy.log", "n1.log", "n2.log", "n3.log"}
        report = json.loads((run_dir / "report.json").read_text())
        assert report["exit_code"] == 0 and report["verdict"] == "valid" and report["seed"] == 4
        assert report["replay"] == f"chaoslab run {scenario} --seed 4"
        assert [v["name"] for v in report["verdicts"]] == [
            "linearizable", "no_lost_writes", "election_safety", "leader_within", "availability"]
        assert [(f["label"], f["kind"], f["source"], len(f["nodes"])) for f in report["faults"]] == [
            ("partition isolate:leader", "partition", "step", 1), ("crash leader", "crash", "step", 1)]
        part, crash = report["faults"]
        # Each starts at its `at` (a little late on a busy machine) and ends at its absolute `until`.
        assert 1.0 <= part["start"] < 1.5 and 2.5 <= part["end"] < 3.0
        assert 3.0 <= crash["start"] < 3.5 and 4.0 <= crash["end"] < 4.5
        assert report["ops"]["invoke"] > 50 and report["ops"]["ok"] > 0
        assert report["step_errors"] == [] and report["notes"] == []
        lines = (run_dir / "history.jsonl").read_text().splitlines()
        assert len(lines) >= 2 * report["ops"]["invoke"] - report["ops"]["info"]
        events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
        assert {"crash", "restart", "run_start", "final_heal"} <= {e["kind"] for e in events}
        assert [p.name for p in home.iterdir()] == ["runs"]  # the cluster's own directory is gone
        assert wait_until_gone(home, timeout=2) == []

        listed = run_cli(home, "runs", "--json")
        assert [r["scenario"] for r in json.loads(listed.stdout)] == ["short-raft"]
        again = run_cli(home, "report", run_dir.name)
        assert again.returncode == 0 and "linearizable" in again.stdout and "short-raft" in again.stdout

    def test_run_scenario_from_python(self, home, tmp_path):
        """`chaoslab.testing.run_scenario`: the quick profile, verdicts by name, the run dir under home/runs."""
        text = SHORT.split("[[check.availability]]")[0]  # the quick profile's windows are too short to judge
        result = run_scenario(write(tmp_path, "short-raft.toml", text), seed=2, home=home)
        assert result.ok, (result.report["verdicts"], result.error)
        assert result.verdict("linearizable").status == "valid"
        assert result.run_dir.parent == home / "runs" and result.report["quick"] is True
        assert result.report["duration_s"] == 2.5
        assert processes_of(home) == []


class TestInterrupt:
    @pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
    def test_ctrl_c_mid_run_leaves_nothing_running(self, home, tmp_path, sig):
        """SIGINT (or SIGTERM: `kill`, a CI timeout) while the clients run: the cluster is taken
        down (no process, no cluster directory), the run says so in one line and exits 130."""
        scenario = write(tmp_path, "long.toml", SHORT.replace('duration = "5s"', 'duration = "60s"'))
        env = {**os.environ, "CHAOSLAB_HOME": str(home)}
        proc = subprocess.Popen([sys.executable, "-m", "chaoslab", "run", str(scenario), "--seed", "1"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                # As from a terminal: a suite started in the background hands its
                                # children SIGINT ignored, and Ctrl-C would not be felt.
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            # Mid-run: the clients have written a good part of the history.
            wait_until(lambda: any(p.stat().st_size > 8000 for p in home.glob("runs/*/history.jsonl")), timeout=30,
                       what="the clients' first operations")
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, (out, err)
        assert err.startswith("error: interrupted") and err.count("\n") == 1, err  # one line (no progress: not a terminal)
        assert wait_until_gone(home, timeout=3) == []
        assert [p.name for p in home.iterdir()] == ["runs"]
        report = json.loads((only_run(home) / "report.json").read_text())
        assert report["exit_code"] == 130 and "interrupted" in report["error"]


class TestBadInput:
    def test_malformed_file_starts_nothing(self, home, tmp_path):
        """A bad file among good ones: one line naming the file, exit 2, and no cluster or run started."""
        good = write(tmp_path, "good.toml", SHORT)
        bad = write(tmp_path, "bad.toml", SHORT.replace("partition = ", "partiton = "))
        started = time.monotonic()
        done = run_cli(home, "run", str(good), str(bad))
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and "bad.toml" in done.stderr and "partiton" in done.stderr
        assert time.monotonic() - started < 10
        assert not home.exists() or list(home.iterdir()) == []

    def test_missing_file(self, home, tmp_path):
        done = run_cli(home, "run", str(tmp_path / "nope.toml"))
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and "nope.toml" in done.stderr
        assert not home.exists() or list(home.iterdir()) == []

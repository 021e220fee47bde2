"""What a run decides before it starts (its checks, its names, its directory) and how past runs are found."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console

from chaoslab.algorithms import get_algorithm
from chaoslab.chaos.display import runs_table, summary_table, verdicts_table
from chaoslab.chaos.report import find_run, list_runs, new_run_dir, replay_command, verdict_label, write_report
from chaoslab.chaos.runner import availability_windows, cluster_name, plan_checks
from chaoslab.chaos.scenario import Availability, CheckSection, ClusterSection, Scenario, WorkloadSection
from chaoslab.chaos.steps import FaultRecord
from chaoslab.errors import LabError
from chaoslab.lab.spec import build_spec


def scenario(algorithm="raft", check=CheckSection(), workload=WorkloadSection()):
    return Scenario(name="x", path=Path("faults/x.toml"), cluster=ClusterSection(algorithm=algorithm),
                    workload=workload, check=check)


class TestPlanChecks:
    def test_defaults_per_algorithm(self):
        """Raft checks its history and elections; bully its coordinator at the end; Byzantine agreement."""
        assert plan_checks(scenario(), get_algorithm("raft")) == {
            "linearizable": True, "no_lost_writes": True, "election_safety": True, "leader_within": 5.0}
        assert plan_checks(scenario("bully", workload=None), get_algorithm("bully")) == {"one_coordinator": True}
        assert plan_checks(scenario("byzantine"), get_algorithm("byzantine")) == {"agreement": True}

    def test_the_file_overrides_the_defaults(self):
        """An explicit false turns a default off; a bound replaces the default bound; an explicit true adds."""
        check = CheckSection(linearizable=False, leader_within=2.0, one_coordinator=True)
        assert plan_checks(scenario(check=check), get_algorithm("raft")) == {
            "no_lost_writes": True, "election_safety": True, "leader_within": 2.0, "one_coordinator": True}

    @pytest.mark.parametrize(("kind", "checks"), [
        ("kv", {"linearizable": True, "no_lost_writes": True}), ("echo", {"echoes_match": True}),
        ("broadcast", {"all_delivered": True}), ("g-counter", {"counter_sum": True})])
    def test_a_maelstrom_program_is_checked_by_its_workload_kind(self, kind, checks):
        """Maelstrom names no defaults: each workload kind brings its own check (and no election safety:
        no role of its spec leads)."""
        assert plan_checks(scenario("maelstrom", workload=WorkloadSection(kind=kind)), get_algorithm("maelstrom")) == checks

    def test_a_kind_default_can_be_turned_off(self):
        check = CheckSection(all_delivered=False)
        assert plan_checks(scenario("maelstrom", check=check, workload=WorkloadSection(kind="broadcast")),
                           get_algorithm("maelstrom")) == {}

    def test_an_algorithm_without_defaults_gets_what_its_spec_allows(self):
        """An algorithm with no table entry: election safety because a role of its spec leads."""
        spec = get_algorithm("twogenerals")
        assert plan_checks(scenario("twogenerals", workload=None), spec) == {"election_safety": True}


class TestNames:
    def test_cluster_names_are_unique_and_acceptable_to_the_lab(self):
        """Every run gets a cluster name of its own that `up` accepts, even from a long scenario name."""
        names = {cluster_name("raft-leader-isolation-with-a-very-long-name-indeed!") for _ in range(3)}
        assert len(names) == 3
        for name in names:
            assert len(name) <= 40 and name.startswith("run-raft-leader")
            assert build_spec("raft", name=name, nodes=3, seed=1).name == name

    def test_run_dirs_are_unique_within_a_second(self, tmp_path):
        when = time.mktime((2026, 1, 2, 3, 4, 5, 0, 0, -1))
        first = new_run_dir(tmp_path / "runs", "raft-x", when)
        second = new_run_dir(tmp_path / "runs", "raft-x", when)
        assert first.name == "20260102-030405-raft-x" and second.name == "20260102-030405-raft-x-2"
        assert first.is_dir() and second.is_dir()

    def test_replay_command(self):
        assert replay_command("faults/a b.toml", 7, True) == "chaoslab run 'faults/a b.toml' --seed 7 --quick"
        assert replay_command(Path("faults/x.toml"), 3, False) == "chaoslab run faults/x.toml --seed 3"


class TestAvailabilityWindows:
    def test_named_windows_and_explicit_ones(self):
        """`during` takes a named step's fault (open ones last to the end); start/end are taken as given."""
        faults = [FaultRecord("partition isolate:leader", "partition", 3.0, ["n1"], "step", end=8.0, name="isolated"),
                  FaultRecord("crash leader", "crash", 11.0, ["n2"], "step", name="crashed")]
        windows, missing = availability_windows(
            (Availability(min=0.3, during="isolated"), Availability(min=0.5, during="crashed"),
             Availability(min=0.7, start=15.0), Availability(min=0.1, during="never")), faults, duration=20.0)
        assert windows == [("isolated", 3.0, 8.0, 0.3), ("crashed", 11.0, 20.0, 0.5), ("15s-20s", 15.0, 20.0, 0.7)]
        assert missing == ["never"]


def report(name, started, verdict="valid", code=0, **extra):
    return {"scenario": name, "seed": 7, "quick": True, "started_at": started, "wall_s": 12.34,
            "ops": {"invoke": 100, "ok": 90, "fail": 4, "info": 6}, "faults": [{}, {}], "verdict": verdict,
            "expect": "valid", "as_expected": code == 0, "exit_code": code, "verdicts": [
                {"name": "linearizable", "status": verdict, "summary": "1 key, 100 ops", "details": {}, "ops": []}],
            **extra}


class TestPastRuns:
    def test_listed_oldest_first_and_found_by_name_prefix_or_path(self, tmp_path):
        runs = tmp_path / "home" / "runs"
        for stamp, name, started in (("20260102-000002", "b", 2.0), ("20260102-000001", "a", 1.0)):
            d = runs / f"{stamp}-{name}"
            d.mkdir(parents=True)
            write_report(d, report(name, started))
        (runs / "20260102-000003-unfinished").mkdir()
        found = list_runs(tmp_path / "home")
        assert [p.name for p, _ in found] == ["20260102-000001-a", "20260102-000002-b"]
        assert find_run("20260102-000002-b", tmp_path / "home").name.endswith("-b")
        assert find_run("20260102-000001", tmp_path / "home").name.endswith("-a")
        assert find_run(str(found[0][0]), tmp_path / "nowhere") == found[0][0]
        with pytest.raises(LabError, match="several runs"):
            find_run("20260102", tmp_path / "home")
        with pytest.raises(LabError, match="no run 'zzz'"):
            find_run("zzz", tmp_path / "home")
        assert json.loads((found[0][0] / "report.json").read_text())["scenario"] == "a"


class TestDisplay:
    def render(self, renderable):
        console = Console(file=io.StringIO(), width=120, color_system=None)
        console.print(renderable)
        return console.file.getvalue()

    def test_summary_table(self):
        text = self.render(summary_table([report("raft-x", 1.0), report("raft-y", 2.0, "invalid", 1)]))
        assert "raft-x" in text and "quick profile" in text and "90/4/6" in text and "12.3s" in text
        assert "valid" in text and "invalid" in text

    def test_expected_violation_reads_as_such(self):
        r = report("bully", 1.0, "invalid", 0, expect="violation")
        assert verdict_label(r) == "violation (expected)"
        assert "violation (expected)" in self.render(summary_table([r]))

    def test_verdicts_and_runs_tables(self):
        assert "1 key, 100 ops" in self.render(verdicts_table(report("a", 1.0)))
        text = self.render(runs_table([(Path("/x/20260102-000001-a"), report("a", 1.0))]))
        assert "20260102-000001-a" in text and "valid" in text

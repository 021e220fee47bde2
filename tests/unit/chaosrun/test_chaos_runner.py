"""A whole run against the fake cluster: how it ends (exit codes), what it records, and that the
cluster always goes down. Scenarios last a fraction of a second of real time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaoslab.chaos import runner
from chaoslab.chaos.scenario import CheckSection, ClusterSection, Scenario, Step
from chaoslab.chaos.verdicts import Verdict
from chaoslab.errors import LabError


@pytest.fixture
def started(monkeypatch, tmp_path, make_cluster):
    """Cluster.up returns a fake cluster (kept in the list for the test to look at)."""
    clusters = []

    def up(algorithm, nodes=None, name=None, seed=None, home=None, overrides=None, **_):
        (tmp_path / "cluster").mkdir(exist_ok=True)
        cluster = make_cluster(n=nodes, run_dir=tmp_path / "cluster")
        cluster.name = name
        clusters.append(cluster)
        return cluster

    monkeypatch.setattr(runner.Cluster, "up", staticmethod(up))
    return clusters


def verdicts(*statuses):
    return lambda *args, **kwargs: [Verdict(f"check{i}", s, s, {}, []) for i, s in enumerate(statuses)]


def scenario(*steps, expect="valid"):
    return Scenario(name="fake-run", path=Path("faults/fake-run.toml"), cluster=ClusterSection(nodes=3),
                    steps=tuple(steps), check=CheckSection(expect=expect))


def run(scn, tmp_path, **kwargs):
    return runner.run(scn, 7, home=tmp_path / "home", **kwargs)


class TestExitCodes:
    @pytest.mark.parametrize(("statuses", "expect", "verdict", "code"), [
        (("valid", "valid"), "valid", "valid", 0),
        (("valid", "invalid"), "valid", "invalid", 1),
        (("valid", "unknown"), "valid", "unknown", 2),
        (("invalid",), "violation", "invalid", 0),
        (("valid",), "violation", "valid", 1),
    ])
    def test_the_verdicts_decide(self, started, tmp_path, monkeypatch, statuses, expect, verdict, code):
        """0 as expected, 1 a violation (or an expected one missing), 2 unknown; the report says the same."""
        monkeypatch.setattr(runner, "verdicts_for", verdicts(*statuses))
        result = run(scenario(Step(at=0.05, action="crash", target="n2"), expect=expect), tmp_path)
        assert (result.outcome, result.exit_code, result.ok) == (verdict, code, code == 0)
        saved = json.loads((result.run_dir / "report.json").read_text())
        assert saved["exit_code"] == code and saved["as_expected"] == (code == 0) and saved["expect"] == expect
        assert result.verdict("check0").status == statuses[0]
        with pytest.raises(KeyError, match="no verdict 'nope'"):
            result.verdict("nope")

    def test_a_wait_for_that_times_out_is_an_error(self, started, tmp_path, monkeypatch):
        """No leader for `wait_for`: exit 2, verdict error, the reason in the report; the cluster is down."""
        monkeypatch.setattr(runner, "verdicts_for", verdicts("valid"))
        scn = scenario(Step(at=0.0, action="crash", target="n1"),
                       Step(at=0.05, action="wait_for", target="leader", options={"timeout": 0.2}),
                       Step(at=0.1, action="crash", target="n2"),
                       Step(at=1.0, action="heal"))
        result = run(scn, tmp_path)
        assert (result.outcome, result.exit_code) == ("error", 2)
        assert "wait_for leader" in result.error and "0.2s" in result.error
        assert [f["label"] for f in result.report["faults"]] == ["crash n1"]  # the held step never ran
        assert started[0].downed

    def test_a_cluster_that_will_not_start(self, tmp_path, monkeypatch):
        def up(*args, **kwargs):
            raise LabError("cluster 'x' failed to start: port 1 is in use")

        monkeypatch.setattr(runner.Cluster, "up", staticmethod(up))
        result = run(scenario(), tmp_path)
        assert (result.outcome, result.exit_code) == ("error", 2) and "port 1 is in use" in result.error
        assert (result.run_dir / "report.json").exists()


class TestTheRun:
    def test_faults_are_recorded_failures_logged_and_everything_lifted(self, started, tmp_path, monkeypatch):
        """A step that fails is logged and the run goes on; at the end every fault is lifted, every
        record closed, the events kept, and the report lists what happened."""
        monkeypatch.setattr(runner, "verdicts_for", verdicts("valid"))
        scn = scenario(Step(at=0.05, action="crash", target="n3"),
                       Step(at=0.1, action="crash", target="n3"),  # already down: fails, logged
                       Step(at=0.15, action="drop", target=0.5, name="lossy"),
                       Step(at=0.2, action="pause", target="leader", until=0.3),
                       Step(at=0.4, action="heal"))  # no workload: the last step's time is the end
        result = run(scn, tmp_path)
        cluster = started[0]
        assert result.exit_code == 0
        assert set(cluster.states.values()) == {"up"} and cluster.table.rules() == []
        faults = result.report["faults"]
        assert [(f["label"], f["nodes"]) for f in faults] == [("crash n3", ["n3"]), ("drop 0.5", []),
                                                              ("pause leader", ["n1"])]
        assert all(f["end"] is not None for f in faults)
        assert 0.3 <= faults[2]["end"] < result.report["final_heal"]  # its own undo, before the final heal
        assert faults[0]["end"] >= result.report["final_heal"]        # lifted by the final heal
        assert [e["label"] for e in result.report["step_errors"]] == ["crash n3"]
        assert "crashed" in result.report["step_errors"][0]["error"]
        events = (result.run_dir / "events.jsonl").read_text()
        assert '"kind":"step_failed"' in events and '"kind":"final_heal"' in events
        assert cluster.downed and cluster.name.startswith("run-fake-run-")
        assert (result.run_dir / "history.jsonl").exists() and (result.run_dir / "report.html").exists()
        assert result.report["notes"] == []

    def test_progress_reports(self, started, tmp_path, monkeypatch):
        """Progress goes from starting through running to done, with the current step's label."""
        monkeypatch.setattr(runner, "verdicts_for", verdicts("valid"))
        seen = []
        run(scenario(Step(at=0.05, action="crash", target="n2"), Step(at=0.3, action="restart", target="n2")),
            tmp_path, progress=seen.append)
        phases = [p.phase for p in seen]
        assert phases[0] == "starting" and phases[-1] == "done" and {"running", "healing"} <= set(phases)
        assert any(p.step == "crash n2" for p in seen) and seen[-1].elapsed == pytest.approx(0.3, abs=0.05)

    def test_ctrl_c_tears_down_and_is_raised_again(self, started, tmp_path, monkeypatch):
        """KeyboardInterrupt mid-run: the cluster goes down, the report says interrupted, the interrupt goes on."""
        scn = scenario(Step(at=0.05, action="crash", target="n2"))
        monkeypatch.setattr(runner.Faults, "crash", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
        with pytest.raises(KeyboardInterrupt):
            run(scn, tmp_path)
        assert started[0].downed
        saved = json.loads(next((tmp_path / "home" / "runs").glob("*/report.json")).read_text())
        assert saved["exit_code"] == 130 and "interrupted" in saved["error"]

    def test_report_dir(self, started, tmp_path, monkeypatch):
        monkeypatch.setattr(runner, "verdicts_for", verdicts("valid"))
        result = run(scenario(), tmp_path, report_dir=tmp_path / "reports")
        assert result.run_dir.parent == tmp_path / "reports"

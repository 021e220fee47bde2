"""The shipped suite catches a broken build: a shipped scenario, run as a user's test would
(``chaoslab.testing.run_scenario`` with ``algorithm=``/``settings=``, as ``chaoslab run
--algorithm --set``), against tests/plugins/buggy_raft. The same call on the healthy build is
the control; without it a scenario that always failed would "catch" everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoslab.testing import run_scenario

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("plugin_algorithms")]

FAULTS = Path(__file__).parents[2] / "faults"


@pytest.mark.parametrize(("bug", "want"), [("stale_reads", "invalid"), ("none", "valid")])
def test_leader_isolation_catches_reads_served_from_local_state(tmp_path, bug, want):
    result = run_scenario(FAULTS / "raft-leader-isolation.toml", seed=1, quick=True, home=tmp_path / "home",
                          algorithm="buggy_raft", settings=[f"bug={bug}"])
    v = result.verdict("linearizable")
    assert v.status == want, (v.summary, result.replay)
    assert result.exit_code == (1 if want == "invalid" else 0), result.report.get("error")
    if want == "invalid":
        assert v.ops, "a violation names the operations involved"
        assert "--algorithm buggy_raft --set bug=stale_reads" in result.replay

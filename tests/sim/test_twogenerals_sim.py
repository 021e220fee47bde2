"""The Two Generals in the simulator: together over a perfect valley, alone for some seed over a lossy one."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from chaoslab.algorithms.twogenerals.adapters.cli import run_attempt, survey
from chaoslab.sim import NetworkConfig, Simulation


class TestAttempts:
    @pytest.mark.parametrize("confirmations", [0, 1, 3])
    def test_at_zero_loss_they_always_act_together(self, confirmations: int) -> None:
        """With no messenger lost the chain runs to the attack time: both attack, whatever the rule."""
        outcomes = {run_attempt(seed, 0, {"confirmations": confirmations}).outcome for seed in range(100)}
        assert outcomes == {"together"}

    def test_at_30_percent_loss_one_attacks_alone_for_some_seed_and_replays(self) -> None:
        """The default rule at 30% loss: some seed leaves one general attacking alone; that seed replays it."""
        seed = next(s for s in range(500) if run_attempt(s, 30).outcome == "alone")
        print(f"\n30% loss, default rule: alone from seed {seed} "
              f"(chaoslab twogenerals --loss 30 --rounds 1 --seed {seed} --trace)")
        first, again = run_attempt(seed, 30, trace=True), run_attempt(seed, 30, trace=True)
        assert first.outcome == again.outcome == "alone"
        assert first.trace == again.trace and first.decisions == again.decisions

    @pytest.mark.parametrize("confirmations", [0, 1, 2])
    def test_only_the_proposer_can_attack_alone(self, confirmations: int) -> None:
        """n2 attacking needs link 2c+1, which n1 sends only after receiving link 2c: n2 never goes alone."""
        (tally,) = survey([50], 150, seed=1, config={"confirmations": confirmations})
        assert set(tally.alone) <= {"n1"}
        assert tally.together + sum(tally.alone.values()) + tally.neither == 150

    def test_more_messengers_make_alone_rarer_but_not_impossible(self) -> None:
        """At 50% loss: fewer lone attacks with 6 messengers a link than with 1, and still some."""
        few, many = (survey([50], 300, seed=1, config={"messengers": k})[0] for k in (1, 6))
        alone_few, alone_many = sum(few.alone.values()), sum(many.alone.values())
        assert alone_few > alone_many > 0
        assert many.together > few.together

    def test_the_invariant_holds_under_duplicates_and_reordering(self) -> None:
        """Duplicated and reordered messengers: each general still decides once, by its rule."""
        from chaoslab.algorithms.twogenerals.spec import SPEC

        for seed in range(30):
            sim = Simulation(SPEC, 2, seed=seed, network=NetworkConfig(drop=0.2, duplicate=0.3, reorder=0.3))
            for invariant in SPEC.sim.invariants():
                sim.add_invariant(invariant)
            for _ in range(3):
                sim.command("n1", "attack", {"in_ms": 300})
                sim.run_for(0.4)
            assert sim.nodes["n1"].attempt == 3


def chaoslab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaoslab", *args], capture_output=True, text=True, timeout=60)


class TestCommand:
    def test_json_report_per_loss_rate(self) -> None:
        """`chaoslab twogenerals --json` counts together / alone / neither and messengers per loss rate."""
        result = chaoslab("twogenerals", "--rounds", "40", "--loss", "0,30", "--json")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        zero, thirty = report["results"]
        assert (zero["loss"], zero["together"], zero["attempts"]) == (0, 40, 40)
        assert thirty["together"] + thirty["alone"] + thirty["neither"] == 40
        assert zero["messages"] > 0 and report["messengers"] == 3 and report["confirmations"] == 1

    def test_the_defaults_finish_in_a_few_seconds(self) -> None:
        """200 rounds at 0,10,30,50% (800 simulated attempts), the table and a replay line."""
        started = time.monotonic()
        result = chaoslab("twogenerals")
        elapsed = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        assert "together" in result.stdout and "replay: chaoslab twogenerals --loss 30 --rounds 1 --seed" in result.stdout
        assert elapsed < 15, f"took {elapsed:.1f}s"

    @pytest.mark.parametrize(("args", "message"), [
        (("--loss", "0,120"), "--loss 120: a loss rate is between 0 and 100"),
        (("--loss", "-5"), "a loss rate is between 0 and 100"),
        (("--loss", "lots"), "--loss takes percentages"),
        (("--rounds", "0"), "--rounds must be 1 or more"),
        (("--messengers", "0"), "--messengers must be a whole number, 1 or more"),
    ])
    def test_bad_input_is_one_line_and_exit_2(self, args, message) -> None:
        result = chaoslab("twogenerals", *args)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr

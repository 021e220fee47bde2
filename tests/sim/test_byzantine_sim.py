"""Byzantine agreement in the simulator: IC1/IC2 within the bounds over hundreds of seeds, the
violations beyond them found by seed and replayed, and a forger caught by SM(m)'s signatures."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chaoslab.algorithms.byzantine.adapters.agreement import AgreementReport, run_agreement_sim
from chaoslab.algorithms.byzantine.config import STRATEGIES
from chaoslab.algorithms.byzantine.core import ByzantineNode
from chaoslab.algorithms.byzantine.signing import Signer
from chaoslab.algorithms.registry import get_algorithm
from chaoslab.sim import NetworkConfig, Simulation

SEEDS = range(100)


def agreements(sim: Simulation) -> list[AgreementReport]:
    """Both orders from a loyal commander and from a traitor one (when there is a loyal one /
    a traitor): four independent agreements on one cluster."""
    traitors = sim.config["traitor_ids"]
    loyal = [n for n in sim.node_ids if n not in traitors]
    commanders = [loyal[0], *traitors[:1]]
    return [run_agreement_sim(sim, order, c) for c in commanders for order in ("attack", "retreat")]


def violations(protocol: str, nodes: int, traitors: int, strategy: str, seeds: range, **config: Any) -> list[tuple[int, str]]:
    found = []
    for seed in seeds:
        sim = Simulation("byzantine", nodes, seed=seed,
                         config={"protocol": protocol, "traitors": traitors, "strategy": strategy, **config})
        for report in agreements(sim):
            if not report.ok:
                found.append((seed, report.summary()))
    return found


class TestWithinBounds:
    """n >= 3m+1 for OM(m), n >= m+2 for SM(m): IC1 and IC2 hold for every strategy and seed."""

    @pytest.mark.parametrize("strategy", STRATEGIES)
    def test_om1_four_generals_one_traitor(self, strategy: str) -> None:
        """OM(1), n=4, one traitor chosen by seed: 100 seeds x 4 agreements, no violation."""
        assert violations("om", 4, 1, strategy, SEEDS) == []

    @pytest.mark.parametrize("strategy", STRATEGIES)
    def test_om2_seven_generals_two_traitors(self, strategy: str) -> None:
        """OM(2), n=7, two traitors: 100 seeds x 4 agreements, no violation."""
        assert violations("om", 7, 2, strategy, SEEDS) == []

    @pytest.mark.parametrize("strategy", STRATEGIES)
    def test_sm2_four_generals_two_traitors(self, strategy: str) -> None:
        """SM(2) with n = m+2 = 4: two traitors of four, 100 seeds x 4 agreements, no violation."""
        assert violations("sm", 4, 2, strategy, SEEDS) == []

    @pytest.mark.parametrize("strategy", STRATEGIES)
    def test_sm1_three_generals(self, strategy: str) -> None:
        """SM(1) with n = 3, where OM(1) cannot work: 100 seeds, no violation."""
        assert violations("sm", 3, 1, strategy, SEEDS) == []

    def test_a_loyal_run_sends_n_to_the_m_plus_one_messages(self) -> None:
        """OM(2) among 7 loyal generals sends 6 + 6*5 + 6*5*4 = 156 messages in 3 rounds, and decides
        before the last deadline (every expected value arrived)."""
        sim = Simulation("byzantine", 7, seed=1, config={"traitors": 0, "m": 2})
        report = run_agreement_sim(sim, "attack")
        assert (report.ok, report.messages, report.rounds, report.defaulted) == (True, 156, 3, [])
        assert report.elapsed_s < 3 * sim.config["round_ms"] / 1000

    def test_per_id_strategies(self) -> None:
        """Each traitor lies its own way: n3 flips, n5 stays silent."""
        sim = Simulation("byzantine", 7, seed=2, config={"traitor_ids": "n3,n5", "strategy": "n3:flip,n5:silent"})
        assert sim.nodes["n3"].traitor.strategy == "flip" and sim.nodes["n5"].traitor.strategy == "silent"
        assert all(r.ok for r in agreements(sim))


class TestBeyondBounds:
    """n <= 3m: OM(m) can be beaten, and the lab finds the run and replays it from its seed."""

    def test_the_papers_three_generals(self) -> None:
        """n=3, m=1, a traitor lieutenant says the loyal commander said retreat: the loyal
        lieutenant sees attack and retreat, takes RETREAT, and IC2 fails (Lamport's Fig. 1)."""
        sim = Simulation("byzantine", 3, seed=0, config={"traitor_ids": "n3", "strategy": "flip"})
        report = run_agreement_sim(sim, "attack", "n1")
        assert report.decisions["n2"] == "retreat" and not report.ic2

    @pytest.mark.parametrize("strategy", ["equivocate", "collude", "random", "flip", "silent"])
    def test_n3_m1_violation_found_by_seed_and_replayed(self, strategy: str) -> None:
        """Over seeds (which choose the traitor and its lies), some n=3 run violates IC1 or IC2;
        the same seed replays the same decisions."""
        found = violations("om", 3, 1, strategy, range(50))
        assert found, f"no violation found for {strategy}"
        seed, summary = found[0]
        assert violations("om", 3, 1, strategy, range(seed, seed + 1))[0] == (seed, summary)

    @pytest.mark.parametrize("strategy", ["collude", "equivocate", "random"])
    def test_ic1_falls_to_two_traitors_against_om1(self, strategy: str) -> None:
        """A traitor commander with a traitor lieutenant (n=4, OM(1)) splits the loyal lieutenants:
        found by seed, replayed by seed."""
        def run(seed: int) -> AgreementReport:
            sim = Simulation("byzantine", 4, seed=seed, config={"traitor_ids": "n1,n2", "m": 1, "strategy": strategy})
            return run_agreement_sim(sim, "attack", "n1")

        seed = next(s for s in range(100) if not run(s).ic1)
        first, again = run(seed), run(seed)
        assert not first.ic1 and again.decisions == first.decisions and again.seed == seed


class TestFaults:
    def test_a_dropped_message_is_missing_and_reported(self) -> None:
        """With 20% loss, lieutenants still decide by the deadline, and the report names those that
        used RETREAT for a missing value."""
        sim = Simulation("byzantine", 7, seed=4, config={"traitors": 0, "m": 2}, network=NetworkConfig(drop=0.2))
        report = run_agreement_sim(sim, "attack")
        assert report.defaulted and not report.undecided
        assert set(report.decisions) == {"n2", "n3", "n4", "n5", "n6", "n7"}

    def test_a_crashed_lieutenant_takes_no_part(self) -> None:
        """A lieutenant that is down is listed as down; the others still agree (OM(1), n=5)."""
        sim = Simulation("byzantine", 5, seed=3, config={"traitors": 0, "m": 1})
        sim.crash("n5")
        report = run_agreement_sim(sim, "retreat")
        assert report.ok and report.down == ["n5"] and "n5" not in report.decisions


class _NoChecks(Signer):
    """The planted bug: a chain is accepted when it has a signature per signer, none checked."""

    def verify_chain(self, instance, value, path, signatures) -> bool:  # type: ignore[override]
        return len(signatures) == len(path)


class _Gullible(ByzantineNode):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.signer = _NoChecks(self.node_id, self.config.keys)


class TestForgery:
    """SM(m)'s signatures are what stop a traitor from changing a relayed value."""

    def run(self, spec: Any) -> AgreementReport:
        sim = Simulation(spec, 4, seed=1, config={"protocol": "sm", "traitor_ids": "n3", "strategy": "flip", "m": 1})
        return run_agreement_sim(sim, "attack", "n1")

    def test_a_core_that_skips_signature_checks_lets_a_forger_break_ic2(self) -> None:
        """With the planted bug, n3's forged 'retreat' joins V beside 'attack': RETREAT, IC2 broken."""
        report = self.run(dataclasses.replace(get_algorithm("byzantine"), factory=_Gullible))
        assert not report.ic2 and report.decisions["n2"] == "retreat"

    def test_the_real_core_discards_the_forgery(self) -> None:
        """The real core verifies every signature: the forged chain is discarded and IC2 holds."""
        sim = Simulation("byzantine", 4, seed=1, config={"protocol": "sm", "traitor_ids": "n3", "strategy": "flip", "m": 1})
        report = run_agreement_sim(sim, "attack", "n1")
        assert report.ok and report.decisions["n2"] == "attack"
        assert sim.status("n2")["byzantine"]["discarded"] >= 1

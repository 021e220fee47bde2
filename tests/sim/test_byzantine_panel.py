"""The Byzantine dashboard panel over real statuses from the simulator (not fixtures)."""

from __future__ import annotations

import io

from rich.console import Console

from chaoslab.algorithms.byzantine.adapters.agreement import run_agreement_sim
from chaoslab.algorithms.byzantine.adapters.panel import byzantine_panel
from chaoslab.sim import NetworkConfig, Simulation


def snapshot(sim: Simulation) -> dict:
    statuses = sim.statuses()
    return {"algorithm": "byzantine", "nodes": [
        {"id": n, "state": "up" if n in statuses else "crashed", "status": statuses.get(n)} for n in sim.node_ids
    ]}


def render(sim: Simulation, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    console.print(byzantine_panel(snapshot(sim), width=width))
    return console.file.getvalue()


class TestPanelOnRealStatuses:
    def test_before_any_agreement(self) -> None:
        """A fresh cluster has no commander: the panel says how to start an agreement."""
        out = render(Simulation("byzantine", 4, seed=1, config={"traitor_ids": "n3"}))
        assert "no agreement yet" in out and "traitors n3" in out

    def test_an_agreement_with_a_traitor(self) -> None:
        """OM(2) with n3 and n5 traitors: the commander's order, every lieutenant's decision,
        the 156 messages and IC1/IC2 holding."""
        sim = Simulation("byzantine", 7, seed=3, config={"traitor_ids": "n3,n5", "strategy": "flip"})
        run_agreement_sim(sim, "attack")
        out = render(sim)
        assert "OM(2) · commander n1 · agreement n1:1 · 156 messages · traitors n3 n5" in out
        assert "✓ IC1 loyal lieutenants agree" in out and "✓ IC2 they obey the order" in out
        wide = render(sim, 160)
        assert "n1›n3:retreat" in wide and "n1›n2:attack" in wide

    def test_missing_values_are_marked(self) -> None:
        """Under 30% loss, decisions that leaned on RETREAT for a missing value carry a *."""
        sim = Simulation("byzantine", 7, seed=2, config={"traitors": 0, "m": 2}, network=NetworkConfig(drop=0.3))
        report = run_agreement_sim(sim, "attack")
        out = render(sim)
        assert report.defaulted and f"used RETREAT for a missing value ({len(report.defaulted)})" in out

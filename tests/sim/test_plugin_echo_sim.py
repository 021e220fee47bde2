"""An algorithm from outside chaoslab (tests/plugins/echo) runs in the simulator through its spec alone."""

from __future__ import annotations

import dataclasses

import pytest

from chaoslab.algorithms.registry import available, get_algorithm
from chaoslab.sim import InvariantViolation, Simulation, invariants_for, run_scenario

pytestmark = pytest.mark.usefixtures("plugin_algorithms")


def checked(sim: Simulation) -> Simulation:
    for invariant in invariants_for(sim.spec):
        sim.add_invariant(invariant)
    return sim


def follows(sim: Simulation, leader: str) -> bool:
    statuses = sim.statuses()
    return bool(statuses) and all(s["leader"] == leader for s in statuses.values())


class TestRegistration:
    def test_entry_point_makes_the_name_known(self) -> None:
        """A package's ``chaoslab.algorithms`` entry point adds the algorithm by name."""
        assert available()["echo"] == "echo.spec:SPEC"
        spec = get_algorithm("echo")
        assert spec.name == "echo" and spec.ref == "echo.spec:SPEC"

    def test_a_reference_loads_without_registration(self) -> None:
        """``module:attr`` names a spec directly; a bad one is a KeyError naming it."""
        assert get_algorithm("echo.spec:SPEC").name == "echo"
        with pytest.raises(KeyError, match="echo.spec:NOPE"):
            get_algorithm("echo.spec:NOPE")
        with pytest.raises(KeyError, match="not an AlgorithmSpec"):
            get_algorithm("echo.core:Ping")


class TestEchoInTheSimulator:
    def test_all_follow_the_lowest_live_node_through_crash_and_restart(self) -> None:
        """n1 leads; with n1 crashed everyone follows n2; n1 restarted leads again, one boot later."""
        sim = checked(Simulation("echo", 4, seed=3))
        assert sim.run_until(lambda s: follows(s, "n1"), 2.0)
        assert sim.leaders() == {"n1": 1}
        sim.crash("n1")
        assert sim.run_until(lambda s: follows(s, "n2"), 2.0)
        sim.restart("n1")
        assert sim.run_until(lambda s: follows(s, "n1"), 2.0)
        assert sim.status("n1")["term"] == 2

    @pytest.mark.parametrize("seed", range(40))
    def test_nemesis_then_settle(self, seed: int) -> None:
        """Under random partitions, crashes and restarts the durable boot counter never goes back,
        and after healing all nodes agree again."""
        result = run_scenario("echo", seed=seed, nodes=4, duration=4.0, nemesis=True, settle=3.0)
        assert result.ok, result.summary()

    def test_operator_command_reaches_the_core_and_replies(self) -> None:
        """Simulation.command hands the core a command off the faulty network; refusals are ValueErrors."""
        sim = checked(Simulation("echo", 3, seed=2))
        sim.run_for(0.2)
        before = sim.nodes["n2"].seq
        call = sim.command("n2", "ping")
        sim.run_for(0.01)
        assert call.done and call.result == {"node": "n2", "seq": before + 1, "peers": 2}
        with pytest.raises(ValueError, match="unknown command 'pong'"):
            sim.command("n2", "pong")
        sim.crash("n3")
        with pytest.raises(ValueError, match="n3 is down"):
            sim.command("n3", "ping")

    def test_a_node_that_forgets_its_boots_is_caught(self) -> None:
        """Planted bug: a core that ignores its durable state restarts at boot 1; the invariant fails."""
        from echo.core import EchoNode

        class Amnesiac(EchoNode):
            def __init__(self, node_id, nodes, config, rng, durable):
                super().__init__(node_id, nodes, config, rng, None)

        sim = checked(Simulation(dataclasses.replace(get_algorithm("echo"), factory=Amnesiac), 3, seed=1))
        sim.run_for(0.5)
        sim.crash("n2")
        with pytest.raises(InvariantViolation, match="n2 booted as 1 after boot 1"):
            sim.restart("n2")
            sim.run_for(0.5)

"""The deterministic simulator: real algorithm cores, virtual time, a seeded faulty network.

>>> from chaoslab.sim import Simulation, NetworkConfig
>>> sim = Simulation("raft", nodes=5, seed=7, network=NetworkConfig(drop=0.1))
>>> sim.run_until(lambda s: bool(s.leaders()), timeout=2.0)
True

A seed names a run: the same seed gives the same :attr:`Simulation.trace`.
``python -m chaoslab.sim --seed 7 --nemesis`` replays one from the shell.
"""

from chaoslab.sim.invariants import (
    ElectionSafety,
    OneVotePerTerm,
    TermMonotonic,
    converged_for,
    invariants_for,
    raft_converged,
)
from chaoslab.sim.nemesis import FAULTS, Nemesis
from chaoslab.sim.network import Links, NetworkConfig
from chaoslab.sim.scenario import ScenarioResult, replay_command, run_scenario
from chaoslab.sim.simulation import InvariantViolation, SimEvent, Simulation, derive_rng

__all__ = [
    "FAULTS",
    "ElectionSafety",
    "InvariantViolation",
    "Links",
    "Nemesis",
    "NetworkConfig",
    "OneVotePerTerm",
    "ScenarioResult",
    "SimEvent",
    "Simulation",
    "TermMonotonic",
    "converged_for",
    "derive_rng",
    "invariants_for",
    "raft_converged",
    "replay_command",
    "run_scenario",
]

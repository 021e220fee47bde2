"""The deterministic simulator: real algorithm cores, virtual time, a seeded faulty network.

>>> from chaoslab.sim import Simulation, NetworkConfig
>>> sim = Simulation("raft", nodes=5, seed=7, network=NetworkConfig(drop=0.1))
>>> sim.run_until(lambda s: bool(s.leaders()), timeout=2.0)
True

A seed names a run: the same seed gives the same :attr:`Simulation.trace`.
``python -m chaoslab.sim --seed 7 --nemesis --workload 3`` replays one from the shell;
TESTING.md says what a run checks and which planted bugs each check catches.
"""

from chaoslab.sim.invariants import converged_for, invariants_for
from chaoslab.sim.nemesis import FAULTS, CrashPoints, Nemesis
from chaoslab.sim.network import Links, NetworkConfig
from chaoslab.sim.scenario import ScenarioResult, replay_command, run_scenario
from chaoslab.sim.schedule import apply_schedule, parse_schedule
from chaoslab.seeds import derive_rng
from chaoslab.sim.simulation import ClientCall, InvariantViolation, SimEvent, Simulation
from chaoslab.sim.workload import AckedWrite, HistoryOp, Workload

__all__ = [
    "FAULTS",
    "AckedWrite",
    "ClientCall",
    "CrashPoints",
    "HistoryOp",
    "InvariantViolation",
    "Links",
    "Nemesis",
    "NetworkConfig",
    "ScenarioResult",
    "SimEvent",
    "Simulation",
    "Workload",
    "apply_schedule",
    "converged_for",
    "derive_rng",
    "invariants_for",
    "parse_schedule",
    "replay_command",
    "run_scenario",
]

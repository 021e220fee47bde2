"""What the simulator checks for an algorithm, taken from its spec (``AlgorithmSpec.sim``).

Invariants are callables ``invariant(sim)`` run after every step; they read
``sim.step_events`` and ``sim.step_persists`` (what happened since they last
ran) and keep their own history, so a property over the whole run (e.g. one
leader per term *ever*, across crashes) costs O(events), not O(steps x nodes).
Each algorithm keeps its own next to its core (Raft's: ``raft/invariants.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chaoslab.algorithms import AlgorithmSpec, get_algorithm

if TYPE_CHECKING:
    from chaoslab.algorithms.spec import Invariant
    from chaoslab.sim.simulation import Simulation


def spec_of(algorithm: str | AlgorithmSpec) -> AlgorithmSpec:
    return algorithm if isinstance(algorithm, AlgorithmSpec) else get_algorithm(algorithm)


def invariants_for(algorithm: str | AlgorithmSpec) -> list[Invariant]:
    """Fresh instances of the safety properties the simulator checks for ``algorithm``."""
    return list(spec_of(algorithm).sim.invariants())


def converged_for(algorithm: str | AlgorithmSpec) -> Callable[[Simulation], bool]:
    """The predicate "the cluster has settled" for ``algorithm`` (default: the spec's ``ready``)."""
    converged = spec_of(algorithm).sim.converged
    return converged if converged is not None else (lambda sim: sim.ready())

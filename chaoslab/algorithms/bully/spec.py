"""Bully as chaoslab sees it: the one place the rest of the lab learns about the Bully algorithm."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.bully.config import parse_config
from chaoslab.algorithms.bully.core import COORDINATOR, ELECTING, MEMBER, BullyNode
from chaoslab.algorithms.bully.invariants import bully_converged, bully_invariants
from chaoslab.algorithms.bully.messages import MESSAGE_TYPES
from chaoslab.algorithms.spec import AlgorithmSpec, SimHooks, StatusColumn

if TYPE_CHECKING:
    import random

    from chaoslab.algorithms.base import Algorithm


def _factory(node_id: str, nodes: list[str], config: Mapping[str, Any], rng: random.Random, durable: Any) -> Algorithm:
    return BullyNode(node_id, nodes, parse_config(config), rng, durable)


def _check_config(config: Mapping[str, Any]) -> None:
    parse_config(config)


def _ready(statuses: Sequence[Mapping[str, Any]]) -> bool:
    """One coordinator, and every reachable node follows it."""
    leading = [s for s in statuses if s.get("role") == COORDINATOR]
    return len(leading) == 1 and all(s.get("leader") == leading[0]["bully"]["coordinator"] for s in statuses)


SPEC = AlgorithmSpec(
    name="bully",
    summary="Bully election (Garcia-Molina 1982): the highest live id coordinates; ids order priority, n5 > n4 > ... > n1",
    factory=_factory,
    message_types=MESSAGE_TYPES,
    roles={MEMBER: "follow", ELECTING: "campaign", COORDINATOR: "lead"},
    check_config=_check_config,
    min_nodes=2,
    ready=_ready,
    term_name="epoch",
    # Not election safety: an epoch is not a term, and at boot every node claims epoch 1 at once
    # (Bully as written; the claims settle as higher ids answer), so it would fail every run.
    default_checks={"one_coordinator": True},
    term_field="epoch",
    status_columns=(
        StatusColumn("prio", "bully.priority"),
        StatusColumn("elections", "bully.elections_started", label="elect"),
    ),
    panel="chaoslab.algorithms.bully.adapters.panel:bully_panel",
    sim=SimHooks(invariants=bully_invariants, converged=bully_converged),
)

"""Byzantine agreement as chaoslab sees it: the one place the rest of the lab learns about it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chaoslab.algorithms.byzantine.config import check_config, resolve_config
from chaoslab.algorithms.byzantine.core import COMMANDER, LIEUTENANT, ByzantineNode
from chaoslab.algorithms.byzantine.messages import MESSAGE_TYPES
from chaoslab.algorithms.spec import AlgorithmSpec, SimHooks, StatusColumn


def _ready(statuses: Sequence[Mapping[str, Any]]) -> bool:
    # Nobody leads until an operator gives an order: a cluster that answers is ready.
    return bool(statuses)


SPEC = AlgorithmSpec(
    name="byzantine",
    summary="Byzantine generals: OM(m) oral messages or SM(m) Ed25519-signed messages, with traitors",
    factory=ByzantineNode,
    message_types=MESSAGE_TYPES,
    roles={LIEUTENANT: "follow", COMMANDER: "lead"},
    check_config=check_config,
    resolve_config=resolve_config,
    min_nodes=3,
    ready=_ready,
    status_columns=(
        StatusColumn("traitor", "byzantine.strategy", label="lies"),
        StatusColumn("decision", "byzantine.decision", label="decided"),
        StatusColumn("sent", "byzantine.sent", optional=True),
    ),
    panel="chaoslab.algorithms.byzantine.adapters.panel:byzantine_panel",
    cli="chaoslab.algorithms.byzantine.adapters.cli:app",
    term_name="agreement",
    workloads=("orders",),
    default_checks={"agreement": True},
    term_field="round",
    sim=SimHooks(converged=lambda sim: True),
)

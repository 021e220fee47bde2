"""The Two Generals' spec: all chaoslab needs to run it as a real cluster and in the simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.spec import AlgorithmSpec, SimHooks, StatusColumn

from .core import DEFAULTS, MESSAGE_TYPES, General

if TYPE_CHECKING:
    import random


#: the least value of each key: whole numbers for counts, times above 0
_LEAST = {"messengers": (1, "1 or more"), "confirmations": (0, "0 or more")}


def _check_config(config: Mapping[str, Any]) -> None:
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(sorted(unknown))} (known: {', '.join(DEFAULTS)})")
    for key, value in config.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"{key} must be a number, got {value!r}")
        if key in _LEAST:
            least, words = _LEAST[key]
            if value != int(value) or value < least:
                raise ValueError(f"{key} must be a whole number, {words}, got {value!r}")
        elif not value > 0:
            raise ValueError(f"{key} must be above 0, got {value!r}")


def _two_nodes(config: Mapping[str, Any], nodes: list[str], rng: random.Random) -> dict[str, Any]:
    if len(nodes) != 2:
        raise ValueError(f"the Two Generals are exactly two nodes, got {len(nodes)}")
    return dict(config)


class OneDecisionAtTheAttackTime:
    """A general decides once per attempt, and attacks only if the rule says so."""

    def __init__(self) -> None:
        self.decided: set[tuple[str, int]] = set()

    def __call__(self, sim: Any) -> None:
        for event in sim.step_events:
            if event.kind != "decide":
                continue
            key = (event.node, event.data["attempt"])
            assert key not in self.decided, f"{event.node} decided attempt {key[1]} twice"
            self.decided.add(key)
            attacks = event.data["acks"] >= event.data["needs"]
            assert (event.data["decision"] == "attack") == attacks, f"{event.node} broke its rule: {event.data}"


SPEC = AlgorithmSpec(
    name="twogenerals",
    summary="two generals agree on an attack time over a lossy link; certainty never comes (a teaching demo)",
    factory=General,
    message_types=MESSAGE_TYPES,
    roles={"proposer": "lead", "general": "follow"},
    check_config=_check_config,
    resolve_config=_two_nodes,
    min_nodes=2,
    max_nodes=2,
    term_name="attempt",
    term_field="attempt",
    status_columns=(
        StatusColumn("plan", "twogenerals.state"),  # idle, waiting, attacking, holding
        StatusColumn("sent", "twogenerals.messengers"),
        StatusColumn("acks", "twogenerals.acks"),
        StatusColumn("needs", "twogenerals.needs", optional=True),
    ),
    panel="chaoslab.algorithms.twogenerals.adapters.panel:generals_panel",
    cli="chaoslab.algorithms.twogenerals.adapters.cli:app",
    sim=SimHooks(invariants=lambda: [OneDecisionAtTheAttackTime()]),
)

"""Echo's spec: all chaoslab needs to run it as a real cluster and in the simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chaoslab.algorithms.spec import AlgorithmSpec, SimHooks, StatusColumn

from .core import MESSAGE_TYPES, EchoNode


def _check_config(config: Mapping[str, Any]) -> None:
    unknown = set(config) - {"interval_ms", "timeout_ms"}
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(sorted(unknown))}")
    for key, value in config.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{key} must be a positive number, got {value!r}")


class BootsNeverGoBack:
    """A restarted node resumes from its durable boot counter: boots only grow."""

    def __init__(self) -> None:
        self.boots: dict[str, int] = {}

    def __call__(self, sim: Any) -> None:
        for node, persist in sim.step_persists:
            last = self.boots.get(node, 0)
            assert persist["boot"] == last + 1, f"{node} booted as {persist['boot']} after boot {last}"
            self.boots[node] = persist["boot"]


def _agreed(sim: Any) -> bool:
    """Every running node follows the same node, and that node is running."""
    leaders = {s["leader"] for s in sim.statuses().values()}
    return len(leaders) == 1 and leaders.pop() in sim.statuses()


SPEC = AlgorithmSpec(
    name="echo",
    summary="every node pings every peer; all follow the lowest id alive (a plug-in example)",
    factory=EchoNode,
    message_types=MESSAGE_TYPES,
    roles={"member": "follow", "lowest": "lead"},
    check_config=_check_config,
    term_name="boot",
    term_field="boot",
    status_columns=(StatusColumn("pings", "echo.pings"), StatusColumn("alive", "echo.alive")),
    panel="echo.adapters.panel:echo_panel",
    cli="echo.adapters.cli:app",
    sim=SimHooks(invariants=lambda: [BootsNeverGoBack()], converged=_agreed),
)

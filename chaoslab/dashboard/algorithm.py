"""What the dashboard knows about the cluster's algorithm: only what its spec says.

The snapshot names its algorithm; :func:`spec_for` finds that algorithm's
:class:`~chaoslab.algorithms.spec.AlgorithmSpec` (``None`` for one this process
cannot load), and everything algorithm-specific in a frame comes from it: which
roles lead (:func:`leaders`), the extra node columns, and the algorithm's own
panel (:func:`algorithm_panel`). No module of the dashboard names an algorithm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from chaoslab.algorithms.registry import get_algorithm, load_ref
from chaoslab.algorithms.spec import AlgorithmSpec

from .snapshot import node_status, nodes, num, text
from .style import BAD
from .widgets import framed

__all__ = ["algorithm_panel", "lead_role", "leaders", "leads", "spec_for"]

Snapshot = Mapping[str, Any]


@lru_cache(maxsize=32)
def _spec_named(name: str) -> AlgorithmSpec | None:
    try:
        return get_algorithm(name)
    except (KeyError, ImportError, ValueError, AttributeError):
        return None


def spec_for(snapshot: Snapshot | None) -> AlgorithmSpec | None:
    """The spec of the snapshot's ``algorithm``; None when it names none or one we cannot load."""
    name = text(snapshot, "algorithm")
    return _spec_named(name) if name else None


def leads(spec: AlgorithmSpec | None, role: str) -> bool:
    """Does ``role`` lead, says the spec (never, without one)?"""
    return spec is not None and spec.leads(role)


def lead_role(spec: AlgorithmSpec | None) -> str:
    """The name of the spec's first leading role (``leader``, ``coordinator``): how the frame names a leader."""
    if spec is not None:
        for role, kind in spec.roles.items():
            if kind == "lead":
                return role
    return "leader"


def leaders(snapshot: Snapshot, spec: AlgorithmSpec | None) -> list[tuple[int, str]]:
    """(term, id) of every node whose role leads, highest term first."""
    found = []
    for node in nodes(snapshot):
        status = node_status(node)
        if status is not None and leads(spec, text(status, "role")):
            found.append((num(status, "term"), text(node, "id", default="?")))
    return sorted(found, key=lambda x: (-x[0], x[1]))


@lru_cache(maxsize=32)
def _load_panel(ref: str) -> Callable[..., RenderableType] | None:
    try:
        panel = load_ref(ref)
    except (ImportError, AttributeError, ValueError):
        return None
    return panel if callable(panel) else None


def algorithm_panel(snapshot: Snapshot, spec: AlgorithmSpec | None, *, width: int) -> RenderableType | None:
    """The algorithm's own panel (``spec.panel``), or None when it has none or it cannot be loaded.

    A panel that raises is shown as a one-line note, so the rest of the frame still renders.
    """
    if spec is None or not spec.panel:
        return None
    panel = _load_panel(spec.panel)
    if panel is None:
        return None
    try:
        return panel(snapshot, width=width)
    except Exception as exc:  # noqa: BLE001 - a plug-in's bug must not blank the frame
        return framed(Text(f"{spec.panel} failed: {type(exc).__name__}: {exc}", style=BAD), spec.name)

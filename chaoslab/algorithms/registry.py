"""Which algorithms chaoslab can run: the built-in ones, those other packages add, any by reference.

An algorithm is found by name in this order:

1. chaoslab's own (:data:`BUILTIN`);
2. the ``chaoslab.algorithms`` entry-point group, so a package of the user's own adds one
   without editing chaoslab (``[project.entry-points."chaoslab.algorithms"]
   echo = "mypkg.echo:SPEC"`` in its pyproject.toml);
3. a ``"package.module:attribute"`` reference naming an :class:`AlgorithmSpec` directly
   (``chaoslab up mypkg.echo:SPEC``), for code that is importable but not installed.

The spec comes back with ``ref`` set to where it was loaded from; child processes load
that reference, so they run exactly the spec the user chose.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from chaoslab.algorithms.spec import AlgorithmSpec

__all__ = ["ALGORITHMS", "BUILTIN", "DEFAULT_ALGORITHM", "ENTRY_POINT_GROUP", "available", "get_algorithm", "load_ref"]

ENTRY_POINT_GROUP = "chaoslab.algorithms"

#: chaoslab's own algorithms: name -> reference of its spec
BUILTIN: dict[str, str] = {
    "raft": "chaoslab.algorithms.raft.spec:SPEC",
    "bully": "chaoslab.algorithms.bully.spec:SPEC",
    "byzantine": "chaoslab.algorithms.byzantine.spec:SPEC",
    "twogenerals": "chaoslab.algorithms.twogenerals.spec:SPEC",
    "maelstrom": "chaoslab.algorithms.maelstrom.spec:SPEC",
}
ALGORITHMS: tuple[str, ...] = tuple(BUILTIN)
#: what the simulator, the pytest plug-in and examples run when no algorithm is named
DEFAULT_ALGORITHM = "raft"


def load_ref(ref: str) -> Any:
    """The object a ``"package.module:attribute"`` reference names (imported on demand).

    Raises ``ValueError`` for a malformed reference and ``ImportError`` or
    ``AttributeError`` when it names nothing.
    """
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{ref!r} is not a 'package.module:attribute' reference")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _plugins() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN}


def available() -> dict[str, str]:
    """Every algorithm that can be named: name -> reference (built-ins first, then plug-ins)."""
    return {**BUILTIN, **_plugins()}


@cache
def get_algorithm(name: str) -> AlgorithmSpec:
    """The spec for a name or a ``module:attr`` reference; ``KeyError`` saying what is known otherwise."""
    ref = BUILTIN.get(name) or _plugins().get(name)
    if ref is None:
        if ":" not in name:
            raise KeyError(f"unknown algorithm {name!r} (known: {', '.join(available())})")
        ref = name
    try:
        spec = load_ref(ref)
    except (ImportError, AttributeError, ValueError) as exc:
        raise KeyError(f"algorithm {name!r}: cannot load {ref}: {exc}") from None
    if not isinstance(spec, AlgorithmSpec):
        raise KeyError(f"algorithm {name!r}: {ref} is a {type(spec).__name__}, not an AlgorithmSpec")
    if spec.ref == ref:
        return spec
    from dataclasses import replace

    return replace(spec, ref=ref)

"""Maelstrom's spec: a protocol host is one more algorithm, whose node is the user's program."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chaoslab.algorithms.maelstrom.core import MaelstromHost
from chaoslab.algorithms.maelstrom.messages import MESSAGE_TYPES
from chaoslab.algorithms.maelstrom.topology import TOPOLOGIES
from chaoslab.algorithms.spec import AlgorithmSpec, StatusColumn

KEYS = {"bin", "args", "init_timeout_ms", "client_timeout_ms", "workload", "topology"}
#: Maelstrom's workloads we drive (``--workload``; "" says none in particular), each with the
#: kind of scripted-run workload that drives it (lin-kv's clients are the kv workload's)
RUN_KINDS = {"lin-kv": "kv", "echo": "echo", "broadcast": "broadcast", "g-counter": "g-counter"}
WORKLOADS = tuple(RUN_KINDS)


def _check_config(config: Mapping[str, Any]) -> None:
    unknown = set(config) - KEYS
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(KEYS))})")
    if not isinstance(config.get("bin"), str) or not config["bin"]:
        raise ValueError("bin is required: the program to run, e.g. --bin ./my_node.py")
    args = config.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError(f"args must be a list of strings, e.g. --args '[\"--verbose\"]', got {args!r}")
    workload = config.get("workload", "")
    if workload not in ("", *WORKLOADS):
        raise ValueError(f"workload must be one of {', '.join(WORKLOADS)}, got {workload!r}")
    if config.get("topology", "grid") not in TOPOLOGIES:
        raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)}, got {config['topology']!r}")
    for key in ("init_timeout_ms", "client_timeout_ms"):
        value = config.get(key, 1)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{key} must be a positive number, got {value!r}")


def _all_ready(statuses: Sequence[Mapping[str, Any]]) -> bool:
    """Every program answered init (and, for broadcast, topology)."""
    return bool(statuses) and all(s.get("maelstrom", {}).get("ready") for s in statuses)


SPEC = AlgorithmSpec(
    name="maelstrom",
    summary="your own Maelstrom-protocol program as each node (JSON lines on stdin/stdout)",
    factory=MaelstromHost,
    message_types=MESSAGE_TYPES,
    roles={"node": "follow", "starting": "follow"},
    check_config=_check_config,
    ready=_all_ready,
    program="chaoslab.algorithms.maelstrom.adapters.program:ProgramAdapter",
    status_columns=(StatusColumn("errors", "maelstrom.errors"),),
    cli="chaoslab.algorithms.maelstrom.adapters.cli:app",
    panel="chaoslab.algorithms.maelstrom.adapters.panel:maelstrom_panel",
    # kv: a lin-kv program's, through kv_client (read / write / cas client messages); the others
    # are Maelstrom's own workloads (adapters/workloads.py), each with its check
    workloads=tuple(RUN_KINDS.values()),
    kv_client="chaoslab.algorithms.maelstrom.adapters.kvclient:MaelstromKVClient.for_cluster",
    workload_settings={kind: workload for workload, kind in RUN_KINDS.items()},
)

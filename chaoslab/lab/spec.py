"""Cluster definitions: what to run, from ``clusters/*.toml``, ``--set`` overrides and flags.

:func:`build_spec` checks the user's intent and returns a
:class:`~chaoslab.process.spec.ClusterSpec`; the supervisor adds the ports it
bound and writes ``cluster.json``, the one file every child process reads.
"""

from __future__ import annotations

import random
import tomllib
from pathlib import Path
from typing import Any

from chaoslab.algorithms import get_algorithm
from chaoslab.errors import LabError
from chaoslab.net.rules import fault_rule
from chaoslab.process.spec import ClusterSpec, node_ids
from chaoslab.seeds import derive_rng

# ClusterSpec is what build_spec returns, so callers of the lab may take it from here.
__all__ = ["MAX_NODES", "ClusterSpec", "build_spec", "default_definition_path", "load_definition", "parse_override"]

MAX_NODES = 64


def default_definition_path(algorithm: str) -> Path | None:
    """``./clusters/<algo>.toml`` if present, else the one shipped beside the package."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base / "clusters" / f"{algorithm}.toml"
        if candidate.is_file():
            return candidate
    return None


def load_definition(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise LabError(f"cluster definition {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise LabError(f"{path}: {exc}") from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """``raft.heartbeat_ms=30`` -> (["raft", "heartbeat_ms"], 30); values are TOML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise LabError(f"--set takes KEY=VALUE, got {text!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()  # a bare word: take it as a string
    return key.strip().split("."), parsed


def build_spec(
    algorithm: str,
    name: str | None = None,
    nodes: int | None = None,
    seed: int | None = None,
    definition: Path | None = None,
    overrides: list[str] | None = None,
    base_port: int = 0,
) -> ClusterSpec:
    """Validate everything a user can get wrong before a single process starts."""
    try:
        algo = get_algorithm(algorithm)
    except KeyError as exc:
        raise LabError(exc.args[0]) from None
    section = algo.name  # a spec loaded by reference is still configured under its own name
    path = definition or default_definition_path(section)
    doc = load_definition(path) if path is not None else {}
    if doc.get("algorithm", section) != section:
        raise LabError(f"{path} defines a {doc['algorithm']!r} cluster, not {section!r}")
    for text in overrides or []:
        keys, value = parse_override(text)
        append = keys[-1].endswith("+")  # `KEY+=VALUE`: one more item of the list at KEY (up's --arg)
        keys[-1] = keys[-1].removesuffix("+").strip()
        if len(keys) == 1 and keys[0] not in ("nodes", "seed", "faults"):
            keys = [section, *keys]  # `--set heartbeat_ms=30` means the algorithm's key
        target = doc
        for k in keys[:-1]:
            target = target.setdefault(k, {})
            if not isinstance(target, dict):
                raise LabError(f"--set {text}: {k} is not a table")
        if append:
            items = target.get(keys[-1], [])
            if not isinstance(items, list):
                raise LabError(f"--set {text}: {keys[-1]} is not a list (it is {items!r})")
            value = [*items, value]
        target[keys[-1]] = value
    n = nodes if nodes is not None else doc.get("nodes", 5)
    most = min(algo.max_nodes or MAX_NODES, MAX_NODES)
    if not isinstance(n, int) or isinstance(n, bool) or not algo.min_nodes <= n <= most:
        allowed = f"{most}" if algo.min_nodes == most else f"between {algo.min_nodes} and {most}"
        raise LabError(f"--nodes must be {allowed} for {section}, got {n}")
    if base_port and not 1024 <= base_port <= 65535 - 2 * n:
        raise LabError(f"--base-port must leave room for {2 * n} ports between 1024 and 65535")
    faults = _initial_faults(doc.get("faults", []), node_ids(n))
    chosen_seed = seed if seed is not None else int(doc.get("seed", random.randrange(1, 2**31)))
    config = doc.get(section, {})
    try:
        algo.check_config(config)
        if algo.resolve_config is not None:
            # Choices every node must agree on (e.g. which nodes are traitors) are made once,
            # here, from the cluster seed, and written down for all of them.
            config = algo.resolve_config(config, node_ids(n), derive_rng(chosen_seed, "config"))
    except ValueError as exc:
        raise LabError(f"{section} config: {exc}") from None
    cluster_name = section if name is None else name
    if not cluster_name.replace("-", "").replace("_", "").isalnum() or len(cluster_name) > 40:
        raise LabError(f"cluster name {cluster_name!r}: use letters, digits, - and _ (at most 40)")
    return ClusterSpec(
        name=cluster_name,
        algorithm=algorithm,
        nodes=n,
        seed=chosen_seed,
        config=config,
        base_port=base_port,
        faults=faults,
    )


def _initial_faults(faults: Any, ids: list[str]) -> list[str]:
    """A definition's ``faults = ["drop 30%", ...]``: link faults in the CLI's own grammar,
    checked here (syntax, ranges, node ids) so that a bad line stops ``up`` before anything runs."""
    if isinstance(faults, str):
        faults = [faults]
    if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
        raise LabError(f"faults must be a list of faults like [\"drop 30%\"], got {faults!r}")
    for text in faults:
        try:
            rule = fault_rule(text)
        except ValueError as exc:
            raise LabError(f"faults: {exc}") from None
        unknown = [i for i in (*rule.src, *rule.dst) if i not in ids]
        if unknown:
            raise LabError(f"faults: {text!r}: unknown node {unknown[0]!r} (nodes: {', '.join(ids)})")
    return list(faults)

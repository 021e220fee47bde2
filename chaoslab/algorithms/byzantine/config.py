"""Byzantine agreement's config section: check it, and resolve the cluster-wide choices once.

Keys (``clusters/byzantine.toml``, ``--set byzantine.KEY=VALUE``, or ``up byzantine --KEY VALUE``):

- ``protocol``: ``om`` (oral messages, OM(m)) or ``sm`` (signed messages, SM(m));
- ``traitors``: how many traitors (default 1), chosen by the cluster seed unless ``traitor_ids`` names them;
- ``traitor_ids``: ``"n3,n5"`` or a list;
- ``strategy``: every traitor's strategy (``equivocate``, ``flip``, ``silent``, ``random``,
  ``collude``), or per id: ``"n3:flip,n5:silent"`` (``"flip,n5:silent"``: flip but n5), or a
  table ``{n3 = "flip"}``;
- ``m``: the number of traitors the protocol is built to survive (default: ``traitors``);
- ``round_ms``: how long one round of messages may take; a value not in by its round's
  deadline is missing and counts as RETREAT.

:func:`resolve_config` turns that into what every node reads (``traitor_ids`` as a list,
``strategies`` per traitor, ``m``, and SM's ``keys``), made once from the cluster seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random

__all__ = [
    "ATTACK", "RETREAT", "VALUES", "PROTOCOLS", "STRATEGIES", "MAX_MESSAGES", "ByzantineConfig",
    "check_config", "om_messages", "parse_config", "resolve_config",
]

ATTACK = "attack"
RETREAT = "retreat"
VALUES = (ATTACK, RETREAT)
PROTOCOLS = ("om", "sm")
STRATEGIES = ("equivocate", "flip", "silent", "random", "collude")
DEFAULT_STRATEGY = "equivocate"
#: OM(m) sends about n^(m+1) messages; more than this would not finish in reasonable time
#: on a laptop's real processes, so ``up`` refuses it rather than hang.
MAX_MESSAGES = 50_000

_KEYS = {"protocol", "traitors", "traitor_ids", "strategy", "strategies", "m", "round_ms", "keys"}


@dataclass(frozen=True)
class ByzantineConfig:
    """A resolved config section, as every node reads it."""

    protocol: str
    m: int
    traitor_ids: tuple[str, ...]
    strategies: Mapping[str, str]  # traitor id -> strategy
    round_s: float
    keys: Mapping[str, str]  # node id -> Ed25519 private key seed (hex); SM only


def om_messages(n: int, m: int) -> int:
    """Messages one OM(m) agreement sends among ``n`` nodes with nobody silent:
    the commander's n-1, then each path of length k relayed to the n-1-k nodes not on it."""
    total, paths = 0, 1
    for k in range(1, m + 2):
        paths *= n - k  # paths of length k (commander first, distinct lieutenants)
        total += paths
    return total


def _ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(f"traitor_ids must be ids like 'n3,n5', got {value!r}")


def _strategy_table(value: Any) -> tuple[str, dict[str, str]]:
    """``strategy`` as (default, {id: strategy})."""
    default, per_id = DEFAULT_STRATEGY, {}
    if isinstance(value, Mapping):
        items = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, str):
        items = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            node, sep, name = part.partition(":")
            items.append((node.strip(), name.strip()) if sep else ("", node.strip()))
    else:
        raise ValueError(f"strategy must be a name or 'n3:flip,n5:silent', got {value!r}")
    for node, name in items:
        if name not in STRATEGIES:
            raise ValueError(f"unknown strategy {name!r} (known: {', '.join(STRATEGIES)})")
        if node:
            per_id[node] = name
        else:
            default = name
    return default, per_id


def _int(config: Mapping[str, Any], key: str, low: int) -> int | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{key} must be an integer >= {low}, got {value!r}")
    return value


def check_config(config: Mapping[str, Any]) -> None:
    """Keys and types (raw or resolved); what needs the node ids is :func:`resolve_config`'s."""
    unknown = set(config) - _KEYS
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(sorted(unknown))} (known: {', '.join(sorted(_KEYS - {'keys', 'strategies'}))})")
    protocol = config.get("protocol", "om")
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r} (known: om, sm)")
    _int(config, "traitors", 0)
    _int(config, "m", 0)
    if "traitor_ids" in config:
        _ids(config["traitor_ids"])
    if "strategy" in config:
        _strategy_table(config["strategy"])
    if "strategies" in config:
        _strategy_table(dict(config["strategies"]))
    round_ms = config.get("round_ms", 200)
    if not isinstance(round_ms, (int, float)) or isinstance(round_ms, bool) or not 1 <= round_ms <= 60_000:
        raise ValueError(f"round_ms must be a number of milliseconds in [1, 60000], got {round_ms!r}")
    keys = config.get("keys", {})
    if not isinstance(keys, Mapping) or not all(isinstance(v, str) and len(v) == 64 for v in keys.values()):
        raise ValueError("keys must map node ids to 32-byte hex seeds")


def resolve_config(config: Mapping[str, Any], nodes: list[str], rng: random.Random) -> dict[str, Any]:
    """Choose the traitors (by seed unless named), each one's strategy and m, and deal SM's
    keys, once for the whole cluster; refuse what cannot work. Idempotent on its own output."""
    check_config(config)
    n = len(nodes)
    if n < 3:
        raise ValueError(f"needs at least 3 nodes (a commander and two lieutenants), got {n}")
    named = _ids(config["traitor_ids"]) if "traitor_ids" in config else None
    count = _int(config, "traitors", 0)
    if named is not None:
        unknown = [t for t in named if t not in nodes]
        if unknown:
            raise ValueError(f"traitor_ids names unknown node(s) {', '.join(unknown)} (nodes: {', '.join(nodes)})")
        if len(set(named)) != len(named):
            raise ValueError(f"traitor_ids names a node twice: {', '.join(named)}")
        if count is not None and count != len(named):
            raise ValueError(f"--traitors {count} but --traitor-ids names {len(named)}")
        count = len(named)
    count = 1 if count is None else count  # a lab of generals has a traitor unless told otherwise
    if count >= n:
        raise ValueError(f"--traitors must be fewer than the {n} nodes, got {count}")
    traitors = named if named is not None else sorted(rng.sample(nodes, count), key=nodes.index)
    default, per_id = _strategy_table(config.get("strategy", DEFAULT_STRATEGY))
    _, resolved = _strategy_table(dict(config.get("strategies", {})))
    for node in per_id:
        if node not in traitors:
            raise ValueError(f"strategy for {node}, which is not a traitor (traitors: {', '.join(traitors) or 'none'})")
    strategies = {t: per_id.get(t, resolved.get(t, default)) for t in traitors}
    m = _int(config, "m", 0)
    m = count if m is None else m
    protocol = config.get("protocol", "om")
    if m > n - 2:
        raise ValueError(f"m={m} needs at least m+2 = {m + 2} nodes, got {n}")
    if protocol == "om" and om_messages(n, m) > MAX_MESSAGES:
        raise ValueError(
            f"OM({m}) with {n} nodes sends {om_messages(n, m):,} messages per agreement (about n^(m+1)); "
            f"the lab refuses more than {MAX_MESSAGES:,}: use fewer nodes, a smaller m, or --protocol sm"
        )
    resolved_config = {
        "protocol": protocol,
        "traitors": count,
        "traitor_ids": list(traitors),
        "strategies": strategies,
        "m": m,
        "round_ms": config.get("round_ms", 200),
    }
    if protocol == "sm":
        # The trusted dealer, a lab shortcut: every node's private key seed comes from the
        # cluster seed and sits in the config every node reads. Cores sign only with their own.
        keys = dict(config.get("keys", {}))
        resolved_config["keys"] = {node: keys.get(node) or f"{rng.getrandbits(256):064x}" for node in nodes}
    return resolved_config


def parse_config(config: Mapping[str, Any]) -> ByzantineConfig:
    """The resolved section as a typed value (cores are built from this)."""
    check_config(config)
    traitors = tuple(_ids(config.get("traitor_ids", [])))
    default, per_id = _strategy_table(dict(config.get("strategies", {})))
    return ByzantineConfig(
        protocol=config.get("protocol", "om"),
        m=config.get("m", len(traitors)),
        traitor_ids=traitors,
        strategies={t: per_id.get(t, default) for t in traitors},
        round_s=config.get("round_ms", 200) / 1000,
        keys=dict(config.get("keys", {})),
    )

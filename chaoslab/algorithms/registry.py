"""Which algorithms chaoslab can run, and what drivers need to know of each."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Algorithm, LatestState

if TYPE_CHECKING:  # drivers inject a seeded rng; nothing here makes one
    import random


@dataclass(frozen=True)
class AlgorithmSpec:
    name: str
    summary: str
    # (node_id, all node ids in order, config section, seeded rng, durable state or None) -> core
    factory: Callable[[str, list[str], Mapping[str, Any], random.Random, Any], Algorithm]
    # validates a config section (from clusters/<name>.toml plus overrides); raises ValueError
    check_config: Callable[[Mapping[str, Any]], None]
    message_types: tuple[type, ...]
    # given every reachable node's status dict, is the cluster ready for users?
    ready: Callable[[list[dict[str, Any]]], bool]
    # an empty durable model (apply(persist), restore()); see base.LatestState
    durable_model: Callable[[], Any] = LatestState


def _raft() -> AlgorithmSpec:
    from chaoslab.algorithms.raft import RaftNode, parse_config
    from chaoslab.algorithms.raft.durable import RaftDurable
    from chaoslab.algorithms.raft.messages import MESSAGE_TYPES

    def factory(node_id: str, nodes: list[str], config: Mapping[str, Any], rng: random.Random, durable: Any) -> Algorithm:
        return RaftNode(node_id, nodes, parse_config(config), rng, durable)

    def ready(statuses: list[dict[str, Any]]) -> bool:
        return any(s.get("role") == "leader" for s in statuses)

    return AlgorithmSpec(
        name="raft",
        summary="Raft consensus (elections, replicated log, key-value store)",
        factory=factory,
        check_config=lambda c: (parse_config(c), None)[1],
        message_types=MESSAGE_TYPES,
        ready=ready,
        durable_model=RaftDurable,
    )


_LOADERS: dict[str, Callable[[], AlgorithmSpec]] = {"raft": _raft}
ALGORITHMS: tuple[str, ...] = tuple(_LOADERS)


def get_algorithm(name: str) -> AlgorithmSpec:
    """The spec for ``name``; ``KeyError`` with the known names otherwise."""
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise KeyError(f"unknown algorithm {name!r} (known: {', '.join(ALGORITHMS)})") from None
    return loader()

"""Bully's settings: the ``[bully]`` section of a cluster file, checked once.

Every key is optional; errors are one line naming the key (the CLI shows them as they are).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BullyConfig:
    """Validated settings; durations in milliseconds, as written."""

    #: how often the coordinator sends heartbeats
    heartbeat_ms: float = 100.0
    #: a member that hears no heartbeat from its coordinator this long starts an election
    coordinator_timeout_ms: float = 500.0
    #: an ELECTION with no ANSWER from a higher node within this long: the node takes over
    answer_timeout_ms: float = 150.0
    #: an ANSWER not followed by a COORDINATOR within this long restarts the election
    #: (with quorum: a candidate without a majority of votes within this long tries again)
    coordinator_wait_ms: float = 400.0
    #: the opt-in variant: lead only with a majority of votes (see ``core.py``)
    quorum: bool = False

    @property
    def heartbeat(self) -> float:
        return self.heartbeat_ms / 1000.0

    @property
    def coordinator_timeout(self) -> float:
        return self.coordinator_timeout_ms / 1000.0

    @property
    def answer_timeout(self) -> float:
        return self.answer_timeout_ms / 1000.0

    @property
    def coordinator_wait(self) -> float:
        return self.coordinator_wait_ms / 1000.0


_DURATIONS = ("heartbeat_ms", "coordinator_timeout_ms", "answer_timeout_ms", "coordinator_wait_ms")


def parse_config(config: Mapping[str, Any]) -> BullyConfig:
    """A :class:`BullyConfig` from a config section; ``ValueError`` (one line) when it is wrong."""
    unknown = sorted(set(config) - {*_DURATIONS, "quorum"})
    if unknown:
        raise ValueError(f"unknown key(s) bully.{', bully.'.join(unknown)} (known: {', '.join((*_DURATIONS, 'quorum'))})")
    values: dict[str, Any] = {}
    for key in _DURATIONS:
        if key in config:
            value = config[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"bully.{key} must be a positive number of milliseconds, got {value!r}")
            values[key] = float(value)
    if "quorum" in config:
        if not isinstance(config["quorum"], bool):
            raise ValueError(f"bully.quorum must be true or false, got {config['quorum']!r}")
        values["quorum"] = config["quorum"]
    cfg = BullyConfig(**values)
    if cfg.heartbeat_ms >= cfg.coordinator_timeout_ms:
        raise ValueError(
            f"bully.heartbeat_ms ({cfg.heartbeat_ms:g}) must be below bully.coordinator_timeout_ms "
            f"({cfg.coordinator_timeout_ms:g}), or members time out between heartbeats"
        )
    if cfg.coordinator_wait_ms <= cfg.answer_timeout_ms:
        raise ValueError(
            f"bully.coordinator_wait_ms ({cfg.coordinator_wait_ms:g}) must exceed bully.answer_timeout_ms "
            f"({cfg.answer_timeout_ms:g}): the node that answered needs that long to take over"
        )
    return cfg

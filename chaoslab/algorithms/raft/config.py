"""Raft's settings: the ``[raft]`` section of a cluster file, checked once.

Every key is optional; a missing key takes the default below. Errors are one
line naming the key, because the CLI shows them to users as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RaftConfig:
    """Validated Raft settings. Durations are kept in milliseconds, as written."""

    election_timeout_ms: tuple[float, float] = (150.0, 300.0)
    heartbeat_ms: float = 50.0
    # Raft thesis §9.6: ask "would you vote for me?" before bumping the term,
    # so a node that was cut off cannot disrupt a healthy leader on return.
    pre_vote: bool = True
    # Raft thesis §6.2: a leader steps down when it has not heard from a
    # majority within an election timeout, and a server that hears from a
    # leader ignores vote requests for that long (the "leader lease").
    check_quorum: bool = True
    # Replication: one AppendEntries carries at most this many entries / bytes
    # of entry data (a single larger entry still goes alone).
    max_batch_entries: int = 512
    max_batch_bytes: int = 1024 * 1024
    # A follower in step may have this many AppendEntries unacknowledged (pipelining).
    max_inflight: int = 8
    # Snapshot the state machine and compact the log every this many applied entries,
    # or sooner once the log holds this many bytes of entry data (a burst's writes
    # share an entry, so entries alone do not bound the log's memory).
    snapshot_threshold: int = 10_000
    snapshot_threshold_bytes: int = 8 * 1024 * 1024
    # InstallSnapshot sends the snapshot in pieces of this many bytes.
    snapshot_chunk_bytes: int = 256 * 1024
    # Not Raft's: the key-value store's bound on client sessions (least recently used forgotten
    # first, when a client registers a new one). Cluster files set it in [raft], so it is parsed here and the registry
    # hands it to the store; the core never reads it.
    max_sessions: int = 10_000
    # Not Raft's either: the most bytes of key and value one client command may carry (a
    # larger one is refused, surely not applied). Bounded so one command stays well inside
    # the transport's message limit (chaoslab.wire.streams.MAX_MESSAGE_BYTES).
    max_value_bytes: int = 1024 * 1024

    @property
    def election_timeout_min(self) -> float:
        """Seconds."""
        return self.election_timeout_ms[0] / 1000.0

    @property
    def election_timeout_max(self) -> float:
        """Seconds."""
        return self.election_timeout_ms[1] / 1000.0

    @property
    def heartbeat_interval(self) -> float:
        """Seconds."""
        return self.heartbeat_ms / 1000.0


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"raft.{key} must be a number of milliseconds, got {value!r}")
    return float(value)


def _election_timeout(key: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"raft.{key} must be a list of two numbers [min, max] in milliseconds, got {value!r}")
    low, high = (_number(key, v) for v in value)
    if low <= 0:
        raise ValueError(f"raft.{key} minimum must be > 0, got {value!r}")
    if high <= low:
        raise ValueError(f"raft.{key} maximum must be greater than its minimum, got {value!r}")
    return (low, high)


def _heartbeat(key: str, value: Any) -> float:
    ms = _number(key, value)
    if ms <= 0:
        raise ValueError(f"raft.{key} must be > 0, got {value!r}")
    return ms


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"raft.{key} must be true or false, got {value!r}")
    return value


def _count(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"raft.{key} must be a whole number >= 1, got {value!r}")
    return value


MAX_VALUE_BYTES_BOUND = 16 * 1024 * 1024


def _value_bytes(key: str, value: Any) -> int:
    count = _count(key, value)
    if count > MAX_VALUE_BYTES_BOUND:
        raise ValueError(f"raft.{key} must be at most {MAX_VALUE_BYTES_BOUND} (16 MiB), got {value!r}")
    return count


# key -> parser
_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "election_timeout_ms": _election_timeout,
    "heartbeat_ms": _heartbeat,
    "pre_vote": _flag,
    "check_quorum": _flag,
    "max_batch_entries": _count,
    "max_batch_bytes": _count,
    "max_inflight": _count,
    "snapshot_threshold": _count,
    "snapshot_threshold_bytes": _count,
    "snapshot_chunk_bytes": _count,
    "max_sessions": _count,
    "max_value_bytes": _value_bytes,
}


def parse_config(section: Mapping[str, Any]) -> RaftConfig:
    """A :class:`RaftConfig` from a ``[raft]`` section; ``ValueError`` (one line) if invalid."""
    if not isinstance(section, Mapping):
        raise ValueError(f"the raft section must be a table, got {section!r}")
    values: dict[str, Any] = {}
    for key, value in section.items():
        parser = _PARSERS.get(key)
        if parser is None:
            raise ValueError(f"unknown raft setting {key!r} (known: {', '.join(sorted(_PARSERS))})")
        values[key] = parser(key, value)
    config = RaftConfig(**values)
    if config.heartbeat_ms >= config.election_timeout_ms[0]:
        raise ValueError(
            f"raft.heartbeat_ms ({config.heartbeat_ms:g}) must be less than the minimum "
            f"election timeout ({config.election_timeout_ms[0]:g} ms)"
        )
    return config

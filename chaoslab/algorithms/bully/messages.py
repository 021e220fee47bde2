"""The Bully algorithm's messages as plain dataclasses.

Names and fields match ``proto/chaoslab/v1/peer.proto`` one to one (the wire codec maps
them by name). Every message carries the sender's ``epoch``: the highest epoch it has
accepted a coordinator in (or announced itself), so epochs spread with any traffic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class BullyElection:
    """"Is anyone above me alive?", sent to every higher-priority node."""

    epoch: int


@dataclass(slots=True)
class BullyAnswer:
    """"Yes, I am, and I take it from here": the reply to an ELECTION from a lower node."""

    epoch: int


@dataclass(slots=True)
class BullyCoordinator:
    """``coordinator`` announces itself coordinator of ``epoch`` (with quorum: asks for votes)."""

    epoch: int
    coordinator: str


@dataclass(slots=True)
class BullyHeartbeat:
    """The coordinator's "still here", every ``heartbeat_ms``, to every peer."""

    epoch: int


@dataclass(slots=True)
class BullyHeartbeatReply:
    """The answer to a heartbeat or a COORDINATOR: ``ok`` when the sender follows the
    coordinator in ``epoch`` (with quorum, an ``ok`` to a COORDINATOR is a vote);
    otherwise ``epoch`` is the sender's own, so a coordinator behind it learns."""

    epoch: int
    ok: bool


MESSAGE_TYPES = (BullyElection, BullyAnswer, BullyCoordinator, BullyHeartbeat, BullyHeartbeatReply)

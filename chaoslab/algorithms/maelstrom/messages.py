"""What a Maelstrom host sends: to peers, and to and from its own program (never on the wire)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class MaelstromMessage:
    """A protocol message between programs: its ``body``; ``src`` and ``dest`` are the envelope's."""

    body: dict[str, Any]


@dataclass(slots=True)
class ToProgram:
    """A line for the program's stdin (the core addresses it to its own node id)."""

    line: str


@dataclass(slots=True)
class FromProgram:
    """A line the program wrote to stdout, or its exit (``exited``: its code; ``line`` empty)."""

    line: str
    exited: int | None = None


MESSAGE_TYPES: tuple[type, ...] = (MaelstromMessage,)

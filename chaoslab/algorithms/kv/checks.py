"""End-of-run checks of the key-value store for the simulator (pure, no I/O).

Whatever log replicated the store hands over the data of the entries it
applied, by index; the store says whether every write a client saw succeed
is in the entry committed at its index, with its effect in the final state
unless a later write to its key overwrote it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.kv.commands import KVOp
from chaoslab.algorithms.kv.encoding import decode_commands

if TYPE_CHECKING:  # type hints only: the simulator calls this, it never imports the simulator
    from chaoslab.algorithms.kv.store import KVStore


def check_acknowledged_writes(entries: Mapping[int, bytes], store: KVStore, applied_index: int, workload: Any) -> None:
    """``entries``: the data of every command entry applied, by log index; ``store`` a replica's
    final state, which applied up to ``applied_index``; ``workload.acked`` the writes clients saw
    succeed (``.command``, ``.index``). ``AssertionError`` if one was lost."""
    acked: Iterable[Any] = workload.acked
    commands: dict[int, list[Any]] = {}  # a leader may put a burst of writes in one entry
    for index, data in entries.items():
        commands[index] = decode_commands(data)
    writes: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}  # key -> [((index, position), (session, seq))]
    for index in sorted(commands):
        for position, command in enumerate(commands[index]):
            if command.op not in (KVOp.GET, KVOp.REGISTER):
                writes.setdefault(command.key, []).append(((index, position), (command.session, command.seq)))
    final = store.data
    for ack in acked:
        c = ack.command
        assert ack.index <= applied_index, f"acknowledged write at index {ack.index} was never applied: {c}"
        got = commands.get(ack.index, [])
        ident = (c.session, c.seq, c.op, c.key, c.value)
        position = next((i for i, g in enumerate(got) if (g.session, g.seq, g.op, g.key, g.value) == ident), None)
        assert position is not None, f"acknowledged write {c} is not in the entry committed at index {ack.index} ({got})"
        if _overwritten(writes[c.key], (ack.index, position), (c.session, c.seq)):
            continue
        value = final.get(c.key)
        if c.op in (KVOp.PUT, KVOp.CAS):
            assert value == c.value, f"acknowledged {c} (index {ack.index}) lost: {c.key} is {value!r}"
        elif c.op == KVOp.APPEND:
            assert value is not None and value.endswith(c.value), (
                f"acknowledged {c} (index {ack.index}) lost: {c.key} is {value!r}"
            )
        elif c.op == KVOp.DELETE:
            assert value is None, f"acknowledged {c} (index {ack.index}) lost: {c.key} is {value!r}"


def _overwritten(writes: list[tuple[tuple[int, int], tuple[int, int]]], at: tuple[int, int], ident: tuple[int, int]) -> bool:
    """Did a write other than ``ident`` (its retries excepted) land after ``at`` (index, position in the entry)?"""
    for later, who in reversed(writes):
        if later <= at:
            return False
        if who != ident:
            return True
    return False

"""Raft's state machine: a key-value map with client sessions (pure, no I/O).

Every replica applies the same committed commands in the same order, so
everything here must be a deterministic function of that sequence: the map,
the sessions and which sessions get evicted. Snapshots carry all of it.

Client sessions (Raft thesis §6.3) make retries safe: a write carries
``(client_id, seq)``; the state machine remembers, per client, the last seq it
applied and that command's result. A command with the same seq is answered
from that memory without being applied again; an older seq is refused
("stale sequence"); ``client_id == ""`` opts out. Sessions are bounded: past
``max_sessions`` clients, the one whose last command was applied earliest is
forgotten. The log index decides, not a clock, so all replicas evict alike.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from chaoslab.algorithms.raft.commands import OPS, KVCode, KVCommand, KVOp, KVResult

DEFAULT_MAX_SESSIONS = 10_000

# Every replica runs apply for every write; an enum attribute lookup costs ten times a global's.
_PUT, _APPEND, _DELETE, _CAS = KVOp.PUT, KVOp.APPEND, KVOp.DELETE, KVOp.CAS
_OK, _NOT_FOUND, _CAS_MISMATCH = KVCode.OK, KVCode.NOT_FOUND, KVCode.CAS_MISMATCH


# --------------------------------------------------------------------------- commands as log data


# Binary, not JSON: every replica decodes every command it applies, so this sits on the
# write path of the whole cluster (JSON cost ~8 µs each way, this ~1 and ~2.5). The
# leading format byte tells one command from a batch of them.
_ONE, _BATCH = 1, 2
_HEAD = struct.Struct("<BBBQIIIH")  # format, op, expect_absent, seq, then the lengths of key, value, expected, client_id
_COUNT = struct.Struct("<BI")  # format, number of commands that follow (each encoded as one)
_BATCH_TAG = bytes((_BATCH,))


def encode_command(c: KVCommand) -> bytes:
    """A compact, stable encoding of a command for a log entry's ``data``."""
    key, value, expected, client = c.key.encode(), c.value.encode(), c.expected.encode(), c.client_id.encode()
    head = _HEAD.pack(_ONE, c.op, c.expect_absent, c.seq, len(key), len(value), len(expected), len(client))
    return b"".join((head, key, value, expected, client))


def encode_commands(commands: list[KVCommand]) -> bytes:
    """Several commands for one log entry, applied in this order (one command: :func:`encode_command`)."""
    if len(commands) == 1:
        return encode_command(commands[0])
    return b"".join([_COUNT.pack(_BATCH, len(commands)), *map(encode_command, commands)])


def _decode_at(data: bytes, at: int) -> tuple[KVCommand, int]:
    """The command encoded at ``data[at:]`` and where it ends."""
    fmt, op, absent, seq, key_len, value_len, expected_len, client_len = _HEAD.unpack_from(data, at)
    at += _HEAD.size
    end = at + key_len + value_len + expected_len + client_len
    if fmt != _ONE or absent > 1 or end > len(data):
        raise ValueError("bad header")
    key = data[at : at + key_len].decode()
    at += key_len
    value = data[at : at + value_len].decode()
    at += value_len
    expected = data[at : at + expected_len].decode()
    return KVCommand(OPS[op], key, value, expected, bool(absent), data[at + expected_len : end].decode(), seq), end


def decode_command(data: bytes) -> KVCommand:
    """The inverse of :func:`encode_command`; ``ValueError`` on anything else."""
    try:
        command, end = _decode_at(data, 0)
        if end != len(data):
            raise ValueError("trailing bytes")
        return command
    except (struct.error, KeyError, ValueError) as e:
        raise ValueError(f"not a key-value command: {data[:60]!r}") from e


def decode_commands(data: bytes) -> list[KVCommand]:
    """The commands of a log entry, from :func:`encode_commands` or :func:`encode_command`."""
    if data[:1] != _BATCH_TAG:
        return [decode_command(data)]
    try:
        _, count = _COUNT.unpack_from(data)
        at = _COUNT.size
        commands = []
        for _ in range(count):
            command, at = _decode_at(data, at)
            commands.append(command)
        if at != len(data) or not commands:
            raise ValueError("bad batch")
        return commands
    except (struct.error, KeyError, ValueError) as e:
        raise ValueError(f"not a batch of key-value commands: {data[:60]!r}") from e


def _short(value: str, width: int = 16) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def describe_entry(data: bytes) -> str:
    """:func:`describe` for a log entry's data: its first command, and how many more it holds."""
    commands = decode_commands(data)
    return describe(commands[0]) + (f" (+{len(commands) - 1})" if len(commands) > 1 else "")


def describe(c: KVCommand) -> str:
    """A short rendering for status and dashboards: ``put k1=7``, ``cas k1 3→4``, ``del k1``."""
    key = _short(c.key)
    if c.op == KVOp.PUT:
        return f"put {key}={_short(c.value)}"
    if c.op == KVOp.CAS:
        old = "∅" if c.expect_absent else _short(c.expected)
        return f"cas {key} {old}→{_short(c.value)}"
    if c.op == KVOp.APPEND:
        return f"append {key}+={_short(c.value)}"
    if c.op == KVOp.DELETE:
        return f"del {key}"
    return f"get {key}"


# --------------------------------------------------------------------------- the state machine


@dataclass(slots=True)
class Session:
    """One client's memory: its last applied seq, that command's result, and when (log index)."""

    seq: int
    result: KVResult
    index: int


class KVStore:
    """The replicated map plus client sessions. ``apply`` is the only way it changes."""

    __slots__ = ("data", "max_sessions", "sessions")

    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be >= 1, got {max_sessions}")
        self.data: dict[str, str] = {}
        # Ordered by the index of each client's last applied command, oldest first:
        # a touched session moves to the end, so eviction pops from the front.
        self.sessions: dict[str, Session] = {}
        self.max_sessions = max_sessions

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KVStore):
            return NotImplemented
        return self.data == other.data and list(self.sessions.items()) == list(other.sessions.items())

    def get(self, key: str) -> KVResult:
        """A read of the current state (the caller decides when that is linearizable)."""
        value = self.data.get(key)
        if value is None:
            return KVResult(KVCode.NOT_FOUND)
        return KVResult(KVCode.OK, value=value)

    def apply(self, index: int, c: KVCommand) -> KVResult:
        """Apply the write committed at ``index``; its result carries ``index``."""
        session = self.sessions.get(c.client_id) if c.client_id else None
        if session is not None:
            if c.seq == session.seq:
                return _copy(session.result)  # a retry: answered, not applied again
            if c.seq < session.seq:
                return KVResult(KVCode.BAD_REQUEST, index=index, error=f"stale sequence {c.seq} < {session.seq}")
        result = self._execute(c)
        result.index = index
        if c.client_id:
            # Results are not changed once returned, so the session shares this one.
            self.sessions.pop(c.client_id, None)
            self.sessions[c.client_id] = Session(c.seq, result, index)
            while len(self.sessions) > self.max_sessions:
                del self.sessions[next(iter(self.sessions))]
        return result

    def _execute(self, c: KVCommand) -> KVResult:
        data = self.data
        current = data.get(c.key)
        op = c.op
        if op == _PUT:
            data[c.key] = c.value
            return KVResult(_OK)
        if op == _APPEND:
            data[c.key] = (current or "") + c.value
            return KVResult(_OK)
        if op == _DELETE:
            if current is None:
                return KVResult(_NOT_FOUND)
            del data[c.key]
            return KVResult(_OK)
        if op == _CAS:
            if c.expect_absent:
                if current is not None:
                    return KVResult(_CAS_MISMATCH, value=current)
            elif current is None:
                return KVResult(_NOT_FOUND)
            elif current != c.expected:
                return KVResult(_CAS_MISMATCH, value=current)
            data[c.key] = c.value
            return KVResult(_OK)
        # A GET is never logged (reads use ReadIndex); one that got in anyway changes nothing.
        return self.get(c.key)

    # ------------------------------------------------------------------ snapshots

    def encode(self) -> bytes:
        """The whole state as bytes: equal states give equal bytes (keys sorted, sessions in LRU order)."""
        body = {
            "kv": dict(sorted(self.data.items())),
            "sessions": [
                [client, s.seq, s.index, int(s.result.code), s.result.value, s.result.index, s.result.error]
                for client, s in self.sessions.items()
            ],
        }
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def decode(cls, data: bytes, max_sessions: int = DEFAULT_MAX_SESSIONS) -> KVStore:
        """A store from :meth:`encode`'s bytes; ``ValueError`` if they are not that."""
        store = cls(max_sessions)
        try:
            body = json.loads(data)
            store.data = {str(k): str(v) for k, v in body["kv"].items()}
            for client, seq, index, code, value, rindex, error in body["sessions"]:
                result = KVResult(KVCode(code), value=value, index=rindex, error=error)
                store.sessions[client] = Session(seq, result, index)
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"not a key-value snapshot: {data[:60]!r}") from e
        while len(store.sessions) > store.max_sessions:
            del store.sessions[next(iter(store.sessions))]
        return store


def _copy(r: KVResult) -> KVResult:
    return KVResult(r.code, value=r.value, leader_hint=r.leader_hint, index=r.index, error=r.error)

"""The key-value state machine: a map with client sessions (pure, no I/O).

:class:`KVStore` is a :class:`~chaoslab.algorithms.statemachine.StateMachine`:
any log-based core (Raft) can replicate it. Every replica applies the same committed commands in the same order, so
everything here must be a deterministic function of that sequence: the map,
the sessions, which ids they get and which get evicted. Snapshots carry all of it.

Client sessions (Raft thesis §6.3) make retries safe. A client first
*registers* (a ``REGISTER`` command, through the log like a write); the store
gives the new session the next id, 1, 2, 3, ..., counted by the log, so every
replica gives the same one. Every write of the client then carries
``(session, seq)``; the store remembers, per session, the last seq it applied
and that command's result. A command with the same seq is answered from that
memory without being applied again; an older seq is refused ("stale
sequence", BAD_REQUEST).

Sessions are bounded: past ``max_sessions``, registering evicts the session
whose last command was applied earliest (the log index decides, not a clock, so
all replicas evict alike). Because ids are allocated by the log, the store
knows which it has given: a write naming an id at or below the last one
allocated that is no longer in the table belongs to an *expired* session. It is
refused ``SESSION_EXPIRED`` and never applied, since the store no longer knows
whether an earlier try of it was; the client reports that write's outcome as
unknown and registers a new session. (The thesis numbers sessions by the index
of their register entry; here an entry can hold a burst of commands, several
registrations among them, so the count of registrations applied is the id, with
the same rule.) An id above the last one allocated was never given: refused
BAD_REQUEST. A retried or duplicated registration opens another session that
nobody uses; it ages out like any other.

Writes with no session (``session == 0``) are applied each time they are
committed, with no promise about retries. Clients used to name their sessions
themselves with arbitrary ``client_id`` strings; a store that accepted those
could not tell an expired session from a new one (a forgotten client's retry
was applied twice), so a ``client_id`` is now only a label that replies echo,
and the store does not read it. Treating a session-less write without dedup,
rather than refusing it, keeps the one cheap, honest opt-out (a load generator
that never retries needs no session) and makes no promise it cannot keep;
every client of ours that retries (``KVClient``, the simulator's workload)
registers first. Logs and snapshots written before sessions were registered
hold client strings: this store does not apply them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from chaoslab.algorithms.kv.commands import OPS, KVCode, KVCommand, KVOp, KVResult
from chaoslab.algorithms.kv.encoding import decode_commands, describe_entry, encode_commands
from chaoslab.algorithms.statemachine import Refusal

DEFAULT_MAX_SESSIONS = 10_000
#: The most bytes (UTF-8) of key, value and expected value one command may carry: a larger one
#: is refused at once (BAD_REQUEST, so surely not applied). ``raft.max_value_bytes`` sets it.
DEFAULT_MAX_VALUE_BYTES = 1024 * 1024

# Every replica runs apply for every write; an enum attribute lookup costs ten times a global's.
_PUT, _APPEND, _DELETE, _CAS = KVOp.PUT, KVOp.APPEND, KVOp.DELETE, KVOp.CAS
_OK, _NOT_FOUND, _CAS_MISMATCH = KVCode.OK, KVCode.NOT_FOUND, KVCode.CAS_MISMATCH
_GET, _REGISTER = KVOp.GET, KVOp.REGISTER
_REFUSAL_CODES = {
    Refusal.NOT_LEADER: KVCode.NOT_LEADER,
    Refusal.OUTCOME_UNKNOWN: KVCode.UNAVAILABLE,
    Refusal.READ_ABANDONED: KVCode.NOT_LEADER,
}


# --------------------------------------------------------------------------- the state machine


@dataclass(slots=True)
class Session:
    """One session's memory: its last applied seq, that command's result (``None`` before its
    first write), and when (log index) it was last used."""

    seq: int
    result: KVResult | None
    index: int


class KVStore:
    """The replicated map plus client sessions. Applying commands (and restoring a snapshot) is
    the only way it changes. Commands are :class:`KVCommand` or anything with its fields (the
    runtime passes a ``KVRequest`` as is); results are :class:`KVResult`."""

    __slots__ = ("data", "last_session", "max_sessions", "max_value_bytes", "sessions")

    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS, max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be >= 1, got {max_sessions}")
        self.max_value_bytes = max_value_bytes
        self.data: dict[str, str] = {}
        # By id, ordered by the index of each session's last applied command, oldest first:
        # a touched session moves to the end, so eviction pops from the front.
        self.sessions: dict[int, Session] = {}
        self.last_session = 0  # the last id allocated: ids up to it not in `sessions` expired
        self.max_sessions = max_sessions

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KVStore):
            return NotImplemented
        return (self.data == other.data and self.last_session == other.last_session
                and list(self.sessions.items()) == list(other.sessions.items()))

    def get(self, key: str) -> KVResult:
        """A read of the current state (the caller decides when that is linearizable)."""
        value = self.data.get(key)
        if value is None:
            return KVResult(KVCode.NOT_FOUND)
        return KVResult(KVCode.OK, value=value)

    # ------------------------------------------------------------------ the StateMachine protocol

    def split(
        self, requests: Iterable[tuple[int, KVCommand]]
    ) -> tuple[list[tuple[int, KVCommand]], list[int], list[KVCommand], list[tuple[int, KVResult]]]:
        """Reads (GET), writes, and commands with an unknown op (refused BAD_REQUEST)."""
        reads: list[tuple[int, KVCommand]] = []
        ids: list[int] = []
        writes: list[KVCommand] = []
        rejected: list[tuple[int, KVResult]] = []
        limit = self.max_value_bytes
        for request_id, command in requests:
            op = OPS.get(command.op)
            if op is None:
                rejected.append((request_id, KVResult(KVCode.BAD_REQUEST, error=f"unknown operation {command.op!r}")))
            elif (len(command.key) + len(command.value) + len(command.expected)) * 4 > limit and (
                    size := _size(command)) > limit:  # 4 bytes a character at most: most commands skip the count
                rejected.append((request_id, KVResult(KVCode.BAD_REQUEST, error=(
                    f"{size} bytes of key and value is above the limit of {limit} (raft.max_value_bytes)"))))
            elif op == _GET:
                reads.append((request_id, command))
            else:
                ids.append(request_id)
                writes.append(command)
        return reads, ids, writes, rejected

    def encode(self, commands: list[KVCommand]) -> bytes:
        return encode_commands(commands)

    def apply(self, index: int, data: bytes) -> None:
        try:
            commands = decode_commands(data)
        except ValueError:
            return  # not a command: applies as nothing, alike on every replica
        apply = self.apply_command
        for command in commands:
            apply(index, command)

    def apply_own(self, index: int, commands: list[KVCommand]) -> list[KVResult]:
        apply = self.apply_command
        return [apply(index, command) for command in commands]

    def query(self, index: int, command: KVCommand) -> KVResult:
        """A GET served at read index ``index``; the result carries it (one call per read: get inlined)."""
        value = self.data.get(command.key)
        if value is None:
            return KVResult(_NOT_FOUND, index=index)
        return KVResult(_OK, value=value, index=index)

    def refuse(self, reason: Refusal, leader_hint: str) -> KVResult:
        return KVResult(_REFUSAL_CODES[reason], leader_hint=leader_hint, error=reason.value)

    def restore(self, data: bytes) -> None:  # the limit is configuration, not state: it stays
        other = KVStore.decode(data, self.max_sessions)
        self.data, self.sessions, self.last_session = other.data, other.sessions, other.last_session

    def describe(self, data: bytes) -> str:
        return describe_entry(data)

    # ------------------------------------------------------------------ one command

    def apply_command(self, index: int, c: KVCommand) -> KVResult:
        """Apply the write committed at ``index``; its result carries ``index``."""
        if c.op == _REGISTER:
            return self._register(index)
        sid = c.session
        if sid:
            session = self.sessions.get(sid)
            if session is None:
                return self._no_session(index, sid)
            if c.seq <= session.seq:
                if c.seq == session.seq and session.result is not None:
                    return _copy(session.result)  # a retry: answered, not applied again
                return KVResult(KVCode.BAD_REQUEST, index=index, error=f"stale sequence {c.seq}: the session's last is {session.seq}")
        result = self._execute(c)
        result.index = index
        if sid:
            # Results are not changed once returned, so the session shares this one.
            session.seq, session.result, session.index = c.seq, result, index
            sessions = self.sessions
            del sessions[sid]
            sessions[sid] = session  # now the most recently used
        return result

    def _register(self, index: int) -> KVResult:
        """Open a session with the next id; the least recently used goes past ``max_sessions``."""
        self.last_session = sid = self.last_session + 1
        sessions = self.sessions
        sessions[sid] = Session(0, None, index)
        while len(sessions) > self.max_sessions:
            del sessions[next(iter(sessions))]
        return KVResult(_OK, index=index, session=sid)

    def _no_session(self, index: int, sid: int) -> KVResult:
        """A write naming a session not in the table: expired if its id was ever allocated."""
        if sid <= self.last_session:
            return KVResult(KVCode.SESSION_EXPIRED, index=index,
                            error=f"session {sid} expired: this try was not applied; register a new session")
        return KVResult(KVCode.BAD_REQUEST, index=index, error=f"session {sid} was never registered")

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

    def snapshot(self) -> bytes:
        """The whole state as bytes: equal states give equal bytes (keys sorted, sessions in LRU order)."""
        body = {
            "kv": dict(sorted(self.data.items())),
            "last_session": self.last_session,
            "sessions": [
                [sid, s.seq, s.index] + ([] if (r := s.result) is None else [int(r.code), r.value, r.index, r.error])
                for sid, s in self.sessions.items()
            ],
        }
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def decode(cls, data: bytes, max_sessions: int = DEFAULT_MAX_SESSIONS) -> KVStore:
        """A store from :meth:`snapshot`'s bytes; ``ValueError`` if they are not that."""
        store = cls(max_sessions)
        try:
            body = json.loads(data)
            store.data = {str(k): str(v) for k, v in body["kv"].items()}
            store.last_session = last = body["last_session"]
            for sid, seq, index, *rest in body["sessions"]:
                if not (type(sid) is int and 0 < sid <= last):
                    raise ValueError(f"session id {sid!r} was not allocated")
                result = None
                if rest:
                    code, value, rindex, error = rest
                    result = KVResult(KVCode(code), value=value, index=rindex, error=error)
                store.sessions[sid] = Session(seq, result, index)
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"not a key-value snapshot: {data[:60]!r}") from e
        while len(store.sessions) > store.max_sessions:
            del store.sessions[next(iter(store.sessions))]
        return store


def _copy(r: KVResult) -> KVResult:
    return KVResult(r.code, value=r.value, leader_hint=r.leader_hint, index=r.index, error=r.error)


def _size(command: KVCommand) -> int:
    """The UTF-8 bytes of a command's key, value and expected value."""
    return sum(len(text.encode("utf-8", "surrogatepass")) for text in (command.key, command.value, command.expected))

"""The key-value state machine (chaoslab.algorithms.kv) on its own: semantics, sessions, snapshots,
the log encoding, and the StateMachine protocol as a core drives it."""

from __future__ import annotations

import pytest

from chaoslab.algorithms.kv import (
    OPS,
    KVCode,
    KVCommand,
    KVOp,
    KVResult,
    KVStore,
    Session,
    decode_command,
    decode_commands,
    describe,
    describe_entry,
    encode_command,
    encode_commands,
)
from chaoslab.algorithms.statemachine import Refusal
from chaoslab.v1 import kv_pb2


REGISTER = KVCommand(KVOp.REGISTER, "")


def put(key: str, value: str, session: int = 0, seq: int = 0) -> KVCommand:
    return KVCommand(KVOp.PUT, key, value, session=session, seq=seq)


def cas(key: str, expected: str, value: str, *, absent: bool = False, session: int = 0, seq: int = 0) -> KVCommand:
    return KVCommand(KVOp.CAS, key, value, expected=expected, expect_absent=absent, session=session, seq=seq)


def register(store: KVStore, index: int) -> int:
    """Register a session at log index ``index``; its id."""
    result = store.apply_command(index, REGISTER)
    assert result.code == KVCode.OK and result.index == index
    return result.session


def run(store: KVStore, *commands: KVCommand, start: int = 1) -> list[KVResult]:
    """Apply ``commands`` at consecutive log indexes."""
    return [store.apply_command(start + i, c) for i, c in enumerate(commands)]


class TestSemantics:
    def test_get_of_missing_key_is_not_found(self) -> None:
        """GET of a key never written answers NOT_FOUND."""
        assert KVStore().get("k").code == KVCode.NOT_FOUND

    def test_put_then_get(self) -> None:
        """PUT sets the value; the result carries the log index it was applied at."""
        store = KVStore()
        assert run(store, put("k", "1"), put("k", "2")) == [KVResult(KVCode.OK, index=1), KVResult(KVCode.OK, index=2)]
        assert store.get("k") == KVResult(KVCode.OK, value="2")

    def test_append_to_missing_key_starts_from_empty(self) -> None:
        """APPEND concatenates; a missing key counts as ""."""
        store = KVStore()
        run(store, KVCommand(KVOp.APPEND, "k", "a"), KVCommand(KVOp.APPEND, "k", "b"))
        assert store.get("k").value == "ab"

    def test_delete(self) -> None:
        """DELETE removes a key; deleting a missing key is NOT_FOUND."""
        store = KVStore()
        results = run(store, put("k", "1"), KVCommand(KVOp.DELETE, "k"), KVCommand(KVOp.DELETE, "k"))
        assert [r.code for r in results] == [KVCode.OK, KVCode.OK, KVCode.NOT_FOUND]
        assert store.get("k").code == KVCode.NOT_FOUND

    def test_cas_succeeds_only_on_the_expected_value(self) -> None:
        """CAS writes when the current value equals expected; otherwise CAS_MISMATCH with the current value."""
        store = KVStore()
        run(store, put("k", "1"))
        assert store.apply_command(2, cas("k", "0", "2")) == KVResult(KVCode.CAS_MISMATCH, value="1", index=2)
        assert store.apply_command(3, cas("k", "1", "2")).code == KVCode.OK
        assert store.get("k").value == "2"

    def test_cas_of_missing_key_is_not_found(self) -> None:
        """CAS against a missing key (without expect_absent) is NOT_FOUND."""
        assert KVStore().apply_command(1, cas("k", "1", "2")).code == KVCode.NOT_FOUND

    def test_cas_expect_absent(self) -> None:
        """CAS with expect_absent creates the key only if it does not exist."""
        store = KVStore()
        assert store.apply_command(1, cas("k", "", "1", absent=True)).code == KVCode.OK
        assert store.apply_command(2, cas("k", "", "2", absent=True)) == KVResult(KVCode.CAS_MISMATCH, value="1", index=2)
        assert store.get("k").value == "1"


class TestSessions:
    def test_register_allocates_ids_in_log_order(self) -> None:
        """Thesis §6.3: a client registers through the log; ids count the registrations applied, so
        every replica gives the same one. A fresh session has no write yet."""
        store = KVStore()
        assert [register(store, i) for i in (3, 4, 9)] == [1, 2, 3]
        assert store.last_session == 3 and list(store.sessions) == [1, 2, 3]
        assert store.sessions[1] == Session(0, None, 3)

    def test_retry_returns_the_cached_result_without_applying_again(self) -> None:
        """A command with the session's last seq is answered from the session, not re-applied."""
        store = KVStore()
        sid = register(store, 1)
        first = store.apply_command(2, KVCommand(KVOp.APPEND, "k", "x", session=sid, seq=1))
        again = store.apply_command(3, KVCommand(KVOp.APPEND, "k", "x", session=sid, seq=1))
        assert again == first == KVResult(KVCode.OK, index=2)
        assert store.get("k").value == "x"

    def test_cached_result_includes_failures(self) -> None:
        """A retried CAS that failed the first time gets the same failure, even if it would now succeed."""
        store = KVStore()
        sid = register(store, 1)
        first = store.apply_command(2, cas("k", "0", "1", session=sid, seq=1))
        store.apply_command(3, put("k", "0"))
        assert store.apply_command(4, cas("k", "0", "1", session=sid, seq=1)) == first
        assert store.get("k").value == "0"

    def test_older_seq_is_refused(self) -> None:
        """A seq below the session's last is stale: BAD_REQUEST, nothing applied. So is seq 0, the
        registration's own (a fresh session has no result to answer it with)."""
        store = KVStore()
        sid = register(store, 1)
        assert store.apply_command(2, put("k", "0", sid, 0)).code == KVCode.BAD_REQUEST
        run(store, put("k", "1", sid, 5), start=3)
        result = store.apply_command(4, put("k", "2", sid, 4))
        assert result.code == KVCode.BAD_REQUEST and "stale sequence" in result.error
        assert store.get("k").value == "1"

    def test_newer_seq_applies(self) -> None:
        """Any seq above the last applies (seqs may skip: reads use them too)."""
        store = KVStore()
        sid = register(store, 1)
        run(store, put("k", "1", sid, 1), put("k", "2", sid, 7), start=2)
        assert store.get("k").value == "2" and store.sessions[sid] == Session(7, KVResult(KVCode.OK, index=3), 3)

    def test_no_session_means_no_dedup(self) -> None:
        """session 0 opts out: the same command applies every time, and no session is made."""
        store = KVStore()
        run(store, *[KVCommand(KVOp.APPEND, "k", "x", seq=1)] * 3)
        assert store.get("k").value == "xxx" and store.sessions == {}

    def test_least_recently_used_session_is_evicted_by_a_registration(self) -> None:
        """Past max_sessions, registering forgets the session whose last command was applied earliest."""
        store = KVStore(max_sessions=2)
        a, b = register(store, 1), register(store, 2)
        run(store, put("k", "a", a, 1), start=3)
        c = register(store, 4)
        assert b not in store.sessions  # b's last use (index 2) was the oldest
        assert list(store.sessions) == [a, c]

    def test_a_write_of_an_expired_session_is_refused_and_not_applied(self) -> None:
        """The bug this replaced: an evicted client retried a write it had applied, and it applied
        again. Now the store knows the id was allocated and is gone: SESSION_EXPIRED, every try,
        nothing applied; the client's write in a new session applies."""
        store = KVStore(max_sessions=1)
        old = register(store, 1)
        assert store.apply_command(2, KVCommand(KVOp.APPEND, "k", "x", session=old, seq=1)).code == KVCode.OK
        register(store, 3)  # another client: `old` is evicted
        for index in (4, 5):  # the first client's retry of the write whose reply it lost
            result = store.apply_command(index, KVCommand(KVOp.APPEND, "k", "x", session=old, seq=1))
            assert result.code == KVCode.SESSION_EXPIRED and "expired" in result.error
        assert store.get("k").value == "x" and old not in store.sessions
        new = register(store, 6)
        assert store.apply_command(7, KVCommand(KVOp.APPEND, "k", "y", session=new, seq=2)).code == KVCode.OK
        assert store.get("k").value == "xy"

    def test_a_session_never_registered_is_a_bad_request(self) -> None:
        """An id above the last allocated was never given out: BAD_REQUEST, not applied."""
        store = KVStore()
        sid = register(store, 1)
        result = store.apply_command(2, put("k", "1", sid + 1, 1))
        assert result.code == KVCode.BAD_REQUEST and "never registered" in result.error
        assert store.data == {}

    def test_a_retried_registration_opens_another_session(self) -> None:
        """A registration is not deduplicated: a retry (or a duplicate in the network) opens a second
        session that nobody uses, and it ages out like any other."""
        store = KVStore(max_sessions=2)
        first, retry = register(store, 1), register(store, 2)
        assert (first, retry) == (1, 2)
        run(store, put("k", "1", retry, 1), start=3)
        register(store, 4)
        assert first not in store.sessions and retry in store.sessions

    def test_registrations_sharing_an_entry_get_distinct_ids_on_every_replica(self) -> None:
        """A leader may put several registrations in one entry: each gets its own id, the same on a
        follower decoding the entry as on the leader applying its own commands."""
        leader, follower = KVStore(), KVStore()
        entry = [REGISTER, put("a", "1"), REGISTER, REGISTER]
        results = leader.apply_own(5, entry)
        follower.apply(5, encode_commands(entry))
        assert [r.session for r in results] == [1, 0, 2, 3] and {r.index for r in results} == {5}
        assert leader == follower and leader.snapshot() == follower.snapshot()

    def test_eviction_depends_only_on_the_commands(self) -> None:
        """Two replicas applying the same commands keep the same sessions, in the same order."""
        commands: list[KVCommand] = []
        for i in range(1, 60):
            commands.append(REGISTER if i % 5 == 0 else put("k", str(i), 1 + i % 7, i))
        a, b = KVStore(max_sessions=4), KVStore(max_sessions=4)
        for i in range(7):
            register(a, i + 1)
            register(b, i + 1)
        run(a, *commands, start=8)
        b.apply(8, encode_commands(commands))  # a follower may see them as one entry: same sessions
        assert list(a.sessions) == list(b.sessions) and a.last_session == b.last_session == 18
        assert a.data == b.data

    def test_max_sessions_must_be_positive(self) -> None:
        """A store needs room for at least one session."""
        with pytest.raises(ValueError):
            KVStore(max_sessions=0)


class TestSnapshots:
    def test_round_trip(self) -> None:
        """decode(snapshot()) gives back the same map, sessions (a fresh one too) and allocation
        count, in the same eviction order."""
        store = KVStore(max_sessions=3)
        x, y, z = (register(store, i) for i in (1, 2, 3))
        run(store, put("a", "1", x, 1), put("b", "ü", z, 1), cas("a", "0", "2", session=z, seq=3), start=4)
        copy = KVStore.decode(store.snapshot(), max_sessions=3)
        assert copy == store and list(copy.sessions) == [y, x, z] and copy.sessions[y].result is None
        # the restored sessions still deduplicate
        assert copy.apply_command(7, cas("a", "0", "2", session=z, seq=3)) == KVResult(KVCode.CAS_MISMATCH, "1", index=6)

    def test_the_allocation_rule_survives_a_snapshot(self) -> None:
        """A store restored from a snapshot knows which ids were given: an evicted one is expired,
        one above is unknown, and the next registration continues the count."""
        store = KVStore(max_sessions=1)
        gone = register(store, 1)
        live = register(store, 2)
        copy = KVStore.decode(store.snapshot(), max_sessions=1)
        assert copy.apply_command(3, put("k", "1", gone, 1)).code == KVCode.SESSION_EXPIRED
        assert copy.apply_command(4, put("k", "1", live + 1, 1)).code == KVCode.BAD_REQUEST
        assert copy.data == {} and register(copy, 5) == live + 1

    def test_equal_states_encode_equal_bytes(self) -> None:
        """The encoding does not depend on the order keys were first written."""
        a, b = KVStore(), KVStore()
        run(a, put("x", "1"), put("y", "2"))
        run(b, put("y", "2"), put("x", "1"))
        assert a.snapshot() == b.snapshot()

    def test_garbage_is_refused(self) -> None:
        """Bytes that are not a snapshot raise ValueError (a follower then waits for a clean resend):
        among them one without the allocation count, or with a session id it never allocated."""
        for data in (b"\x00not json", b'{"kv": {}}', b'{"kv": {}, "sessions": []}',
                     b'{"kv": {}, "last_session": 1, "sessions": [[2, 0, 1]]}',
                     b'{"kv": {}, "last_session": 1, "sessions": [["c", 0, 1]]}'):
            with pytest.raises(ValueError):
                KVStore.decode(data)


class TestCommandEncoding:
    @pytest.mark.parametrize(
        "command",
        [
            put("k1", "7"),
            put("k", "v", 2**64 - 1, 42),
            cas("k", "old", "new"),
            cas("k", "", "new", absent=True, session=3, seq=1),
            KVCommand(KVOp.APPEND, "k", "ü→"),
            KVCommand(KVOp.DELETE, "k", session=1, seq=9),
            REGISTER,
        ],
    )
    def test_round_trip(self, command: KVCommand) -> None:
        """decode_command(encode_command(c)) == c for every kind of write."""
        assert decode_command(encode_command(command)) == command

    def test_encoding_is_compact(self) -> None:
        """A fixed 31-byte header, then the strings' UTF-8 bytes and nothing else."""
        assert len(encode_command(put("k1", "7"))) == 31 + 3
        assert len(encode_command(KVCommand(KVOp.APPEND, "k", "ü→", session=7, seq=2**63))) == 31 + 1 + 5

    def test_batches_round_trip_and_one_command_stays_plain(self) -> None:
        """encode_commands keeps order; a single command is encoded exactly as encode_command does, so
        decode_commands reads both forms."""
        batch = [put("a", "1", 1, 1), cas("a", "1", "2"), KVCommand(KVOp.DELETE, "b", session=2, seq=3)]
        assert decode_commands(encode_commands(batch)) == batch
        assert encode_commands(batch[:1]) == encode_command(batch[0])
        assert decode_commands(encode_command(batch[0])) == batch[:1]
        assert describe_entry(encode_commands(batch)) == "put a=1 (+2)"

    def test_garbage_batches_are_refused(self) -> None:
        """A batch that is cut short, has trailing bytes or claims no commands raises ValueError."""
        good = encode_commands([put("a", "1"), put("b", "2")])
        for data in (good[:-1], good + b"x", good[:5], bytes([4, 0, 0, 0, 0]), bytes([4, 3, 0, 0, 0]) + good[5:]):
            with pytest.raises(ValueError):
                decode_commands(data)

    def test_garbage_is_refused(self) -> None:
        """Entry data that is not a command raises ValueError; so does the format from before
        registered sessions (1), whose commands named their clients by strings."""
        good = encode_command(put("k", "v", 1, 42))
        bad_op = bytes([good[0], 99]) + good[2:]
        old = bytes([1, 2, 0]) + (42).to_bytes(8, "little") + bytes([1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]) + b"kvc"
        for data in (b"", b"[]", b'{"op": "put", "k": "x"}', good[:-1], good + b"x", bad_op, b"\x04" + good[1:], old):
            with pytest.raises(ValueError):
                decode_command(data)

    @pytest.mark.parametrize(
        ("command", "text"),
        [
            (put("k1", "7"), "put k1=7"),
            (cas("k1", "3", "4"), "cas k1 3→4"),
            (cas("k1", "", "4", absent=True), "cas k1 ∅→4"),
            (KVCommand(KVOp.APPEND, "k1", "x"), "append k1+=x"),
            (KVCommand(KVOp.DELETE, "k1"), "del k1"),
            (REGISTER, "register"),
            (put("k", "x" * 40), "put k=xxxxxxxxxxxxxxx…"),
        ],
    )
    def test_describe(self, command: KVCommand, text: str) -> None:
        """Short renderings for status and the dashboard's log view."""
        assert describe(command) == text


class TestProtoNumbers:
    def test_ops_match_kv_proto(self) -> None:
        """KVOp copies kv.proto's KVOp numbers by hand: every op has the proto's number, and the proto
        has no op (besides UNSPECIFIED) that KVOp lacks."""
        proto = {name.removeprefix("KV_OP_"): number for name, number in kv_pb2.KVOp.items()}
        assert proto.pop("UNSPECIFIED") == 0
        assert {op.name: int(op) for op in KVOp} == proto
        assert set(OPS) == set(proto.values())

    def test_codes_match_kv_proto(self) -> None:
        """KVCode copies kv.proto's KVCode numbers by hand: the two enums are the same names and numbers."""
        proto = {name.removeprefix("KV_CODE_"): number for name, number in kv_pb2.KVCode.items()}
        assert {code.name: int(code) for code in KVCode} == proto


def replica_pair() -> tuple[KVStore, KVStore]:
    """Two replicas that applied the same history: one from encoded entries, one as the leader does."""
    history = [
        [REGISTER, REGISTER, REGISTER],  # sessions 1, 2, 3
        [put("a", "1", 1, 1), put("b", "2", 2, 1)],
        [cas("a", "1", "3", session=1, seq=2), KVCommand(KVOp.DELETE, "b", session=2, seq=2)],
        [KVCommand(KVOp.APPEND, "a", "+", session=3, seq=1)],
    ]
    follower, leader = KVStore(), KVStore()
    for index, commands in enumerate(history, start=1):
        follower.apply(index, encode_commands(commands))
        leader.apply_own(index, commands)
    return follower, leader


class TestAsStateMachine:
    def test_split_sorts_reads_writes_and_unknown_ops_in_order(self) -> None:
        """GETs are reads, other known ops writes (ids and commands side by side), unknown ops refused
        BAD_REQUEST; each group keeps the burst's order."""
        g1, p1, g2, p2 = KVCommand(KVOp.GET, "a"), put("a", "1"), KVCommand(KVOp.GET, "b"), put("b", "2")
        odd = KVCommand(99, "x")  # type: ignore[arg-type]
        reads, ids, writes, rejected = KVStore().split([(1, g1), (2, p1), (3, odd), (4, g2), (5, p2)])
        assert reads == [(1, g1), (4, g2)]
        assert (ids, writes) == ([2, 5], [p1, p2])
        assert rejected == [(3, KVResult(KVCode.BAD_REQUEST, error="unknown operation 99"))]

    def test_split_takes_a_plain_int_op(self) -> None:
        """The runtime passes KVRequests as they are: an int op is sorted like its KVOp."""
        request = kv_pb2.KVRequest(op=kv_pb2.KV_OP_PUT, key="k", value="v")
        assert KVStore().split([(1, request)])[1:3] == ([1], [request])

    def test_apply_own_matches_apply_of_the_encoded_entry(self) -> None:
        """The leader applying its own commands and a follower decoding the entry end in the same state,
        and the leader gets one result per command, carrying the entry's index."""
        follower, leader = replica_pair()
        assert follower == leader and follower.snapshot() == leader.snapshot()
        assert leader.data == {"a": "3+"}
        assert leader.apply_own(5, [put("x", "1"), cas("x", "0", "2")]) == [
            KVResult(KVCode.OK, index=5),
            KVResult(KVCode.CAS_MISMATCH, value="1", index=5),
        ]

    def test_apply_of_garbage_applies_nothing(self) -> None:
        """Entry data that is not commands changes nothing and raises nothing (alike on every replica)."""
        follower, leader = replica_pair()
        follower.apply(5, b"\x00garbage")
        assert follower == leader

    def test_a_retried_write_in_a_later_entry_is_not_applied_again(self) -> None:
        """Exactly once across entries: the same (session, seq) proposed twice applies once, and the
        retry gets the first result (with the first index)."""
        store = KVStore()
        sid = register(store, 1)
        first = store.apply_own(2, [KVCommand(KVOp.APPEND, "k", "x", session=sid, seq=1)])
        store.apply(3, encode_commands([KVCommand(KVOp.APPEND, "k", "x", session=sid, seq=1)]))
        again = store.apply_own(4, [KVCommand(KVOp.APPEND, "k", "x", session=sid, seq=1)])
        assert store.data == {"k": "x"} and again == first == [KVResult(KVCode.OK, index=2)]

    def test_query_reads_at_the_read_index(self) -> None:
        """A read after ReadIndex sees the applied state; its result carries the read index."""
        _, store = replica_pair()
        assert store.query(9, KVCommand(KVOp.GET, "a")) == KVResult(KVCode.OK, value="3+", index=9)
        assert store.query(9, KVCommand(KVOp.GET, "b")) == KVResult(KVCode.NOT_FOUND, index=9)

    def test_refusals_map_to_codes(self) -> None:
        """Not the leader and an abandoned read are NOT_LEADER; a write whose leader was lost is
        UNAVAILABLE (outcome unknown); each with the hint and the refusal's text."""
        store = KVStore()
        not_leader = KVResult(KVCode.NOT_LEADER, leader_hint="n2", error="not the leader")
        assert store.refuse(Refusal.NOT_LEADER, "n2") == not_leader
        assert store.refuse(Refusal.READ_ABANDONED, "") == KVResult(KVCode.NOT_LEADER, error="leadership lost")
        assert store.refuse(Refusal.OUTCOME_UNKNOWN, "n3") == KVResult(
            KVCode.UNAVAILABLE, leader_hint="n3", error="leadership lost; outcome unknown"
        )

    def test_snapshot_restore_round_trip_keeps_sessions(self) -> None:
        """restore(snapshot()) on a fresh store gives an equal store, whose sessions still answer retries."""
        _, store = replica_pair()
        copy = KVStore()
        copy.restore(store.snapshot())
        assert copy == store and copy.data == {"a": "3+"}
        retry = KVCommand(KVOp.APPEND, "a", "+", session=3, seq=1)
        assert copy.apply_own(9, [retry]) == [KVResult(KVCode.OK, index=4)] and copy.data == {"a": "3+"}

    def test_restore_of_garbage_leaves_the_state_alone(self) -> None:
        """restore raises ValueError on bytes that are not a snapshot, and the store is unchanged."""
        follower, leader = replica_pair()
        for data in (b"", b"\x00not json", b'{"kv": {}}'):
            with pytest.raises(ValueError):
                follower.restore(data)
        assert follower == leader

    def test_describe_renders_an_entry(self) -> None:
        """describe is the entry's first command and how many more it holds."""
        assert KVStore().describe(encode_commands([put("a", "1"), put("b", "2")])) == "put a=1 (+1)"


class TestValueSizeLimit:
    def test_a_command_above_the_limit_is_refused_at_once(self) -> None:
        """A write whose key and value pass max_value_bytes is refused BAD_REQUEST (surely not
        applied), naming the limit and the setting; the rest of the burst goes on."""
        big, small = put("k", "x" * 101), put("k", "x" * 99)
        reads, ids, writes, rejected = KVStore(max_value_bytes=101).split([(1, big), (2, small)])
        assert (ids, writes) == ([2], [small])
        assert rejected == [(1, KVResult(KVCode.BAD_REQUEST, error="102 bytes of key and value is above the limit "
                                                                    "of 101 (raft.max_value_bytes)"))]

    def test_bytes_not_characters_are_counted(self) -> None:
        """The limit is in UTF-8 bytes: 30 three-byte characters are 90 bytes."""
        store = KVStore(max_value_bytes=100)
        assert store.split([(1, put("k", "€" * 33))])[3] == []
        assert store.split([(1, put("k", "€" * 34))])[3][0][1].code == KVCode.BAD_REQUEST

    def test_reads_with_huge_keys_are_refused_too(self) -> None:
        """A GET's key counts against the limit as well."""
        assert KVStore(max_value_bytes=10).split([(1, KVCommand(KVOp.GET, "k" * 11))])[3][0][1].code == KVCode.BAD_REQUEST

    def test_the_setting_is_checked_and_bounded(self) -> None:
        """raft.max_value_bytes is a count of at most 16 MiB, and reaches the store."""
        from chaoslab.algorithms.raft.config import parse_config

        assert parse_config({"max_value_bytes": 2048}).max_value_bytes == 2048
        with pytest.raises(ValueError, match="at most 16777216"):
            parse_config({"max_value_bytes": 64 * 1024 * 1024})
        with pytest.raises(ValueError, match="whole number"):
            parse_config({"max_value_bytes": 0})

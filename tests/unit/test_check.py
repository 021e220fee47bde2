"""The linearizability checker: classic histories with known verdicts, generated ones, large ones.

Hand-made histories are written as compact lines (``p0 invoke write 1``) so that
each test reads like the timeline it checks. Generated histories come from a
reference store (linearizable by construction); the planted bug (a stale read)
must be caught every time.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from chaoslab.check import INVALID, UNKNOWN, VALID, Model, check_history
from chaoslab.check.checker import load
from chaoslab.check.generate import KV_MIX, generate, stale_read
from chaoslab.check.models import ILLEGAL, CASRegister, get_model
from chaoslab.check.search import linearize


def H(text: str, key: str | None = None) -> list[dict[str, Any]]:
    """``p0 invoke write 1`` / ``p0 ok read 1`` / ``p1 invoke cas 1,2`` -> history records."""
    records = []
    for line in text.strip().splitlines():
        process, kind, f, *rest = line.split()
        value: Any = None
        if rest:
            raw = rest[0]
            value = [None if v == "nil" else int(v) for v in raw.split(",")] if "," in raw else (
                None if raw == "nil" else int(raw))
        rec: dict[str, Any] = {"process": int(process[1:]), "type": kind, "f": f, "value": value}
        if key is not None:
            rec["key"] = key
        records.append(rec)
    return records


def verdict(text: str, model: str = "cas-register") -> str:
    return check_history(H(text), model).verdict


class TestClassicHistories:
    def test_sequential_write_then_read(self) -> None:
        """A read after a completed write sees it: valid."""
        assert verdict("""
            p0 invoke write 1
            p0 ok write 1
            p1 invoke read
            p1 ok read 1
        """) == VALID

    def test_stale_read_after_completed_write(self) -> None:
        """A read that begins after write 2 completed cannot return the 1 it replaced."""
        result = check_history(H("""
            p0 invoke write 1
            p0 ok write 1
            p0 invoke write 2
            p0 ok write 2
            p1 invoke read
            p1 ok read 1
        """), "cas-register")
        assert result.verdict == INVALID
        assert result.exit_code == 1
        assert result.failure is not None
        assert (result.failure.culprit.f, result.failure.culprit.output) == ("read", 1)
        # the window: the write that replaced 1, and the read; not the first write
        assert [(op.f, op.value if op.f == "write" else op.output) for op in result.failure.window] == [
            ("write", 2), ("read", 1)]

    def test_read_of_a_value_never_written(self) -> None:
        """Nobody wrote 7, so no read may return it."""
        assert verdict("""
            p0 invoke write 1
            p1 invoke read
            p0 ok write 1
            p1 ok read 7
        """) == INVALID

    def test_read_of_initial_nil(self) -> None:
        """Before any write the register holds nil."""
        assert verdict("""
            p1 invoke read
            p1 ok read nil
            p0 invoke write 1
            p0 ok write 1
        """) == VALID

    def test_concurrent_writes_allow_either_order(self) -> None:
        """Two overlapping writes: readers after both may see either, as long as they agree."""
        base = """
            p0 invoke write 1
            p1 invoke write 2
            p0 ok write 1
            p1 ok write 2
        """
        assert verdict(base + "p2 invoke read\np2 ok read 1\np2 invoke read\np2 ok read 1") == VALID
        assert verdict(base + "p2 invoke read\np2 ok read 2\np2 invoke read\np2 ok read 2") == VALID
        # ...but not one then the other: no write came after them to change it back
        assert verdict(base + "p2 invoke read\np2 ok read 1\np2 invoke read\np2 ok read 2") == INVALID
        assert verdict(base + "p2 invoke read\np2 ok read 2\np2 invoke read\np2 ok read 1") == INVALID

    def test_read_concurrent_with_write_sees_old_or_new(self) -> None:
        """A read overlapping a write may return the value before or after it."""
        for seen in ("1", "2"):
            assert verdict(f"""
                p0 invoke write 1
                p0 ok write 1
                p0 invoke write 2
                p1 invoke read
                p1 ok read {seen}
                p0 ok write 2
            """) == VALID

    def test_info_write_that_happened(self) -> None:
        """An unknown write may have taken effect: a later read of its value is fine."""
        assert verdict("""
            p0 invoke write 1
            p0 ok write 1
            p1 invoke write 2
            p1 info write 2
            p2 invoke read
            p2 ok read 2
        """) == VALID

    def test_info_write_that_did_not_happen(self) -> None:
        """An unknown write may never have taken effect: reads of the old value stay fine."""
        assert verdict("""
            p0 invoke write 1
            p0 ok write 1
            p1 invoke write 2
            p1 info write 2
            p2 invoke read
            p2 ok read 1
        """) == VALID

    def test_info_write_takes_effect_once(self) -> None:
        """Seen, then unseen, then seen again: one write cannot take effect twice."""
        assert verdict("""
            p0 invoke write 1
            p0 ok write 1
            p1 invoke write 2
            p1 info write 2
            p2 invoke read
            p2 ok read 2
            p0 invoke write 3
            p0 ok write 3
            p2 invoke read
            p2 ok read 2
        """) == INVALID

    def test_info_write_cannot_act_before_its_invoke(self) -> None:
        """An unknown write may take effect late, never before it was invoked."""
        assert verdict("""
            p2 invoke read
            p2 ok read 2
            p1 invoke write 2
            p1 info write 2
        """) == INVALID

    def test_pending_invoke_at_the_end_is_unknown(self) -> None:
        """An invoke that never completes (a crashed client) may or may not have happened."""
        assert verdict("""
            p1 invoke write 2
            p2 invoke read
            p2 ok read 2
        """) == VALID

    def test_failed_write_never_happened(self) -> None:
        """A fail means no effect: reading its value is a violation."""
        assert verdict("""
            p0 invoke write 1
            p0 ok write 1
            p1 invoke write 2
            p1 fail write 2
            p2 invoke read
            p2 ok read 2
        """) == INVALID

    def test_cas_works_in_only_one_order(self) -> None:
        """Two concurrent cas 0->1 and 1->2 both succeed only if 0->1 went first."""
        base = """
            p0 invoke write 0
            p0 ok write 0
            p1 invoke cas 1,2
            p2 invoke cas 0,1
            p1 ok cas 1,2
            p2 ok cas 0,1
            p0 invoke read
        """
        assert verdict(base + "p0 ok read 2") == VALID
        assert verdict(base + "p0 ok read 1") == INVALID

    def test_cas_that_cannot_succeed(self) -> None:
        """A cas from a value the register never held cannot succeed."""
        assert verdict("""
            p0 invoke write 0
            p0 ok write 0
            p1 invoke cas 5,6
            p1 ok cas 5,6
        """) == INVALID

    def test_unknown_cas_may_have_done_nothing(self) -> None:
        """An unknown cas whose expected value was not there simply did nothing."""
        assert verdict("""
            p0 invoke write 0
            p0 ok write 0
            p1 invoke cas 5,6
            p1 info cas 5,6
            p2 invoke read
            p2 ok read 0
        """) == VALID


class TestKVModel:
    def test_keys_are_checked_independently(self) -> None:
        """Each key is its own register: a violation on k2 is found and named, k1 is fine."""
        records = H("p0 invoke put 1\np0 ok put 1\np1 invoke get\np1 ok get 1", key="k1")
        records += H("p0 invoke put 5\np0 ok put 5\np0 invoke put 6\np0 ok put 6\np1 invoke get\np1 ok get 5", key="k2")
        result = check_history(records, "kv")
        assert result.verdict == INVALID
        assert result.failure is not None and result.failure.key == "k2"

    def test_append_delete_and_absent_cas(self) -> None:
        """append concatenates (missing counts as empty), delete makes it absent, cas [nil x] needs absent."""
        records = [
            {"process": 0, "type": "invoke", "f": "append", "key": "a", "value": "x;"},
            {"process": 0, "type": "ok", "f": "append", "key": "a", "value": "x;"},
            {"process": 0, "type": "invoke", "f": "append", "key": "a", "value": "y;"},
            {"process": 0, "type": "ok", "f": "append", "key": "a", "value": "y;"},
            {"process": 1, "type": "invoke", "f": "get", "key": "a", "value": None},
            {"process": 1, "type": "ok", "f": "get", "key": "a", "value": "x;y;"},
            {"process": 1, "type": "invoke", "f": "delete", "key": "a", "value": None},
            {"process": 1, "type": "ok", "f": "delete", "key": "a", "value": None},
            {"process": 1, "type": "invoke", "f": "cas", "key": "a", "value": [None, "z"]},
            {"process": 1, "type": "ok", "f": "cas", "key": "a", "value": [None, "z"]},
            {"process": 0, "type": "invoke", "f": "get", "key": "a", "value": None},
            {"process": 0, "type": "ok", "f": "get", "key": "a", "value": "z"},
        ]
        assert check_history(records, "kv").verdict == VALID
        records[5]["value"] = "y;x;"
        assert check_history(records, "kv").verdict == INVALID

    def test_empty_string_reads_as_absent(self) -> None:
        """Porcupine-style histories read a missing key as ""; appends then build on it."""
        records = [
            {"process": 0, "type": "invoke", "f": "get", "key": "1", "value": None},
            {"process": 0, "type": "ok", "f": "get", "key": "1", "value": ""},
            {"process": 0, "type": "invoke", "f": "append", "key": "1", "value": "x 0 0 y"},
            {"process": 0, "type": "ok", "f": "append", "key": "1", "value": "x 0 0 y"},
            {"process": 1, "type": "invoke", "f": "get", "key": "1", "value": None},
            {"process": 1, "type": "ok", "f": "get", "key": "1", "value": "x 0 0 y"},
        ]
        assert check_history(records, "kv").verdict == VALID
        records[5]["value"] = ""
        assert check_history(records, "kv").verdict == INVALID

    def test_a_model_of_your_own(self) -> None:
        """A user model (init, step) plugs in: a counter that only goes up."""

        class Up(Model):
            name = "up"
            fs = frozenset({"inc", "read"})

            def init(self) -> int:
                return 0

            def step(self, state: Any, op: Any) -> tuple[bool, Any]:
                if op.f == "inc":
                    return True, state + 1
                return op.unknown or op.output == state, state

        ok = H("p0 invoke inc\np0 ok inc\np1 invoke inc\np1 ok inc\np0 invoke read\np0 ok read 2")
        assert check_history(ok, Up()).verdict == VALID
        ok[-1]["value"] = 3
        assert check_history(ok, Up()).verdict == INVALID

    def test_transitions_agree_with_step(self) -> None:
        """The fast closures of the built-in models say what their plain step says."""
        ops, _ = load(H("p0 invoke write 1\np0 ok write 1\np1 invoke read\np1 ok read 1\n"
                        "p1 invoke cas 1,2\np1 ok cas 1,2\np2 invoke cas 3,4\np2 info cas 3,4"))
        model = get_model("cas-register")
        for op in ops:
            for state in (None, 1, 2, 3):
                ok, new = model.step(state, op)
                assert model.transition(op)(state) == (new if ok else ILLEGAL)


class TestGenerated:
    @pytest.mark.parametrize("seed", range(8))
    def test_reference_histories_are_valid(self, seed: int) -> None:
        """Histories from the reference store (some outcomes unknown) always check valid."""
        keys = 1 if seed % 2 else 5
        gen = generate(400, clients=6, keys=keys, info=0.1 * (seed % 3), seed=seed)
        result = check_history(gen.records, "cas-register" if keys == 1 else "kv", timeout=60)
        assert result.verdict == VALID, result.failure

    @pytest.mark.parametrize("seed", range(8))
    def test_a_stale_read_is_caught(self, seed: int) -> None:
        """The planted bug: one read returns an overwritten value; the checker names that read."""
        keys = 1 if seed % 2 else 5
        gen = generate(400, clients=6, keys=keys, info=0.05 * (seed % 3), seed=seed)
        records, index = stale_read(gen, seed)
        result = check_history(records, "cas-register" if keys == 1 else "kv", timeout=60)
        assert result.verdict == INVALID
        assert result.failure is not None
        # the smallest failing prefix ends at the planted read (a stale read cannot be explained later)
        assert result.failure.culprit.ret_line == index + 1

    def test_large_history(self) -> None:
        """100,000 operations, 10 clients, 1,000 keys: checked (valid) well within the test timeout."""
        gen = generate(100_000, clients=10, keys=1000, info=0.02, mix=KV_MIX, seed=11)
        start = time.monotonic()
        result = check_history(gen.records, "kv", timeout=100)
        assert result.verdict == VALID
        assert len(result.operations) == 100_000
        assert len(result.partitions) == 1000
        assert time.monotonic() - start < 100

    def test_large_history_with_a_stale_read(self) -> None:
        """The same size with one stale read: invalid, and the read is found."""
        gen = generate(100_000, clients=10, keys=1000, mix=KV_MIX, seed=12)
        records, index = stale_read(gen, 3)
        result = check_history(records, "kv", timeout=100)
        assert result.verdict == INVALID
        assert result.failure is not None and result.failure.culprit.ret_line == index + 1

    def test_timeout_gives_unknown(self) -> None:
        """A search that cannot finish in time says unknown (exit 2), not valid or invalid."""
        gen = generate(1700, clients=50, keys=1, seed=1)  # ~45 in flight on one register: exponential
        result = check_history(gen.records, "cas-register", timeout=0.5)
        assert result.verdict == UNKNOWN
        assert result.exit_code == 2


class TestSearch:
    def test_unobservable_writes_rule_changes_no_verdict(self) -> None:
        """Placing unread writes only with the next blind write (or when due) decides as the plain search does.

        Small random histories, write-heavy ones among them, half of them with reads
        answered wrongly, checked with and without the rule (``Model.hidden``).
        """

        class Plain(CASRegister):
            def hidden(self, ops: Any) -> set[int]:
                return set()

        verdicts = []
        for seed in range(300):
            rng = random.Random(seed)
            mix = rng.choice([{"read": 1, "write": 9}, {"read": 5, "write": 5}, {"read": 5, "write": 3, "cas": 2}])
            gen = generate(rng.randint(10, 50), clients=rng.randint(2, 6), keys=1, info=rng.choice([0, 0.2]),
                           mix=mix, seed=seed)
            records = [dict(r) for r in gen.records]
            if rng.random() < 0.5:
                written = [r["value"] for r in records if r["f"] == "write"] + [None]
                reads = [i for i, r in enumerate(records) if r["type"] == "ok" and r["f"] == "read"]
                if reads:
                    records[rng.choice(reads)]["value"] = rng.choice(written)
            fast = check_history(records, "cas-register").verdict
            assert fast == check_history(records, Plain()).verdict, seed
            verdicts.append(fast)
        assert {VALID, INVALID} <= set(verdicts)

    def test_unobservable_writes_make_write_heavy_registers_cheap(self) -> None:
        """18 clients writing one register, rarely read: a few thousand steps, where the plain search needs millions."""
        gen = generate(1000, clients=18, keys=1, mix={"read": 1, "write": 9}, seed=1)
        result = check_history(gen.records, "cas-register", timeout=60)
        assert result.verdict == VALID
        assert result.partitions[0].steps < 20_000

    def test_linearization_respects_real_time(self) -> None:
        """The order found is legal for the model and never puts an op before one that completed before it began."""
        gen = generate(300, clients=8, keys=1, mix={"read": 3, "write": 5, "cas": 2}, info=0.1, seed=4)
        ops, _ = load(gen.records)
        model = get_model("cas-register")
        found = linearize(model.prune([op for op in ops if op.status != "fail"]), model)
        assert found.ok
        state = model.init()
        for op, after in zip(found.linearization, found.states):  # legal, step by step, with the states reported
            state = model.transition(op)(state)
            assert state is not ILLEGAL and state == after
        placed = {op.id: i for i, op in enumerate(found.linearization)}
        assert all(op.id in placed for op in ops if op.status == "ok")
        for a in found.linearization:
            for b in found.linearization:
                if a.ret is not None and a.ret < b.call:
                    assert placed[a.id] < placed[b.id]

"""Random histories from a reference key-value store: linearizable by construction.

Each client runs one operation at a time; every operation takes effect at a
random instant between its invoke and its completion, against one in-memory
store applied in the order of those instants, so the recorded results always
have a linearization. :func:`stale_read` then plants the classic bug: one read
returns a value that a write completed before the read began had already
replaced (every written value is unique, so it cannot be explained).

Tests and ``benchmarks/check_speed.py`` use these; so can anyone who wants to
see how the checker scales.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KV_MIX: Mapping[str, float] = {"get": 5, "put": 3, "cas": 1.5, "delete": 0.5}
REGISTER_MIX: Mapping[str, float] = {"read": 5, "write": 3, "cas": 2}


@dataclass
class Generated:
    """A generated history (JSON-lines records) and what the generator knows about it."""

    records: list[dict[str, Any]]
    # per key, in the order they took effect: (value written, its op's invoke and completion time,
    # whether the client saw it succeed)
    writes: dict[Any, list[tuple[Any, float, float, bool]]] = field(default_factory=dict)


def generate(
    ops: int,
    *,
    clients: int = 10,
    keys: int = 1,
    info: float = 0.0,
    mix: Mapping[str, float] | None = None,
    seed: int = 0,
    latency: float = 1.0,
    think: float = 0.2,
    spread: float = 1.0,
) -> Generated:
    """About ``ops`` operations by ``clients`` clients over ``keys`` keys.

    ``info`` is the share of operations whose outcome the client never learns
    (half of those did take effect). An operation takes effect within the
    first ``spread`` of its request latency: 1.0 (the default) anywhere, so the
    order of effects among overlapping operations is random, the hardest case
    for the search; a real server applies requests soon after they arrive and
    the reply takes the rest of the time (e.g. 0.05). Operation names follow ``mix``: the
    ``kv`` model's (get/put/cas/delete/append) or a register's (read/write/cas);
    with one key and the register mix, records carry no key.
    """
    rng = random.Random(seed)
    mix = mix or (REGISTER_MIX if keys == 1 else KV_MIX)
    fs, weights = list(mix), list(mix.values())
    keyed = not (keys == 1 and "read" in mix)
    key_names = [f"k{i}" for i in range(keys)]
    store: dict[Any, Any] = {}
    writes: dict[Any, list[tuple[Any, float, float, bool]]] = {}
    planned: list[tuple[float, int, dict[str, Any], float]] = []  # (effect time, n, op, end)
    events: list[tuple[float, int, dict[str, Any]]] = []
    now = [rng.uniform(0, think) for _ in range(clients)]
    per_client = max(1, ops // clients)
    n = 0
    for c in range(clients):
        t = now[c]
        for seq in range(per_client):
            f = rng.choices(fs, weights)[0]
            key = rng.choice(key_names)
            token = f"{c}.{seq}"
            start = t
            effect = start + rng.uniform(0, latency * spread)
            end = effect + rng.uniform(0, latency)
            op = {"process": c, "f": f, "key": key, "token": token, "start": start}
            n += 1
            planned.append((effect, n, op, end))
            events.append((start, 2 * n, op))  # invoke
            events.append((end, 2 * n + 1, op))  # completion (type decided when applied)
            t = end + rng.uniform(0, think)
    # Apply in effect order: this is the linearization every result comes from.
    planned.sort(key=lambda p: p[0])
    for effect, _, op, end in planned:
        f, key = op["f"], op["key"]
        unknown = rng.random() < info
        applied = not unknown or rng.random() < 0.5
        current = store.get(key)
        op["type"] = "info" if unknown else "ok"
        if f in ("get", "read"):
            op["in"], op["out"] = None, current
            continue
        if f in ("put", "write"):
            new: Any = op["token"]
            op["in"] = op["out"] = new
        elif f == "append":
            op["in"] = op["out"] = op["token"] + ";"
            new = (current or "") + op["in"]
        elif f == "delete":
            op["in"] = op["out"] = None
            new = None
            if current is None and not unknown:
                op["type"] = "fail"  # not found: nothing happened
                continue
        else:  # cas: expect the current value half the time, so both outcomes occur
            expected = current if rng.random() < 0.6 else f"{op['process']}.x"
            op["in"] = op["out"] = [expected, op["token"]]
            new = op["token"]
            if current != expected:
                if not unknown:
                    op["type"] = "fail"  # mismatch: did not take effect
                continue
        if applied:
            if new != current:
                writes.setdefault(key, []).append((new, op["start"], end, not unknown))
            if new is None:
                store.pop(key, None)
            else:
                store[key] = new
    events.sort(key=lambda e: (e[0], e[1]))
    records: list[dict[str, Any]] = []
    for time, order, op in events:
        invoke = order % 2 == 0
        rec: dict[str, Any] = {"process": op["process"], "type": "invoke" if invoke else op["type"], "f": op["f"]}
        if keyed:
            rec["key"] = op["key"]
        rec["value"] = op["in"] if invoke else (op["out"] if op["type"] == "ok" else op["in"])
        rec["time"] = round(time * 1e9)
        records.append(rec)
    return Generated(records, writes)


def stale_read(gen: Generated, seed: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A copy of the history where one ok read returns a value overwritten before it began.

    Returns the records and the index (in them) of the changed completion.
    Raises ``ValueError`` if no read qualifies (too short a history).
    """
    rng = random.Random(seed)
    records = [dict(r) for r in gen.records]
    # A value v can be made stale for a read that begins after W completed, where W replaced v
    # and v's own write completed before W began: real time then orders write(v) < W < read,
    # values are unique, so no linearization lets the read see v. Both writes must be ok
    # (an unknown one could be placed later).
    dead: dict[Any, list[tuple[float, Any]]] = {}
    for key, ws in gen.writes.items():
        for (v, _, v_end, v_ok), (_, w_start, w_end, w_ok) in zip(ws, ws[1:]):
            if v is not None and v_ok and w_ok and v_end < w_start:
                dead.setdefault(key, []).append((w_end, v))
    invoked: dict[Any, float] = {}
    candidates: list[tuple[int, Any]] = []
    for i, r in enumerate(records):
        if r["type"] == "invoke":
            invoked[r["process"]] = r["time"]
            continue
        if r["type"] != "ok" or r["f"] not in ("get", "read"):
            continue
        began = invoked[r["process"]] / 1e9
        stale = [v for done, v in dead.get(r.get("key", "k0"), []) if done < began and v != r["value"]]
        if stale:
            candidates.append((i, stale[-1]))
    if not candidates:
        raise ValueError("no read in this history can be made stale")
    i, old = rng.choice(candidates)
    records[i]["value"] = old
    return records, i

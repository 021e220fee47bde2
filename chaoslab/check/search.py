"""The search: Wing & Gong's algorithm with Lowe's memoization, as Porcupine runs it.

The history of one partition becomes a doubly linked list of *entries*: the
invoke of every operation and the completion of every ``ok`` one, in
real-time order. The candidates to linearize next are the invokes before the
first completion in the list (an operation whose completion comes first must
be linearized before anything invoked later). Linearizing one *lifts* its
invoke and completion out of the list and pushes a frame; when no candidate
works (the first entry is a completion), the search pops the last frame,
puts its entries back (*unlift*: undo, not copy) and tries the next
candidate after it.

Lowe's memoization: a configuration is (set of operations linearized, model
state). Reaching one already seen cannot lead anywhere new, so it is skipped.
The set is a bitset held as Python ints in two parts: ``base``, the number of
``ok`` operations (numbered in invoke order) that are *all* linearized, and
``window``, the bits of those after it. Operations get linearized roughly in
invoke order, so ``window`` stays as small as the concurrency, where one
n-bit int would make every step cost O(n) on a long history. Operations of
unknown outcome (``info``) have their own bits (``ibits``) and no completion
entry: they may be linearized at any point after their invoke, and need not
be linearized at all, so the search succeeds once every ``ok`` operation is.

Frames form a linked stack of tuples, so the deepest partial linearization
seen is kept by holding one reference (the failure report shows it).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chaoslab.check.history import Operation
from chaoslab.check.models import ILLEGAL, Model

_CHECK_EVERY = 1 << 11  # steps between looks at the clock: ~50 ns each, and a timeout lands within ms even on a busy machine


class Timeout(Exception):
    """The deadline passed before the search decided."""


@dataclass
class SearchResult:
    """What the search of one partition found."""

    ok: bool
    steps: int  # candidate transitions tried
    # ok: a full linearization; not ok: the deepest partial one reached (operations in order)
    linearization: list[Operation] = field(default_factory=list)
    states: list[Any] = field(default_factory=list)  # the model state after each of those
    stuck_at: Operation | None = None  # not ok: the first completed operation the deepest attempt could not place


def linearize(ops: Sequence[Operation], model: Model, deadline: float | None = None) -> SearchResult:
    """Search for a linearization of ``ops`` (one partition: ``ok`` and ``info`` operations, in invoke order).

    Raises :class:`Timeout` if ``deadline`` (a ``time.monotonic()`` value) passes first.
    """
    # The search allocates millions of tuples and frees none until it ends: the cyclic
    # garbage collector would rescan them all, again and again, for nothing.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _linearize(ops, model, deadline)
    finally:
        if enabled:
            gc.enable()


def _linearize(ops: Sequence[Operation], model: Model, deadline: float | None) -> SearchResult:
    # --- entries: 0 is the head; then invokes and completions in real-time order
    events: list[tuple[int, int, int]] = []  # (position, 0 invoke / 1 completion, op index)
    for i, op in enumerate(ops):
        events.append((op.call, 0, i))
        if op.ret is not None:
            events.append((op.ret, 1, i))
    events.sort()
    count = len(events) + 1
    nxt = list(range(1, count + 1))
    nxt[-1] = -1
    prv = list(range(-1, count - 1))
    is_ret = [False] * count
    entry_op = [-1] * count
    match = [0] * count  # invoke entry -> its completion entry (0: none, an info op)
    invoke_entry = [0] * len(ops)
    for e, (_, kind, i) in enumerate(events, 1):
        entry_op[e] = i
        if kind:
            is_ret[e] = True
            match[invoke_entry[i]] = e
        else:
            invoke_entry[i] = e

    # --- per operation: its transition, and its bit (ok ops count from base, info ops in ibits)
    trans = [model.transition(op) for op in ops]
    known = [op.ret is not None for op in ops]
    bit_id = [0] * len(ops)
    n_ok = n_info = 0
    for i, op in enumerate(ops):
        if known[i]:
            bit_id[i], n_ok = n_ok, n_ok + 1
        else:
            bit_id[i], n_info = n_info, n_info + 1

    state = model.init()
    if n_ok == 0:
        return SearchResult(True, 0)
    # Per-entry lookups the loop needs, flattened so that one index finds them.
    e_trans = [None] * count
    e_known = [False] * count
    e_bit = [0] * count
    e_pure = [False] * count
    e_blind = [False] * count
    e_hidden = [False] * count
    pure = model.pure_reads
    hidden = model.hidden(ops)
    has_hidden = bool(hidden)
    for e in range(1, count):
        i = entry_op[e]
        e_pure[e] = ops[i].f in pure
        e_trans[e] = trans[i]
        e_known[e] = known[i]
        e_bit[e] = bit_id[i]
        if has_hidden and not is_ret[e]:
            e_blind[e] = model.blind(ops[i])
            e_hidden[e] = i in hidden

    seen: set[tuple[int, int, int, Any]] = set()
    seen_add = seen.add
    base = window = ibits = 0
    remaining = n_ok
    frame: tuple | None = None  # (entry, state, base, window, ibits, parent, bundle)
    depth = 0
    best_depth, best_frame, best_stuck, best_state = -1, None, 0, state
    steps = 0
    next_check = _CHECK_EVERY
    illegal = ILLEGAL
    e = nxt[0]
    while True:
        if not is_ret[e]:
            if e_hidden[e]:
                # A write nobody can observe is placed only with the next blind write (below) or
                # when its own completion comes up (at the backtrack point): anywhere else it
                # would only hide the value the operations after it need.
                e = nxt[e]
                continue
            steps += 1
            new_state = e_trans[e](state)
            if new_state is not illegal:
                bundle = None
                nb, nw = base, window
                if e_blind[e]:
                    # Linearize every unobservable write that is a candidate now, just before this
                    # blind write: it overwrites them, so they are done at no cost to anyone.
                    hs = []
                    h = nxt[0]
                    while not is_ret[h]:
                        if e_hidden[h]:
                            hs.append(h)
                            nw |= 1 << (e_bit[h] - nb)
                        h = nxt[h]
                    if hs:
                        bundle = hs
                if e_known[e]:
                    nw |= 1 << (e_bit[e] - nb)
                    ni = ibits
                else:
                    ni = ibits | (1 << e_bit[e])
                if nw & 1:  # the lowest pending op was placed: slide base past the run of linearized ones
                    t = (~nw & (nw + 1)).bit_length() - 1
                    nw >>= t
                    nb += t
                key = (nb, nw, ni, new_state)
                if key not in seen:
                    seen_add(key)
                    # A read is never worth undoing (see below): its frame is marked
                    # with a negative entry, and backtracking passes through it.
                    frame = (-e if e_pure[e] else e, state, base, window, ibits, frame, bundle)
                    depth += 1
                    state, base, window, ibits = new_state, nb, nw, ni
                    # lift the invoke and its completion out of the list (then the bundle's)
                    p, q = prv[e], nxt[e]
                    nxt[p] = q
                    if q != -1:
                        prv[q] = p
                    r = match[e]
                    if r:
                        remaining -= 1
                        p, q = prv[r], nxt[r]
                        nxt[p] = q
                        if q != -1:
                            prv[q] = p
                    if bundle is not None:
                        for h in bundle:
                            p, q = prv[h], nxt[h]
                            nxt[p] = q
                            prv[q] = p  # a hidden op is ok: its completion follows
                            r = match[h]
                            p, q = prv[r], nxt[r]
                            nxt[p] = q
                            if q != -1:
                                prv[q] = p
                        remaining -= len(bundle)
                    if remaining == 0:
                        break
                    e = nxt[0]
                    continue
            # Never runs off the end: while an ok op is left, its completion is in the list.
            e = nxt[e]
            continue
        if steps >= next_check:
            next_check = steps + _CHECK_EVERY
            if deadline is not None and time.monotonic() > deadline:
                raise Timeout
        inv = invoke_entry[entry_op[e]]
        if e_hidden[inv]:
            # The first completion is an unobservable write's: it must be placed now. Every other
            # candidate was tried already, so if this fails the level fails (a forced frame).
            steps += 1
            nw = window | (1 << (e_bit[inv] - base))
            nb = base
            if nw & 1:
                t = (~nw & (nw + 1)).bit_length() - 1
                nw >>= t
                nb += t
            new_state = e_trans[inv](state)
            key = (nb, nw, ibits, new_state)
            if key not in seen:
                seen_add(key)
                frame = (-inv, state, base, window, ibits, frame, None)
                depth += 1
                state, base, window = new_state, nb, nw
                remaining -= 1
                p, q = prv[inv], nxt[inv]
                nxt[p] = q
                prv[q] = p
                p, q = prv[e], nxt[e]
                nxt[p] = q
                if q != -1:
                    prv[q] = p
                if remaining == 0:
                    break
                e = nxt[0]
                continue
        # backtrack: every candidate before this completion was tried
        if frame is None:
            return _result(False, steps, best_frame, best_state, ops, entry_op, best_stuck, model)
        if depth > best_depth:
            best_depth, best_frame, best_stuck, best_state = depth, frame, e, state
        while True:
            e, state, base, window, ibits, frame, bundle = frame
            depth -= 1
            forced = e < 0
            if forced:
                e = -e
            # unlift in the reverse order of lifting: the bundle's last op first, then this op's
            # completion, then its invoke (dancing links: each entry remembers its neighbours)
            if bundle is not None:
                for h in reversed(bundle):
                    r = match[h]
                    p, q = prv[r], nxt[r]
                    nxt[p] = r
                    if q != -1:
                        prv[q] = r
                    p, q = prv[h], nxt[h]
                    nxt[p] = h
                    prv[q] = h
                remaining += len(bundle)
            r = match[e]
            if r:
                remaining += 1
                p, q = prv[r], nxt[r]
                nxt[p] = r
                if q != -1:
                    prv[q] = r
            p, q = prv[e], nxt[e]
            nxt[p] = e
            if q != -1:
                prv[q] = e
            if not forced:
                break
            # A legal read (an op that changes no state, wherever it is placed) dominates every
            # alternative at its level: any linearization from the configuration before it can
            # move the read to the front (it was a candidate, so nothing pending had completed
            # before it was invoked; it is legal in this state and changes nothing). So its
            # failure is the level's failure: keep going back. Not so for a write of the value
            # already there, or an unknown cas that finds another value: placed later, they act.
            if frame is None:
                return _result(False, steps, best_frame, best_state, ops, entry_op, best_stuck, model)
        e = nxt[e]
    return _result(True, steps, frame, state, ops, entry_op, 0, model)


def _result(ok: bool, steps: int, frame: tuple | None, state: Any, ops: Sequence[Operation], entry_op: list[int],
            stuck: int, model: Model) -> SearchResult:
    """The linearization a chain of frames holds; ``state`` is the state after its last operation."""
    order: list[Operation] = []
    states: list[Any] = []
    while frame is not None:
        order.append(ops[entry_op[abs(frame[0])]])
        states.append(state)
        state = frame[1]  # the state before this op is the state after the one below it
        bundle = frame[6]
        if bundle is not None:  # placed just before it, in this order; blind, so their states are their own
            for h in reversed(bundle):
                op = ops[entry_op[h]]
                order.append(op)
                states.append(model.transition(op)(None))
        frame = frame[5]
    order.reverse()
    states.reverse()
    stuck_op = ops[entry_op[stuck]] if stuck > 0 else None
    return SearchResult(ok, steps, order, states, stuck_op)

"""What the operations of a history mean: sequential specifications ("models").

A model is a small object: ``init()`` gives the initial state, ``step(state, op)``
says whether ``op`` (with the output it returned) is legal in ``state`` and what
the state is afterwards. States must be hashable and compare by value: the
search memoizes (linearized operations, state) pairs, so two equal states must
hash alike. Write your own by subclassing :class:`Model` and overriding ``init``
and ``step``; the rest (``validate``, ``partition``, ``prune``, ``transition``,
``pure_reads``, ``blind``/``hidden``) have safe defaults and exist to make the
search faster where a model knows more.

``transition(op)`` is the hot path. It returns one function ``state -> next
state`` (or :data:`ILLEGAL`) per operation, built once before the search, so the
search loop pays one call per step and no dispatch on ``op.f``. The default
builds it from ``step``; the built-in models build specialised closures.

Operations whose outcome is unknown (``op.unknown``: Jepsen's ``info``) carry no
output. ``step`` must then allow every outcome the operation could have had if
it took effect at this point (a ``cas`` that finds another value simply did
nothing). The search itself covers "it never took effect": such an operation
need not be linearized at all.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chaoslab.check.history import Operation

State = Hashable


class _Illegal:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ILLEGAL"


ILLEGAL: Any = _Illegal()
"""What a transition returns when the operation cannot take effect in that state."""


class ModelError(ValueError):
    """An operation this model does not know (unknown ``f``, malformed value)."""


class Model:
    """A sequential specification. Subclass and override ``init`` and ``step`` (at least)."""

    name = "model"
    fs: frozenset[str] = frozenset()  # the operation names it knows; empty means any
    pure_reads: frozenset[str] = frozenset()  # fs that never change the state (an unknown one can be dropped)

    def init(self) -> State:
        raise NotImplementedError

    def step(self, state: State, op: Operation) -> tuple[bool, State]:
        """(legal?, next state) for ``op`` taking effect in ``state``."""
        raise NotImplementedError

    def validate(self, op: Operation) -> None:
        """Raise :class:`ModelError` for an operation this model cannot judge."""
        if self.fs and op.f not in self.fs:
            raise ModelError(f"model {self.name} has no operation {op.f!r} (it knows {', '.join(sorted(self.fs))})")

    def partition(self, ops: Sequence[Operation]) -> list[list[Operation]]:
        """Independent sub-histories (P-compositionality): by default one per key.

        Operations on different keys of a map of registers commute, so each key
        is checked on its own: that is what makes large histories tractable.
        """
        by_key: dict[Any, list[Operation]] = {}
        for op in ops:
            by_key.setdefault(op.key, []).append(op)
        return list(by_key.values())

    def prune(self, ops: Sequence[Operation]) -> list[Operation]:
        """The operations the search must place; by default all but unknown reads (they change nothing).

        Override to drop more: every operation of unknown outcome is another
        candidate at every step of the search, so each one dropped soundly saves time.
        """
        reads = self.pure_reads
        return [op for op in ops if not (op.unknown and op.f in reads)]

    def blind(self, op: Operation) -> bool:
        """Does ``op`` set the state without looking at it (a write)? Default: no."""
        return False

    def hidden(self, ops: Sequence[Operation]) -> set[int]:
        """Indices (into ``ops``) of ``ok`` blind writes whose state nothing can observe.

        The search then places such a write only just before another blind write
        (where it is invisible) or when its completion forces it: see
        ``search.py``. Sound only if, in a state such a write leaves, every other
        operation but a blind write is illegal or (unknown) does nothing.
        Default: none.
        """
        return set()

    def transition(self, op: Operation) -> Callable[[State], State]:
        step = self.step

        def move(state: State) -> State:
            ok, new = step(state, op)
            return new if ok else ILLEGAL

        return move

    def describe_state(self, state: State) -> str:
        return repr(state)


def _cas_pair(op: Operation) -> tuple[Any, Any]:
    value = op.value
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ModelError(f"cas needs a value [expected, new], got {value!r}")
    return value[0], value[1]


# Operation names as the lab's KV API, Jepsen's register workloads and Porcupine spell them.
_READ = frozenset({"read", "get"})
_WRITE = frozenset({"write", "put"})


def _prune_unobserved(model: Model, ops: Sequence[Operation]) -> list[Operation]:
    """Also drop unknown writes (put, cas, delete) of a value nothing ever observes.

    Sound for registers without append: such a write can only be followed by
    operations that overwrite the value or (unknown ones) do nothing, so any
    linearization that has it stays one without it; and "it never happened" is
    always allowed. The lab's workload writes unique values and gives up on
    many writes under faults: without this each of them would be a candidate
    at every later step.
    """
    observed = set()
    for op in ops:
        f = op.f
        if f == "append":
            return Model.prune(model, ops)
        if f in _READ:
            if op.status == "ok":
                observed.add(op.output)
        elif f == "cas":
            observed.add(_cas_pair(op)[0])
    kept = []
    for op in ops:
        if op.status == "info":  # unknown: only kept if something could see what it did
            f = op.f
            if f in _READ:
                continue
            written = None if f == "delete" else _cas_pair(op)[1] if f == "cas" else op.value
            if written not in observed:
                continue
        kept.append(op)
    return kept


def _hidden_writes(ops: Sequence[Operation]) -> set[int]:
    """For registers without append: ok puts/writes/deletes of a value no read returns and no cas expects.

    In the state such a write leaves, an ok read or cas is illegal (their values are
    observed, this one is not) and an unknown cas does nothing: only a blind write
    can follow, so where exactly the write sits among the operations before that
    write cannot matter.
    """
    observed = set()
    for op in ops:
        f = op.f
        if f == "append":
            return set()
        if f in _READ:
            if op.status == "ok":
                observed.add(op.output)
        elif f == "cas":
            observed.add(_cas_pair(op)[0])
    if "" in observed:
        observed.add(None)  # kv reads "" as absent: a delete is observed by it
    return {i for i, op in enumerate(ops) if op.status == "ok" and (op.f in _WRITE or op.f == "delete")
            and (None if op.f == "delete" else op.value) not in observed}


class Register(Model):
    """One register: ``read`` returns the last value written (``None`` before any write)."""

    name = "register"
    fs = _READ | _WRITE
    pure_reads = _READ

    def init(self) -> State:
        return None

    def prune(self, ops: Sequence[Operation]) -> list[Operation]:
        return _prune_unobserved(self, ops)

    def blind(self, op: Operation) -> bool:
        return op.f in _WRITE

    def hidden(self, ops: Sequence[Operation]) -> set[int]:
        return _hidden_writes(ops)

    def step(self, state: State, op: Operation) -> tuple[bool, State]:
        if op.f in _READ:
            return op.unknown or op.output == state, state
        return True, op.value

    def transition(self, op: Operation) -> Callable[[State], State]:
        # Closures over one constant each: the search calls these millions of times.
        if op.f in _READ:
            want = op.output
            return lambda s: s if s == want else ILLEGAL
        new = op.value
        return lambda s: new


class CASRegister(Register):
    """A register with compare-and-set: ``cas [old new]`` writes ``new`` if it holds ``old``."""

    name = "cas-register"
    fs = Register.fs | {"cas"}

    def validate(self, op: Operation) -> None:
        super().validate(op)
        if op.f == "cas":
            _cas_pair(op)

    def step(self, state: State, op: Operation) -> tuple[bool, State]:
        if op.f == "cas":
            old, new = _cas_pair(op)
            if state == old:
                return True, new
            return op.unknown, state  # an unknown cas may have found another value and done nothing
        return super().step(state, op)

    def transition(self, op: Operation) -> Callable[[State], State]:
        if op.f != "cas":
            return super().transition(op)
        old, new = _cas_pair(op)
        if op.unknown:
            return lambda s: new if s == old else s
        return lambda s: new if s == old else ILLEGAL


class KV(Model):
    """A map of registers, as chaoslab's key-value API has it; checked one key at a time.

    Per key the state is the value, or ``None`` when the key is absent.
    ``get``/``read`` returns the value (``None``: not found; ``""`` also reads
    as absent, as in Porcupine's kv model and 6.824's histories); ``put``/``write``
    sets it; ``append`` concatenates strings (a missing key counts as empty);
    ``delete`` removes it; ``cas [expected new]`` writes ``new`` if the key holds
    ``expected`` (``None`` meaning "absent"). A failed operation (``fail``: not
    found, cas mismatch) never took effect and is not checked.
    """

    name = "kv"
    fs = _READ | _WRITE | {"cas", "append", "delete"}
    pure_reads = _READ

    def init(self) -> State:
        return None

    def prune(self, ops: Sequence[Operation]) -> list[Operation]:
        return _prune_unobserved(self, ops)

    def blind(self, op: Operation) -> bool:
        return op.f in _WRITE or op.f == "delete"

    def hidden(self, ops: Sequence[Operation]) -> set[int]:
        return _hidden_writes(ops)

    def validate(self, op: Operation) -> None:
        super().validate(op)
        if op.key is None:
            raise ModelError(f"model kv needs a key on every operation ({op.f} has none)")
        if op.f == "cas":
            _cas_pair(op)

    def step(self, state: State, op: Operation) -> tuple[bool, State]:
        f = op.f
        if f in _READ:
            return op.unknown or op.output == state or (op.output == "" and state is None), state
        if f in _WRITE:
            return True, op.value
        if f == "append":
            return True, _append(state, op.value)
        if f == "delete":
            return True, None
        old, new = _cas_pair(op)
        if state == old:
            return True, new
        return op.unknown, state

    def transition(self, op: Operation) -> Callable[[State], State]:
        f = op.f
        if f in _READ:
            want = op.output
            if want == "":
                return lambda s: s if s is None or s == "" else ILLEGAL
            return lambda s: s if s == want else ILLEGAL
        if f in _WRITE:
            new = op.value
            return lambda s: new
        if f == "append":
            tail = op.value
            return lambda s: _append(s, tail)
        if f == "delete":
            return lambda s: None
        old, new = _cas_pair(op)
        if op.unknown:
            return lambda s: new if s == old else s
        return lambda s: new if s == old else ILLEGAL


def _append(state: Any, tail: Any) -> Any:
    if state is None:
        return tail
    if isinstance(state, tuple) or isinstance(tail, (list, tuple)):
        # Jepsen's list-append keeps lists: tuples stay hashable.
        head = state if isinstance(state, tuple) else (state,)
        return head + (tuple(tail) if isinstance(tail, (list, tuple)) else (tail,))
    return state + tail


class Counter(Model):
    """A counter: ``add n`` (or ``increment``) adds, ``read`` returns the total."""

    name = "counter"
    fs = _READ | {"add", "increment"}
    pure_reads = _READ

    def init(self) -> State:
        return 0

    def step(self, state: State, op: Operation) -> tuple[bool, State]:
        if op.f in _READ:
            return op.unknown or op.output == state, state
        return True, state + (1 if op.value is None else op.value)  # type: ignore[operator]


class Set(Model):
    """A grow-only set: ``add x`` adds, ``read`` returns all elements (in any order)."""

    name = "set"
    fs = _READ | {"add"}
    pure_reads = _READ

    def init(self) -> State:
        return frozenset()

    def step(self, state: State, op: Operation) -> tuple[bool, State]:
        if op.f in _READ:
            return op.unknown or _as_set(op.output) == state, state
        return True, state | {op.value}  # type: ignore[operator]


def _as_set(value: Any) -> frozenset[Any]:
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(value)
    return frozenset([value])


MODELS: dict[str, Callable[[], Model]] = {
    "register": Register,
    "cas-register": CASRegister,
    "kv": KV,
    "counter": Counter,
    "set": Set,
}


def get_model(name: str | Model) -> Model:
    """A model by name (``register``, ``cas-register``, ``kv``, ``counter``, ``set``) or as given."""
    if isinstance(name, Model):
        return name
    try:
        return MODELS[name]()
    except KeyError:
        raise ModelError(f"unknown model {name!r} (known: {', '.join(MODELS)})") from None


def model_names() -> Iterable[str]:
    return MODELS.keys()

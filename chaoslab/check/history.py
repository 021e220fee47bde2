"""Reading histories: chaoslab's JSON lines, Jepsen's EDN, and ``jepsen.util`` log lines.

Every format comes down to the same events, in real-time order: a process
*invokes* an operation, and later the same process *completes* it with ``ok``
(it took effect and returned ``value``), ``fail`` (it did not take effect) or
``info`` (nobody knows). :func:`pair` turns the events into
:class:`Operation`\\ s, each with the position of its invoke and of its
completion in the event sequence: real-time order is all linearizability
needs, so positions, not clocks, decide which operations overlap.

An invoke that never completes (the client crashed, or the history was cut)
is treated as ``info``. A malformed line raises :class:`HistoryError` naming
the file and the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoslab.errors import LabError

TYPES = frozenset({"invoke", "ok", "fail", "info"})


class HistoryError(LabError):
    """A history that cannot be read: names the file and line (printed as one line, exit 2)."""


# One line of a history: (process, type, f, key, value, time or None, line). A plain tuple:
# a 100,000-operation history has 200,000 of them, and a class instance costs twice as much.
Event = tuple


@dataclass(slots=True, eq=False)
class Operation:
    """An invoke and its completion.

    ``value`` is the operation's argument (what was written; ``[expected, new]``
    for a cas), ``output`` what an ``ok`` returned (what a read saw). ``call``
    and ``ret`` are positions in the event sequence; ``ret`` is ``None`` when
    the outcome is unknown (the operation may take effect at any point after
    ``call``, or never).
    """

    id: int
    process: Any
    f: str
    key: Any
    value: Any
    output: Any
    status: str  # ok | fail | info
    call: int
    ret: int | None
    call_line: int = 0
    ret_line: int = 0
    call_time: int | None = None
    ret_time: int | None = None
    done: int | None = None  # position of any completion (fail and info too): for drawing

    @property
    def unknown(self) -> bool:
        return self.status == "info"

    def describe(self) -> str:
        """``p3 read k1 -> 5`` / ``p1 write k1 5 (unknown)``: how a report names it."""
        key = "" if self.key is None else f" {_show(self.key)}"
        reads = self.f in ("read", "get")
        arg = "" if reads or self.value is None and self.f == "delete" else f" {_show(self.value)}"
        if self.status == "ok":
            out = f" -> {_show(self.output)}" if reads else " ok"
        else:
            out = f" ({'unknown' if self.status == 'info' else 'failed'})"
        return f"p{self.process} {self.f}{key}{arg}{out}"


def _show(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, tuple):
        return "[" + " ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# ---------------------------------------------------------------- values


_PLAIN = frozenset({str, int, float, bool, type(None)})


def freeze(value: Any) -> Any:
    """Lists become tuples (recursively), dicts frozensets: model states must be hashable."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return frozenset((freeze(k), freeze(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return frozenset(freeze(v) for v in value)
    return value


# ---------------------------------------------------------------- formats


class _Bad(Exception):
    """A line-level problem; the reader adds the file and line."""


def _event(d: dict[str, Any], line: int) -> Event | None:
    """One event from a parsed map (keys without their EDN colon). ``None``: not a client op."""
    get = d.get
    process = get("process")
    if type(process) is not int:
        if process is None:
            raise _Bad("no process")
        if not isinstance(process, str):
            raise _Bad(f"process must be a number, got {process!r}")
        if not process.lstrip("-").isdigit():
            return None  # Jepsen's :nemesis and other non-client processes
    kind = get("type")
    if kind not in TYPES:
        raise _Bad(f"type must be one of invoke, ok, fail, info; got {kind!r}" if kind is not None else "no type")
    f = get("f")
    if type(f) is not str or not f:
        raise _Bad("no f (the operation's name)")
    key, value, time = get("key"), get("value"), get("time")
    if type(key) not in _PLAIN:
        key = freeze(key)
    if type(value) not in _PLAIN:
        value = freeze(value)
    return (process, kind, f, key, value, time if type(time) is int else None, line)


def _json_line(text: str, line: int) -> Event | None:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise _Bad(f"not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(d, dict):
        raise _Bad("expected a JSON object")
    return _event(d, line)


# A tiny reader for the EDN Jepsen writes one map a line ({:type :invoke, :f :read, :value nil, ...}):
# keywords, nil/true/false, numbers, strings, vectors and lists. edn_format (a full EDN reader) takes
# about 0.8 ms a line; this takes a few microseconds, and anything it does not know goes to edn_format.
_EDN_TOKEN = re.compile(
    r"""\s*(?:
      (?P<open>[\[({])|(?P<set>\#\{)|(?P<close>[\])}])
     |(?P<str>"(?:[^"\\]|\\.)*")
     |(?P<kw>:[^\s,\[\](){}"]+)
     |(?P<num>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![^\s,\[\](){}])
     |(?P<sym>nil|true|false)(?![^\s,\[\](){}])
     |(?P<comma>,)
    )""",
    re.VERBOSE,
)
_SYMS = {"nil": None, "true": True, "false": False}


class _NotSimple(Exception):
    pass


def _edn_simple(text: str) -> Any:
    stack: list[list[Any]] = [[]]
    kinds: list[str] = ["top"]
    pos, end = 0, len(text.rstrip())
    match = _EDN_TOKEN.match
    while pos < end:
        m = match(text, pos)
        if m is None or m.end() == pos:
            raise _NotSimple
        pos = m.end()
        group = m.lastgroup
        if group == "comma":
            continue
        if group == "open" or group == "set":
            kinds.append(m.group(group)[-1] if group == "open" else "#")
            stack.append([])
            continue
        if group == "close":
            if len(stack) == 1:
                raise _NotSimple
            items, kind = stack.pop(), kinds.pop()
            closing = m.group(group)
            if kind == "{":
                if closing != "}" or len(items) % 2:
                    raise _NotSimple
                value: Any = dict(zip(items[::2], items[1::2]))
            elif kind == "#":
                if closing != "}":
                    raise _NotSimple
                value = frozenset(items)
            else:
                if closing != {"[": "]", "(": ")"}[kind]:
                    raise _NotSimple
                value = items
            stack[-1].append(value)
            continue
        token = m.group(group)
        if group == "str":
            value = json.loads(token)
        elif group == "kw":
            value = token[1:]  # keywords become their names, as with edn_format below
        elif group == "num":
            value = float(token) if ("." in token or "e" in token or "E" in token) else int(token)
        else:
            value = _SYMS[token]
        stack[-1].append(value)
    if len(stack) != 1 or len(stack[0]) != 1:
        raise _NotSimple
    return stack[0][0]


def _edn_plain(value: Any) -> Any:
    """edn_format's values as plain Python: keywords become their names."""
    import edn_format

    if isinstance(value, edn_format.Keyword):
        return value.name
    if isinstance(value, edn_format.Symbol):
        return str(value)
    if isinstance(value, dict):
        return {_edn_plain(k): _edn_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_edn_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return frozenset(_edn_plain(v) for v in value)
    return value


def parse_edn(text: str) -> Any:
    """One EDN value; keywords become plain strings."""
    try:
        return _edn_simple(text)
    except (_NotSimple, KeyError, ValueError):
        pass
    import edn_format

    try:
        return _edn_plain(edn_format.loads(text))
    except Exception as e:  # edn_format raises its own EDNDecodeError and, for some input, others
        raise _Bad(f"not valid EDN ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None


def _edn_map(value: Any, line: int) -> Event | None:
    if not isinstance(value, dict):
        raise _Bad("expected an EDN map {:type ... :f ... :process ...}")
    return _event(value, line)


# INFO  jepsen.util - 3	:invoke	:write	4      (knossos' and Jepsen's own logs; the prefix varies)
_LOG_LINE = re.compile(r"jepsen\.util\S*\s*[-:]?\s+(?P<p>\S+)\s+:(?P<type>\w+)\s+:(?P<f>\S+)(?:\s+(?P<value>.*?))?\s*$")


def _log_line(text: str, line: int) -> Event | None:
    m = _LOG_LINE.search(text)
    if m is None:
        return None  # other log lines (nemesis, setup) say nothing about client operations
    process = m.group("p")
    if not process.lstrip("-").isdigit():
        return None  # :nemesis
    raw = m.group("value")
    value = parse_edn(raw) if raw else None
    return _event({"process": int(process), "type": m.group("type"), "f": m.group("f"), "value": value}, line)


def detect_format(first_line: str) -> str:
    """``json``, ``edn`` or ``log``, from a file's first non-blank line."""
    s = first_line.lstrip()
    if "jepsen.util" in s:
        return "log"
    if s.startswith("{") and s[1:].lstrip().startswith('"'):
        return "json"
    if s.startswith("{") or s.startswith("[{:") or s.startswith("[") and ":type" in s:
        return "edn"
    if s.startswith("["):
        return "json-array"
    return "json"


def read_events(lines: Iterable[str], source: str = "<history>") -> Iterator[Event]:
    """Events from the lines of one history file, of whichever format its first line shows."""
    fmt: str | None = None
    lines = iter(lines)
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if not stripped or stripped.startswith(("#", ";")) and fmt != "log":
            continue
        if fmt is None:
            fmt = detect_format(stripped)
            if fmt == "json-array" or (fmt == "edn" and stripped.startswith("[")):
                # The whole file is one vector: read it all, events have no line of their own.
                rest = stripped + "\n" + "".join(lines)
                yield from _read_vector(rest, fmt, source, number)
                return
        try:
            if fmt == "json":
                event = _json_line(stripped, number)
            elif fmt == "edn":
                event = _edn_map(parse_edn(stripped), number)
            else:
                event = _log_line(stripped, number)
        except _Bad as e:
            raise HistoryError(f"{source}:{number}: {e}") from None
        if event is not None:
            yield event


def _read_vector(text: str, fmt: str, source: str, number: int) -> Iterator[Event]:
    try:
        if fmt == "json-array":
            try:
                items = json.loads(text)
            except json.JSONDecodeError as e:
                raise _Bad(f"not valid JSON ({e.msg} at line {number + e.lineno - 1} column {e.colno})") from None
        else:
            items = parse_edn(text)
        if not isinstance(items, list):
            raise _Bad("expected a vector of operations")
        for item in items:
            if not isinstance(item, dict):
                raise _Bad("expected a map for each operation")
            event = _event(item, number)
            if event is not None:
                yield event
    except _Bad as e:
        raise HistoryError(f"{source}:{number}: {e}") from None


# ---------------------------------------------------------------- pairing


def pair(events: Iterable[Event], source: str = "<history>") -> list[Operation]:
    """Operations from events, in invoke order; each completion matched to its process's invoke."""
    ops: list[Operation] = []
    pending: dict[Any, Operation] = {}
    position = -1
    for position, (process, kind, f, key, value, time, line) in enumerate(events):
        if kind == "invoke":
            before = pending.get(process)
            if before is not None:
                raise HistoryError(
                    f"{source}:{line}: process {process} invokes {f} while its {before.f} "
                    f"(line {before.call_line}) has not completed"
                )
            op = Operation(len(ops), process, f, key, value, None, "info", position, None, line, 0, time, None)
            pending[process] = op
            ops.append(op)
            continue
        op = pending.pop(process, None)  # type: ignore[assignment]
        if op is None:
            raise HistoryError(f"{source}:{line}: {kind} {f} by process {process} without an invoke")
        if f != op.f:
            raise HistoryError(f"{source}:{line}: process {process} completes {f} but invoked {op.f} "
                               f"(line {op.call_line})")
        if key != op.key and key is not None and op.key is not None:
            raise HistoryError(f"{source}:{line}: process {process} completes key {key!r} "
                               f"but invoked key {op.key!r} (line {op.call_line})")
        op.status = kind
        op.ret_line, op.ret_time, op.done = line, time, position
        if kind == "ok":
            op.ret = position
            op.output = value
            if op.value is None and f not in ("read", "get"):
                op.value = value  # Jepsen may fill a write's value in on completion only
    if position < 0:
        raise HistoryError(f"{source}: empty history (no operations)")
    # Invokes left pending: the client crashed or the history was cut. Their outcome is unknown.
    return ops


def read_history(path: str | Path) -> list[Operation]:
    """The operations of one history file (any supported format)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            return pair(read_events(f, str(path)), str(path))
    except UnicodeDecodeError as e:
        raise HistoryError(f"{path}: not a text file ({e.reason})") from None
    except OSError as e:
        raise HistoryError(f"{path}: cannot read ({e.strerror})") from None


def from_dicts(records: Iterable[dict[str, Any]], source: str = "<history>") -> list[Operation]:
    """Operations from in-memory history records (``HistoryOp.as_dict()`` or the JSON-lines shape)."""

    def events() -> Iterator[Event]:
        for number, d in enumerate(records, 1):
            try:
                event = _event(d if isinstance(d, dict) else dict(d), number)
            except _Bad as e:
                raise HistoryError(f"{source}:{number}: {e}") from None
            if event is not None:
                yield event

    return pair(events(), source)

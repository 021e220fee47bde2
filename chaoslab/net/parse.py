"""Parse what users type for faults: percentages, durations, node lists, partitions.

Every function raises :class:`ValueError` with one line a CLI can print as is
(no traceback, no newline), and returns plain values: probabilities as floats
in 0..1, durations as float seconds, node ids as lists of strings. Checking ids
against a cluster's nodes is :mod:`chaoslab.net.partitions`' job; this module
knows only the syntax.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Sequence
from typing import Any

__all__ = [
    "format_duration",
    "format_percent",
    "parse_duration",
    "parse_fault",
    "parse_for",
    "parse_groups",
    "parse_nodes",
    "parse_one_way",
    "parse_probability",
]

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PROBABILITY = re.compile(rf"([+-]?{_NUMBER})\s*(%?)")
_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
# "ms" must come before "m" and "s" so that "50ms" is not read as 50m + "s".
_DURATION_PART = re.compile(rf"({_NUMBER})\s*(us|µs|ms|s|m|h)")
_NODE_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_DURATION_EXAMPLES = "e.g. 250us, 50ms, 1.5s, 2m"
#: The longest ``--for`` (a fault that should last longer lasts until removed: leave --for out).
MAX_FOR_S = 24 * 3600.0


def _typed(text: object) -> str:
    """What the user typed, stripped; ValueError if it holds a control character (a newline, a
    NUL, ...): no grammar here has one, and an error quoting it would not be one line."""
    s = str(text).strip()
    if not s.isprintable():
        raise ValueError(f"{s!r} holds a control character: write it on one line, in plain characters")
    return s


def parse_probability(text: str) -> float:
    """``"20%"`` or ``"0.2"`` -> 0.2. Out of 0..1 (0%..100%) or malformed -> ValueError."""
    s = _typed(text)
    m = _PROBABILITY.fullmatch(s)
    if not m:
        raise ValueError(f"{s!r} is not a probability: write a percentage like 20% or a fraction like 0.2")
    value, percent = float(m[1]), bool(m[2])
    if value < 0:
        raise ValueError(f"{s} is negative: a probability is between 0% and 100%")
    if percent:
        if value > 100:
            raise ValueError(f"{s} is more than 100%")
        return value / 100.0
    if value > 1:
        hint = f"did you mean {m[1]}%?" if value <= 100 else "a probability is between 0% and 100%"
        raise ValueError(f"{s} is not a fraction between 0 and 1: {hint}")
    return value


def parse_duration(text: str) -> float:
    """``"50ms"``, ``"1.5s"``, ``"2m"``, ``"250us"``, ``"1m30s"`` -> seconds; ``"0"`` -> 0.0.

    A number other than 0 needs a unit; negative or malformed -> ValueError.
    """
    s = _typed(text)
    if not s:
        raise ValueError(f"empty duration: write one like {_DURATION_EXAMPLES}")
    if s.startswith("-"):
        raise ValueError(f"{s} is negative: a duration is 0 or more")
    if s.startswith("+"):
        s = s[1:].lstrip()
    if re.fullmatch(_NUMBER, s):
        if float(s) == 0:
            return 0.0
        raise ValueError(f"{s} has no unit: write {s}s or {s}ms")
    total, pos = 0.0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m:
            raise ValueError(f"{s!r} is not a duration: write one like {_DURATION_EXAMPLES}")
        total += float(m[1]) * _UNITS[m[2]]
        pos = m.end()
        while pos < len(s) and s[pos] == " ":
            pos += 1
    if not math.isfinite(total):
        raise ValueError(f"{s!r} is too long a duration")
    return total


def parse_for(text: str, option: str = "--for", most: float = MAX_FOR_S) -> float:
    """A duration above zero and at most ``most`` seconds, in seconds: the ``--for`` of a fault by
    default; ``option`` names the option in the error (``--timeout``)."""
    seconds = parse_duration(text)
    if seconds <= 0:
        raise ValueError(f"{option} {str(text).strip()} would end at once: give a duration above 0, e.g. 10s")
    if seconds > most:
        raise ValueError(f"{option} {str(text).strip()} is longer than the most it takes, {format_duration(most)}")
    return seconds


def parse_nodes(text: str) -> list[str]:
    """``"n1,n2"`` -> ``["n1", "n2"]``; empty items, bad ids or repeats -> ValueError."""
    s = _typed(text)
    if not s:
        raise ValueError("no node ids given: write them like n1,n2")
    ids = [part.strip() for part in s.split(",")]
    seen: set[str] = set()
    for node in ids:
        if not node:
            raise ValueError(f"empty node id in {s!r}: write ids separated by single commas, like n1,n2")
        if not _NODE_ID.fullmatch(node):
            raise ValueError(f"{node!r} is not a node id (letters, digits, '_', '.', '-')")
        if node in seen:
            raise ValueError(f"{node} is named twice in {s!r}")
        seen.add(node)
    return ids


def parse_groups(args: str | Sequence[str]) -> list[list[str]]:
    """``"n1,n2 n3,n4,n5"`` (or the words as a list) -> ``[["n1","n2"], ["n3","n4","n5"]]``.

    Groups are separated by spaces or ``|`` (so a partition label parses back);
    nodes within a group by commas. Nodes not named are not added here: that
    needs the cluster's ids (see :func:`chaoslab.net.partitions.from_groups`).
    """
    text = _typed(args if isinstance(args, str) else " ".join(args))
    if "->" in text:
        raise ValueError(f"{text.strip()!r} mixes groups and a one-way cut: give either groups or src->dst")
    words = text.replace("|", " ").split()
    if not words:
        raise ValueError("no groups given: write them like n1,n2 n3,n4,n5")
    groups = [parse_nodes(word) for word in words]
    owner: dict[str, int] = {}
    for i, group in enumerate(groups):
        for node in group:
            if node in owner:
                where = "twice in one group" if owner[node] == i else "in two groups"
                raise ValueError(f"{node} is {where}: each node belongs to one group")
            owner[node] = i
    return groups


def parse_one_way(text: str | Sequence[str]) -> tuple[list[str], list[str]]:
    """``"n1->n2"`` -> ``(["n1"], ["n2"])``: n2 stops hearing n1 (n1 still hears n2).

    Either side may list several ids (``"n1,n2->n3"``).
    """
    s = _typed(text if isinstance(text, str) else " ".join(text))
    parts = s.split("->")
    if len(parts) != 2:
        raise ValueError(f"{s!r} is not a one-way cut: write it like n1->n2")
    left, right = parts
    if not left.strip() or not right.strip():
        raise ValueError(f"{s!r} needs nodes on both sides: write it like n1->n2")
    src, dst = parse_nodes(left), parse_nodes(right)
    both = [n for n in src if n in dst]
    if both:
        raise ValueError(f"{both[0]} is on both sides of {s!r}")
    return src, dst


#: the link faults :func:`parse_fault` reads, and the options each takes beyond --from, --to, --seed
FAULT_OPTIONS = {"drop": (), "duplicate": (), "reorder": (), "delay": ("--jitter", "--dist")}


def parse_fault(text: str) -> tuple[str, dict[str, Any]]:
    """One link fault as the CLI writes it, e.g. ``"drop 30%"``, ``"delay 40ms --jitter 20ms"``,
    ``"duplicate 5% --from n1 --to n2,n3 --seed 4"`` -> ``("drop", {"p": 0.3})``,
    ``("delay", {"delay_s": 0.04, "jitter_s": 0.02})``, ... : the fault's kind and the keyword
    arguments of its rule constructor in :mod:`chaoslab.net.rules` (``p`` or ``delay_s``,
    ``jitter_s``, ``dist``, ``src``, ``dst``, ``seed``). A cluster definition's initial
    ``faults`` are lines of this grammar. ``--for`` has no place here (a line names a fault
    that lasts until removed); a partition is not a link fault."""
    try:
        words = shlex.split(_typed(text))
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    if not words:
        raise ValueError("empty fault: write one like 'drop 30%' or 'delay 50ms --jitter 10ms'")
    kind, rest = words[0], words[1:]
    if kind not in FAULT_OPTIONS:
        raise ValueError(f"{text!r}: {kind!r} is not a link fault (one of {', '.join(FAULT_OPTIONS)})")
    if not rest or rest[0].startswith("--"):
        raise ValueError(f"{text!r}: {kind} needs an amount, e.g. '{kind} {'50ms' if kind == 'delay' else '20%'}'")
    try:
        return kind, _fault_args(kind, rest[0], rest[1:], text)
    except ValueError as exc:
        message = str(exc)
        raise ValueError(message if message.startswith(repr(text)) else f"{text!r}: {message}") from None


def _fault_args(kind: str, amount: str, options: list[str], text: str) -> dict[str, Any]:
    args: dict[str, Any] = {"delay_s": parse_duration(amount)} if kind == "delay" else {"p": parse_probability(amount)}
    allowed = ("--from", "--to", "--seed", *FAULT_OPTIONS[kind])
    while options:
        option = options.pop(0)
        name, sep, value = option.partition("=")
        if name not in allowed:
            hint = ": a fault listed here lasts until removed" if name == "--for" else ""
            raise ValueError(f"{text!r}: {kind} takes no option {name!r}{hint} (options: {', '.join(allowed)})")
        if not sep:
            if not options:
                raise ValueError(f"{text!r}: {name} needs a value")
            value = options.pop(0)
        if name in ("--from", "--to"):
            args["src" if name == "--from" else "dst"] = parse_nodes(value)
        elif name == "--seed":
            if not value.isdigit():
                raise ValueError(f"{text!r}: --seed takes a whole number, got {value!r}")
            args["seed"] = int(value)
        elif name == "--jitter":
            args["jitter_s"] = parse_duration(value)
        elif value in ("uniform", "normal"):
            args["dist"] = value
        else:
            raise ValueError(f"--dist takes uniform or normal, got {value!r}")
    return args


def format_percent(p: float) -> str:
    """0.2 -> ``"20%"``, 0.125 -> ``"12.5%"`` (the inverse of :func:`parse_probability`)."""
    return f"{_num(p * 100, 4)}%"


def format_duration(seconds: float) -> str:
    """0.05 -> ``"50ms"``, 1.5 -> ``"1.5s"``, 120 -> ``"2m"`` (parses back with :func:`parse_duration`)."""
    if seconds == 0:
        return "0s"
    if seconds < 1e-3:
        return f"{_num(seconds * 1e6)}us"
    if seconds < 1:
        return f"{_num(seconds * 1e3)}ms"
    if seconds >= 3600 and round(seconds, 3) % 3600 == 0:
        return f"{round(seconds / 3600):d}h"
    if seconds >= 60 and round(seconds, 3) % 60 == 0:
        return f"{round(seconds / 60):d}m"
    return f"{_num(seconds)}s"


def _num(x: float, places: int = 3) -> str:
    """A plain decimal without exponent or trailing zeros: 12.500 -> "12.5"."""
    return f"{x:.{places}f}".rstrip("0").rstrip(".")

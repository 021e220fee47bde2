"""Where each table and key of a TOML text sits: the line numbers ``tomllib`` does not give.

A light scan, not a second TOML parser: it reads table headers (``[x]``, ``[[x]]``,
counting each array-of-tables header in order), ``key =`` statements and dotted keys,
and steps over values (strings of all four kinds, arrays and inline tables, which may
span lines) without reading them. Paths are tuples: ``("cluster", "nodes")``,
``("step", 3, "partition")`` for a key of the third ``[[step]]`` (1-based, as people
count), ``("check", "availability", 1)`` for a header. Keys inside an inline table are
not recorded; :meth:`TomlLines.line` falls back to the nearest recorded ancestor, so
they get the line of the key that holds the table.

It also notes keys set twice, which ``tomllib`` reports only "at end of document".
The scan never raises: on text that is not TOML it returns what it could read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["TomlLines", "scan"]

Path = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_BASIC = r'"(?:[^"\\\n]|\\.)*"'
_LITERAL = r"'[^'\n]*'"
_PART = rf"(?:{_BARE}|{_BASIC}|{_LITERAL})"
_KEY = rf"{_PART}(?:[ \t]*\.[ \t]*{_PART})*"
_PART_RE = re.compile(_PART)
_ARRAY_HEADER = re.compile(rf"[ \t]*\[\[[ \t]*({_KEY})[ \t]*\]\]")
_TABLE_HEADER = re.compile(rf"[ \t]*\[[ \t]*({_KEY})[ \t]*\]")
_KEY_VALUE = re.compile(rf"[ \t]*({_KEY})[ \t]*=")


@dataclass
class TomlLines:
    """Line numbers (1-based) of headers and keys, by path."""

    lines: dict[Path, int] = field(default_factory=dict)
    #: (path, line of the second assignment, line of the first)
    repeated: list[tuple[Path, int, int]] = field(default_factory=list)

    def line(self, path: Path) -> int:
        """The line of ``path``, or of its nearest recorded ancestor; 0 when none is known."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 0


def scan(text: str) -> TomlLines:
    """Find the line of every header and ``key =`` statement of ``text``."""
    found = TomlLines()
    counts: dict[Path, int] = {}  # array-of-tables path (without index) -> headers seen
    context: Path = ()
    pos, line, n = 0, 1, len(text)
    while pos < n:
        end = text.find("\n", pos)
        rest_of_line = text[pos:n if end < 0 else end]
        header = _ARRAY_HEADER.match(rest_of_line)
        if header:
            plain = _parts(header[1])
            counts[plain] = counts.get(plain, 0) + 1
            array = _indexed(plain[:-1], counts) + (plain[-1],)
            found.lines.setdefault(array, line)  # the array's first table stands for the array
            context = array + (counts[plain],)
            found.lines.setdefault(context, line)
            pos += header.end()
        elif (table := _TABLE_HEADER.match(rest_of_line)) is not None:
            context = _indexed(_parts(table[1]), counts)
            _record(found, context, line)
            pos += table.end()
        elif (key := _KEY_VALUE.match(rest_of_line)) is not None:
            _record(found, context + _parts(key[1]), line)
            pos += key.end()
        pos, line = _skip_statement(text, pos, line)
    return found


def _parts(key: str) -> tuple[str, ...]:
    return tuple(p[1:-1] if p[0] in "\"'" else p for p in _PART_RE.findall(key))


def _indexed(parts: tuple[str, ...], counts: dict[Path, int]) -> Path:
    """``("step", "args")`` -> ``("step", 3, "args")`` while the third ``[[step]]`` is open."""
    path: Path = ()
    for i, part in enumerate(parts):
        path += (part,)
        if parts[: i + 1] in counts:
            path += (counts[parts[: i + 1]],)
    return path


def _record(found: TomlLines, path: Path, line: int) -> None:
    if path in found.lines:
        found.repeated.append((path, line, found.lines[path]))
    else:
        found.lines[path] = line


def _skip_statement(text: str, pos: int, line: int) -> tuple[int, int]:
    """Step over the rest of a statement (a value may span lines); return the position after
    its newline and the line number there."""
    depth, n = 0, len(text)
    while pos < n:
        c = text[pos]
        if c == "\n":
            line += 1
            pos += 1
            if depth <= 0:
                return pos, line
        elif c == "#":
            end = text.find("\n", pos)
            pos = n if end < 0 else end
        elif c in "\"'":
            pos, line = _skip_string(text, pos, line)
        else:
            depth += (c in "[{") - (c in "]}")
            pos += 1
    return pos, line


def _skip_string(text: str, pos: int, line: int) -> tuple[int, int]:
    quote = text[pos]
    multi = text.startswith(quote * 3, pos)
    pos += 3 if multi else 1
    n = len(text)
    while pos < n:
        c = text[pos]
        if c == "\\" and quote == '"':
            line += text[pos + 1:pos + 2] == "\n"
            pos += 2
            continue
        if c == "\n":
            if not multi:
                return pos, line  # an unterminated one-line string: let the newline end the statement
            line += 1
        elif c == quote and (not multi or text.startswith(quote * 3, pos)):
            pos += 3 if multi else 1
            while multi and pos < n and text[pos] == quote:  # """a"""" ends with a quote inside
                pos += 1
            return pos, line
        pos += 1
    return pos, line

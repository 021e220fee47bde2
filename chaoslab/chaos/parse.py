"""Scenario files (``faults/*.toml``) into :class:`~chaoslab.chaos.scenario.Scenario`, checked.

The one module of scripted chaos that reads TOML (the grammar: ``docs/scenarios.md``).
Everything a run could trip over later is refused here, before a process starts: unknown
tables and keys, wrong types, impossible values, an algorithm that does not exist or
cannot serve the workload or a check, node ids the cluster will not have, partitions
that do not parse, steps after the workload's end, availability windows naming no step.

Each refusal is a :class:`ScenarioError`, one line naming the file, the line (or, when
the file has no such line, the table) and what to change::

    faults/x.toml:12: [[step]] #3: unknown key 'partiton' (did you mean 'partition'?)

``tomllib`` gives no line numbers for keys; :mod:`chaoslab.chaos.toml_lines` finds them.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import random
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from chaoslab.algorithms.registry import available, get_algorithm
from chaoslab.algorithms.spec import AlgorithmSpec
from chaoslab.chaos.scenario import (
    ACTIONS,
    CHECKS,
    DEFAULT_MIX,
    HISTORY_CHECKS,
    MIX_OPS,
    NEMESIS_KINDS,
    Availability,
    CheckSection,
    ClusterSection,
    NemesisSection,
    Scenario,
    Step,
    WorkloadSection,
)
from chaoslab.chaos.toml_lines import TomlLines, scan
from chaoslab.errors import LabError
from chaoslab.lab.spec import MAX_NODES, build_spec, parse_override
from chaoslab.net.parse import format_duration, parse_duration, parse_nodes, parse_probability
from chaoslab.net.partitions import build, parse_spec
from chaoslab.process.spec import node_ids

__all__ = ["WORKLOAD_KINDS", "ScenarioError", "load_scenario", "parse_scenario"]

#: workload kinds: "kv" (Jepsen clients, for algorithms whose spec serves the kv API),
#: "orders" (a commander's orders, for Byzantine agreement), and Maelstrom's "echo",
#: "broadcast", "g-counter" (for Maelstrom programs)
WORKLOAD_KINDS = ("kv", "orders", "echo", "broadcast", "g-counter")

_TOP = {"name": "name", "description": "description", "quick_scale": "quick_scale", "cluster": "[cluster]",
        "workload": "[workload]", "step": "[[step]]", "nemesis": "[nemesis]", "check": "[check]"}
_CLUSTER_KEYS = ("algorithm", "nodes", "set")
_COMMON_KEYS = ("kind", "clients", "rate", "duration", "timeout")
#: the [workload] keys each kind takes
_WORKLOAD_KEYS = {kind: (*_COMMON_KEYS, *(("keys",) if kind == "kv" else ()),
                         *(("mix", "settle") if kind in MIX_OPS else ()))  # the kinds with final reads
                  for kind in WORKLOAD_KINDS}
_NEMESIS_KEYS = ("kinds", "interval", "hold", "seed", "start", "stop")
_CHECK_KEYS = (*CHECKS, "expect", "availability")
_AVAILABILITY_KEYS = ("during", "start", "end", "min")
_LINK = ("for", "src", "dst", "seed")
#: what each action takes besides ``at`` and ``name``
_ACTION_OPTIONS: dict[str, tuple[str, ...]] = {
    "partition": ("for", "seed"),
    "heal": (),
    "clear": (),
    "crash": ("for", "restart_after", "seed"),
    "restart": (),
    "pause": ("for", "resume_after", "seed"),
    "resume": (),
    "drop": _LINK,
    "duplicate": _LINK,
    "reorder": _LINK,
    "delay": (*_LINK, "jitter", "dist"),
    "wait_for": ("timeout",),
    "command": ("node", "args", "timeout"),
}
_STEP_KEYS = ("at", "name", *ACTIONS, *dict.fromkeys(k for opts in _ACTION_OPTIONS.values() for k in opts))
_UNTIL_KEYS = ("for", "restart_after", "resume_after")
#: which later steps end a named step's fault (its availability window)
_ENDED_BY = {
    "partition": ("heal", "clear", "partition"),
    "drop": ("clear",), "duplicate": ("clear",), "reorder": ("clear",), "delay": ("clear",),
    "crash": ("restart",),
    "pause": ("resume",),
}
_WAIT_FOR = ("leader",)
_EXPECT = ("valid", "violation")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_DEFAULT_WAIT_S = 10.0


class ScenarioError(LabError):
    """A scenario file the lab cannot run, as one line: file, line, table, what to change."""

    def __init__(self, path: Path, line: int, where: str, reason: str) -> None:
        self.path, self.line, self.where, self.reason = path, line, where, reason
        place = f"{path}:{line}" if line else str(path)
        super().__init__(f"{place}: {where}: {reason}" if where else f"{place}: {reason}")


def load_scenario(path: str | os.PathLike[str], *, algorithm: str | None = None,
                  settings: Sequence[str] = ()) -> Scenario:
    """Read and check a scenario file; :class:`ScenarioError` says what is wrong with it.

    ``algorithm`` (a name or ``module:attr``) and ``settings`` (``up --set`` strings) replace the
    file's ``[cluster]`` choices before it is checked: the same scenarios against another build,
    e.g. a planted bug (``chaoslab run faults/*.toml --algorithm mybuild:SPEC``).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, 0, "", "no such scenario file") from None
    except IsADirectoryError:
        raise ScenarioError(path, 0, "", "is a directory: name one scenario file, e.g. faults/raft-leader-isolation.toml") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, 0, "", f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(path, 0, "", f"cannot be read: {exc.strerror}") from None
    return parse_scenario(text, path, algorithm=algorithm, settings=settings)


def parse_scenario(text: str, path: Path, *, algorithm: str | None = None, settings: Sequence[str] = ()) -> Scenario:
    """Check the scenario ``text`` (from ``path``, which errors name) and build it (overrides as :func:`load_scenario`'s)."""
    path = Path(path)
    lines = scan(text)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, text, lines, exc) from None
    replay: list[str] = []
    cluster = doc.get("cluster")
    if isinstance(cluster, dict) and (algorithm or settings):
        if algorithm:
            cluster["algorithm"] = algorithm
            replay += ["--algorithm", algorithm]
        for override in settings:
            keys, value = parse_override(override)
            if len(keys) == 1 and keys[0] not in _CLUSTER_KEYS and keys[0] in cluster:
                cluster[keys[0]] = value  # the file's [cluster] shorthand for the same setting
                replay += ["--set", override]
                continue
            table = cluster.setdefault("set", {})
            for key in keys[:-1]:
                table = table.setdefault(key, {})
            table[keys[-1]] = value
            replay += ["--set", override]
    scenario = _Reader(path, lines, doc).scenario()
    return replace(scenario, replay_args=tuple(replay)) if replay else scenario


# ---------------------------------------------------------------- TOML syntax


_AT = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$")
_BARE_VALUE = re.compile(r"\s*([A-Za-z0-9_.\"'-]+)\s*=\s*([^\"'\[{#\s][^#]*?)\s*(?:#.*)?$")


def _syntax_error(path: Path, text: str, lines: TomlLines, exc: tomllib.TOMLDecodeError) -> ScenarioError:
    message = str(exc)
    at = _AT.search(message)
    reason = message[: at.start()] if at else message
    reason = reason[:1].lower() + reason[1:]
    if lines.repeated and reason.startswith(("cannot overwrite", "cannot declare", "cannot mutate")):
        key, line, first = min(lines.repeated, key=lambda r: r[1])
        return ScenarioError(path, line, "", f"invalid TOML: {_show_path(key)} (first on line {first})")
    if at and at[1]:
        line, column = int(at[1]), int(at[2])
        source = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
        return ScenarioError(path, line, "", f"invalid TOML: {reason} at column {column}{_quote_hint(source)}")
    return ScenarioError(path, max(1, len(text.splitlines())), "", f"invalid TOML: {reason} at the end of the file"
                         " (an unclosed string, array or table?)")


def _quote_hint(source: str) -> str:
    """``at = 3s``: TOML strings need quotes, and durations are strings."""
    m = _BARE_VALUE.match(source)
    if not m:
        return ""
    try:
        tomllib.loads(f"v = {m[2]}")
        return ""
    except tomllib.TOMLDecodeError:
        return f" (strings need quotes: {m[1]} = {json.dumps(m[2])})"


def _show_path(path: tuple[str | int, ...]) -> str:
    """What a path repeated in the file is: a table declared twice or a key set twice."""
    shown = ".".join(str(p) for p in path if not isinstance(p, int))
    return f"[{shown}] is declared twice" if len(path) == 1 else f"{shown!r} is set twice"


# ---------------------------------------------------------------- values
#
# Converters take a TOML value and return the model's, or raise ValueError with the
# rest of a sentence that starts with the key's name.


def _show(value: Any) -> str:
    """A value as the user wrote it in TOML: "five", true, 1.5."""
    return json.dumps(value, default=str)


def _hint(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when something is close, else `` (one of a, b, c)``."""
    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (one of {', '.join(choices)})"


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string in quotes, got {_show(value)}")
    return value


def _choice(*choices: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = _string(value)
        if text not in choices:
            raise ValueError(f"{_show(text)} is not known{_hint(text, choices)}")
        return text
    return convert


def _name(value: Any) -> str:
    text = _string(value)
    if not _NAME.fullmatch(text):
        raise ValueError(f"{_show(text)} is not a usable name: letters, digits, '_', '.', '-' (at most 64)")
    return text


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {_show(value)}")
    return value


def _whole(low: int, high: int | None = None, what: str = "") -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, got {_show(value)}")
        if value < low or (high is not None and value > high):
            bound = f"at least {low}" if high is None else str(low) if low == high else f"from {low} to {high}"
            raise ValueError(f"must be {bound}{what}, got {value}")
        return value
    return convert


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"must be a number, got {_show(value)}")
    return float(value)


def _duration(value: Any) -> float:
    """``"20s"``, ``"500ms"``, ``"1m30s"``, or a number of seconds; 0 or more."""
    if isinstance(value, str):
        return parse_duration(value)
    try:
        seconds = _number(value)
    except ValueError:
        raise ValueError(f"must be a duration like \"3s\" or \"500ms\", got {_show(value)}") from None
    if seconds < 0:
        raise ValueError(f"must be a duration of 0 or more, got {value}")
    return seconds


def _above_zero(convert: Callable[[Any], float], words: str) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        converted = convert(value)
        if converted <= 0:
            raise ValueError(f"must be {words} 0, got {_show(value)}")
        return converted
    return check


_positive = _above_zero(_number, "above")
_period = _above_zero(_duration, "longer than")  # a duration that is not zero


def _fraction(value: Any) -> float:
    """A probability or ratio: ``0.2`` or ``"20%"``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"must be a fraction like 0.2 or \"20%\", got {_show(value)}")
    return parse_probability(str(value))


def _some(value: Any) -> float:
    """A probability above zero (a fault that never fires is a mistake)."""
    p = _fraction(value)
    if p == 0:
        raise ValueError("is 0: the fault would never happen")
    return p


def _words(value: Any) -> str:
    """A comma-separated string or a list of strings, as one comma-separated string."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return ",".join(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"must be a string like \"n1,n2\" or a list of strings, got {_show(value)}")


def _node_list(ids: Sequence[str], keywords: Sequence[str] = ()) -> Callable[[Any], str]:
    """Node ids of this cluster (and ``keywords``), comma-separated or as a list; ``all``
    (when allowed) becomes every id, so the runner sees ids and ``leader``/``random`` only."""
    def convert(value: Any) -> str:
        names = parse_nodes(_words(value))
        for name in names:
            if name not in ids and name not in keywords:
                raise ValueError(f"unknown node {name!r}{_hint(name, [*ids, *keywords])}")
        if "all" in names:
            if len(names) > 1:
                raise ValueError("'all' already names every node: give it alone")
            return ",".join(ids)
        return ",".join(names)
    return convert


def _partition(ids: Sequence[str]) -> Callable[[Any], str]:
    """A partition in the CLI's grammar, computed once against this cluster (``leader`` stands
    in for the first node), so bad ids and shapes that cannot cut it are refused now."""
    def convert(value: Any) -> str:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = " ".join(value)  # ["n1,n2", "n3,n4,n5"]: one string a group
        text = _string(value).strip()
        build(ids, parse_spec(text), leader=ids[0], rng=random.Random(0))
        return text
    return convert


def _true(action: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value is not True:
            raise ValueError(f"must be true ({action} takes no argument), got {_show(value)}")
        return ""
    return convert


def _no_leader(action: str) -> Callable[[Any], str]:
    def refuse(value: Any) -> NoReturn:
        undo = {"restart": "restart_after", "resume": "resume_after"}[action]
        source = {"restart": "crash", "resume": "pause"}[action]
        raise ValueError(f"takes node ids or 'all', not {_show(value)} (to {action} what a {source} "
                         f"step chose, give that step {undo})")
    return refuse


# ---------------------------------------------------------------- the reader


class _Table:
    """One table of the file: its label in messages, its path for line numbers, its data."""

    def __init__(self, reader: _Reader, label: str, path: tuple[str | int, ...], data: Mapping[str, Any]) -> None:
        self.reader, self.label, self.path, self.data = reader, label, path, data

    def fail(self, reason: str, *key: str | int) -> NoReturn:
        raise ScenarioError(self.reader.path, self.reader.lines.line(self.path + key), self.label, reason)

    def only(self, allowed: Sequence[str]) -> None:
        for key in self.data:
            if key not in allowed:
                self.fail(f"unknown key {key!r}{_hint(key, allowed)}", key)

    def get(self, key: str, convert: Callable[[Any], Any], default: Any = None) -> Any:
        if key not in self.data:
            return default
        try:
            return convert(self.data[key])
        except ValueError as exc:
            self.fail(f"{key}: {exc}", key)

    def require(self, key: str, convert: Callable[[Any], Any], example: str) -> Any:
        if key not in self.data:
            self.fail(f"missing {key} (e.g. {example})")
        return self.get(key, convert)

    def table(self, key: str, label: str) -> _Table:
        value = self.data[key]
        if not isinstance(value, dict):
            self.fail(f"{key} must be a table ({label}), got {_show(value)}", key)
        return _Table(self.reader, label, (*self.path, key), value)

    def tables(self, key: str, label: str) -> list[_Table]:
        """An array of tables (``[[step]]``): one :class:`_Table` each, numbered from 1."""
        value = self.data.get(key, [])
        if isinstance(value, dict):
            self.fail(f"{label[1:-1]} takes double brackets, {label}: one for each", key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(f"{key} must be tables written {label}, got {_show(value)}", key)
        return [_Table(self.reader, f"{label} #{i}", (*self.path, key, i), v) for i, v in enumerate(value, 1)]


class _Reader:
    def __init__(self, path: Path, lines: TomlLines, doc: dict[str, Any]) -> None:
        self.path, self.lines = path, lines
        self.top = _Table(self, "", (), doc)

    def scenario(self) -> Scenario:
        top = self.top
        if not top.data:
            top.fail("empty scenario: it needs a [cluster] (algorithm = \"raft\") and a [workload], "
                     "[[step]]s or a [nemesis]")
        for key, value in top.data.items():
            if key not in _TOP:
                self._unknown_top(key, value)
        default_name = self.path.stem if _NAME.fullmatch(self.path.stem) else None
        name = top.get("name", _name, default_name)
        if name is None:
            top.fail(f"the file's name {self.path.stem!r} is not a usable scenario name: give one with name = \"...\"")
        description = top.get("description", _string, "")
        quick_scale = top.get("quick_scale", _scale, 0.5)
        if "cluster" not in top.data:
            top.fail("missing [cluster]: say what to run, e.g. [cluster] algorithm = \"raft\", nodes = 5")
        cluster, spec = self._cluster(top.table("cluster", "[cluster]"))
        ids = node_ids(cluster.nodes)
        workload = None
        if "workload" in top.data:
            workload, cluster = self._workload(top.table("workload", "[workload]"), spec, cluster)
        steps = self._steps(top.tables("step", "[[step]]"), ids, workload)
        nemesis = self._nemesis(workload) if "nemesis" in top.data else None
        if workload is None and not steps and nemesis is None:
            top.fail("nothing to run: give a [workload], [[step]]s or a [nemesis]")
        check = self._check(top.table("check", "[check]"), spec, workload, steps) if "check" in top.data else CheckSection()
        return Scenario(name=name, path=self.path, description=description, cluster=cluster, workload=workload,
                        steps=steps, nemesis=nemesis, check=check, quick_scale=quick_scale)

    def _unknown_top(self, key: str, value: Any) -> NoReturn:
        if isinstance(value, dict):
            shown = f"table [{key}]"
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            shown = f"table [[{key}]]"
        else:
            shown = f"key {key!r}"
        close = difflib.get_close_matches(key, list(_TOP), n=1, cutoff=0.6)
        known = ", ".join(_TOP.values())
        suggestion = _TOP[close[0]] if close else ""
        hint = f" (did you mean {suggestion if '[' in suggestion else repr(suggestion)}?)" if close else f" (known: {known})"
        self.top.fail(f"unknown {shown}{hint}", key)

    # -- [cluster] -------------------------------------------------------------

    def _cluster(self, t: _Table) -> tuple[ClusterSection, AlgorithmSpec]:
        name = t.require("algorithm", _string, 'algorithm = "raft"')
        spec = self._algorithm(t, name)
        most = min(spec.max_nodes or MAX_NODES, MAX_NODES)
        default = min(max(3, spec.min_nodes), most)
        nodes = t.get("nodes", _whole(spec.min_nodes, most, f" for {spec.name}"), default)
        settings = t.table("set", "[cluster.set]") if "set" in t.data else None
        # Any other key of [cluster] is a setting, as in [cluster.set] (bin = "./node" for Maelstrom).
        shorthand = _Table(self, "[cluster]", ("cluster",), {k: v for k, v in t.data.items() if k not in _CLUSTER_KEYS})
        for key in shorthand.data:
            if settings is not None and key in settings.data:
                shorthand.fail(f"{key} is set twice: here and in [cluster.set] (give it once)", key)
        merged = {**shorthand.data, **(settings.data if settings else {})}
        section = ClusterSection(algorithm=name, nodes=nodes, settings=merged)
        self._check_settings([shorthand, *([settings] if settings else [])], section)
        return section, spec

    def _algorithm(self, t: _Table, name: str) -> AlgorithmSpec:
        try:
            return get_algorithm(name)
        except KeyError as exc:
            if ":" in name:
                t.fail(exc.args[0], "algorithm")
            t.fail(f"unknown algorithm {name!r}{_hint(name, available())}", "algorithm")

    def _check_settings(self, tables: Sequence[_Table], section: ClusterSection) -> None:
        """As ``chaoslab up --set`` checks them: the algorithm's own check and config resolution.
        ``tables``: where the settings come from ([cluster]'s own keys, then [cluster.set])."""
        for t in tables:
            for key, where in (("nodes", "give the node count in [cluster] as nodes = N"),
                               ("seed", "the run's seed is chaoslab run --seed")):
                if key in t.data:
                    t.fail(f"{key} is not a setting: {where}", key)
        try:
            build_spec(section.algorithm, nodes=section.nodes, seed=1, overrides=section.overrides())
        except LabError as exc:
            message = str(exc)
            for t in reversed(tables):  # [cluster.set] wins a tie: the message is about its table first
                keys = [(k,) for k in t.data] + [(k, sub) for k, v in t.data.items() if isinstance(v, dict) for sub in v]
                named = [k for k in keys if re.search(rf"(?<!\w){re.escape(k[-1])}(?!\w)", message)]
                if named:
                    if t.label == "[cluster]":
                        close = difflib.get_close_matches(named[-1][0], _CLUSTER_KEYS, n=1, cutoff=0.6)
                        if close:  # a misspelt nodes or algorithm, not a setting
                            t.fail(f"unknown key {named[-1][0]!r} (did you mean {close[0]!r}?)", *named[-1])
                    t.fail(message, *named[-1])
            tables[-1].fail(message)

    # -- [workload] ------------------------------------------------------------

    def _workload(self, t: _Table, spec: AlgorithmSpec,
                  cluster: ClusterSection) -> tuple[WorkloadSection, ClusterSection]:
        """The [workload], and the cluster with the workload setting its kind implies (see
        :meth:`_kind`)."""
        t.only(tuple(dict.fromkeys(k for keys in _WORKLOAD_KEYS.values() for k in keys)))
        kind, cluster = self._kind(t, spec, cluster)
        for key in t.data:
            if key not in _WORKLOAD_KEYS[kind]:
                takes = [k for k in _WORKLOAD_KEYS if key in _WORKLOAD_KEYS[k]]
                which = ", ".join(takes[:-1]) + " and " + takes[-1] if len(takes) > 1 else takes[0]
                t.fail(f"{key} applies to {which} workloads only, not {kind}", key)
        section = WorkloadSection(
            kind=kind,
            clients=t.get("clients", _whole(1), 4),
            rate=t.get("rate", _positive, 100.0),
            keys=t.get("keys", _whole(1), 4),
            mix=self._mix(t, MIX_OPS[kind]) if "mix" in t.data else dict(DEFAULT_MIX.get(kind, {})),
            duration=t.get("duration", _period, 10.0),
            timeout=t.get("timeout", _period, 1.0),
            settle=t.get("settle", _period, 10.0),
        )
        return section, cluster

    def _kind(self, t: _Table, spec: AlgorithmSpec, cluster: ClusterSection) -> tuple[str, ClusterSection]:
        """``[workload] kind``, checked against what the algorithm serves. An algorithm whose
        nodes know their workload (``spec.workload_settings``: Maelstrom's ``workload``) takes it
        from the cluster's setting when ``kind`` is not given, gets the setting from ``kind``
        when it is not set, and refuses the two when they disagree."""
        serves = [kind for kind in WORKLOAD_KINDS if spec.serves(kind)]
        implied = spec.workload_settings
        setting = _setting(cluster, "workload") if implied else None
        kinds = {value: kind for kind, value in implied.items()}
        default = kinds.get(setting) if setting else None
        kind = t.get("kind", _choice(*WORKLOAD_KINDS), default or (serves[0] if serves else None))
        if kind is None:
            t.fail(f"{spec.name} serves no workload (kv needs the kv API, orders is Byzantine agreement's): "
                   "drop [workload] and drive the run with [[step]]s")
        if kind not in serves:
            other = (f"; its workloads are kind = {' | '.join(map(_show, serves))}" if len(serves) > 1 else
                     f"; its workload is kind = {_show(serves[0])}" if serves else "")
            t.fail(f"kind = {_show(kind)} does not apply to {spec.name}{other}", "kind")
        if implied and setting and implied.get(kind) != setting:
            t.fail(f"kind = {_show(kind)} but the cluster's workload = {_show(setting)}, which runs kind = "
                   f"{_show(kinds[setting])}: give one of them, or make them agree", "kind")
        if implied and not setting and kind in implied:
            cluster = replace(cluster, settings={**cluster.settings, "workload": implied[kind]})
        return kind, cluster

    @staticmethod
    def _mix(workload: _Table, ops: Sequence[str]) -> dict[str, float]:
        value = workload.data["mix"]
        if not isinstance(value, dict):
            example = ", ".join(f"{op} = {w}" for op, w in DEFAULT_MIX[workload.data.get("kind", "kv")].items())
            workload.fail(f"mix: must be a table like {{ {example} }}, got {_show(value)}", "mix")
        for op in value:
            if op not in ops:
                workload.fail(f"mix: unknown operation {op!r}{_hint(op, ops)}", "mix")
        try:
            weights = {op: _weight(value.get(op, 0.0)) for op in ops}
        except ValueError as exc:
            workload.fail(f"mix: a weight {exc}", "mix")
        if sum(weights.values()) <= 0:
            workload.fail("mix: the weights add up to 0: give at least one operation a weight above 0", "mix")
        return weights

    # -- [[step]] ----------------------------------------------------------------

    def _steps(self, tables: list[_Table], ids: list[str], workload: WorkloadSection | None) -> tuple[Step, ...]:
        steps = [self._step(t, ids, workload) for t in tables]
        named: dict[str, _Table] = {}
        for t, step in zip(tables, steps):
            if step.name and step.name in named:
                t.fail(f"name {step.name!r} is taken by {named[step.name].label}: step names are unique", "name")
            named[step.name] = t
        return tuple(sorted(steps, key=lambda s: s.at))  # file order among steps at the same time

    def _step(self, t: _Table, ids: list[str], workload: WorkloadSection | None) -> Step:
        t.only(_STEP_KEYS)
        actions = [key for key in t.data if key in ACTIONS]
        if not actions:
            t.fail(f"no action: give one of {', '.join(ACTIONS)}")
        if len(actions) > 1:
            t.fail(f"two actions, {actions[0]!r} and {actions[1]!r}: give each its own [[step]]", actions[1])
        action = actions[0]
        takes = _ACTION_OPTIONS[action]
        for key in t.data:
            if key not in ("at", "name", action, *takes):
                takes_text = f"it takes {', '.join(takes)}" if takes else "it takes no options"
                t.fail(f"{action} takes no {key!r} ({takes_text})", key)
        at = t.require("at", _duration, 'at = "3s"')
        undo = [key for key in _UNTIL_KEYS if key in t.data]
        if len(undo) > 1:
            t.fail(f"{undo[0]!r} and {undo[1]!r} say the same thing: give one", undo[1])
        until = at + t.get(undo[0], _period) if undo else None
        if workload is not None:
            end = workload.duration
            if at >= end:
                t.fail(f"at {format_duration(at)} is not before the end of the workload ({format_duration(end)})", "at")
            if until is not None and until > end:
                t.fail(f"{undo[0]} ends the fault at {format_duration(until)}, after the workload "
                       f"({format_duration(end)})", undo[0])
        options: dict[str, Any] = {}
        for key, convert in (("src", _node_list(ids)), ("dst", _node_list(ids)), ("jitter", _duration),
                             ("dist", _choice("uniform", "normal")), ("seed", _whole(0)), ("timeout", _period),
                             ("node", _node_list(ids))):
            if key in t.data:
                value = t.get(key, convert)
                options[key] = tuple(value.split(",")) if key in ("src", "dst") else value
        if action == "wait_for":
            options.setdefault("timeout", _DEFAULT_WAIT_S)
        args: dict[str, Any] = {}
        if action == "command":
            if "node" not in t.data:
                t.fail('missing node: a command goes to one node (e.g. node = "n1")')
            if "," in options["node"]:
                t.fail(f"node: a command goes to one node, got {_show(options['node'])}", "node")
            args = dict(t.table("args", "args = { value = \"attack\" }").data) if "args" in t.data else {}
        return Step(at=at, action=action, target=t.get(action, self._target(action, ids)), until=until,
                    options=options, args=args, name=t.get("name", _name, ""), line=self.lines.line(t.path))

    @staticmethod
    def _target(action: str, ids: list[str]) -> Callable[[Any], Any]:
        if action == "partition":
            return _partition(ids)
        if action in ("heal", "clear"):
            return _true(action)
        if action in ("crash", "pause"):
            return _node_list(ids, ("leader", "random", "all"))
        if action in ("restart", "resume"):
            plain = _node_list(ids, ("all",))
            refuse = _no_leader(action)
            return lambda value: refuse(value) if value in ("leader", "random") else plain(value)
        if action in ("drop", "duplicate", "reorder"):
            return _some
        if action == "delay":
            return _period
        if action == "wait_for":
            return _choice(*_WAIT_FOR)

        def command(value: Any) -> str:
            name = _string(value).strip()
            if not name:
                raise ValueError("names no command")
            return name
        return command

    # -- [nemesis] ---------------------------------------------------------------

    def _nemesis(self, workload: WorkloadSection | None) -> NemesisSection:
        value = self.top.data["nemesis"]
        if isinstance(value, (str, list)):  # nemesis = "partition,crash": the kinds, the rest by default
            t = _Table(self, "nemesis", ("nemesis",), {"kinds": value})
        else:
            t = self.top.table("nemesis", "[nemesis]")
        t.only(_NEMESIS_KEYS)
        kinds = t.require("kinds", _kinds, 'kinds = ["partition", "crash"]')
        interval = t.get("interval", _period, 3.0)
        hold = t.get("hold", _period, 1.5)
        if hold > interval:
            t.fail(f"hold {format_duration(hold)} is longer than interval {format_duration(interval)}: "
                   "faults would pile up", "hold")
        start = t.get("start", _duration, 0.0)
        stop = t.get("stop", _period, None)
        end = workload.duration if workload is not None else None
        if stop is None and end is None:
            t.fail("missing stop: with no [workload], say when the nemesis ends (e.g. stop = \"20s\")")
        if stop is not None and stop <= start:
            t.fail(f"stop {format_duration(stop)} is not after start {format_duration(start)}", "stop")
        if end is not None and start >= end:
            t.fail(f"start {format_duration(start)} is not before the end of the workload ({format_duration(end)})", "start")
        if end is not None and stop is not None and stop > end:
            t.fail(f"stop {format_duration(stop)} is after the end of the workload ({format_duration(end)})", "stop")
        return NemesisSection(kinds=kinds, interval=interval, hold=hold, seed=t.get("seed", _whole(0)),
                              start=start, stop=stop)

    # -- [check] -----------------------------------------------------------------

    def _check(self, t: _Table, spec: AlgorithmSpec, workload: WorkloadSection | None,
               steps: Sequence[Step]) -> CheckSection:
        t.only(_CHECK_KEYS)
        flags = {key: t.get(key, _flag) for key in _CHECK_KEYS if key not in ("leader_within", "expect", "availability")}
        leader_within = t.get("leader_within", _period)
        kind = workload.kind if workload is not None else None
        leads = any(spec.leads(role) for role in spec.roles)
        for key, needs in HISTORY_CHECKS.items():
            if flags[key] and kind != needs:
                t.fail(self._kind_check_error(key, needs, kind, spec), key)
        for key in ("election_safety", "one_coordinator"):
            if flags[key] and not leads:
                t.fail(f"{key} needs an algorithm whose nodes lead, and no role of {spec.name} does", key)
        if leader_within is not None and not leads:
            t.fail(f"leader_within needs an algorithm whose nodes lead, and no role of {spec.name} does", "leader_within")
        windows = tuple(self._availability(w, workload, steps) for w in t.tables("availability", "[[check.availability]]"))
        return CheckSection(**flags, leader_within=leader_within, availability=windows,
                            expect=t.get("expect", _choice(*_EXPECT), "valid"))

    @staticmethod
    def _kind_check_error(key: str, needs: str, kind: str | None, spec: AlgorithmSpec) -> str:
        """Why check ``key``, of a ``needs`` workload's history, does not apply to this run."""
        if needs == "orders":
            why = "add a [workload] of kind \"orders\"" if spec.serves("orders") else \
                f"it applies to Byzantine agreement, not {spec.name}"
            return f"agreement checks the orders' outcomes: {why}"
        if not spec.serves(needs):
            why = f"{spec.name} serves no kv API" if needs == "kv" else f"{spec.name} serves no {needs} workload"
        elif kind is None:
            why = f"add a [workload] of kind \"{needs}\""
        else:
            why = f"this run's workload is kind = \"{kind}\""
        return f"{key} checks a{'n' if needs[0] in 'aeio' else ''} {needs} workload's history: {why}"

    def _availability(self, t: _Table, workload: WorkloadSection | None, steps: Sequence[Step]) -> Availability:
        t.only(_AVAILABILITY_KEYS)
        if workload is None:
            t.fail("availability counts the workload's operations: add a [workload]")
        least = t.require("min", _fraction, "min = 0.5")
        during = t.get("during", _string, "")
        if during:
            if "start" in t.data or "end" in t.data:
                t.fail("give either during (a step's name) or start and end, not both", "during")
            start, end = self._window(t, during, steps, workload.duration)
        else:
            if "start" not in t.data or "end" not in t.data:
                t.fail("say which window: during = \"<a step's name>\", or start and end")
            start, end = t.get("start", _duration), t.get("end", _period)
            if end <= start:
                t.fail(f"end {format_duration(end)} is not after start {format_duration(start)}", "end")
            if end > workload.duration:
                t.fail(f"end {format_duration(end)} is after the end of the workload "
                       f"({format_duration(workload.duration)})", "end")
        return Availability(min=least, during=during, start=start, end=end)

    @staticmethod
    def _window(t: _Table, during: str, steps: Sequence[Step], end: float) -> tuple[float, float]:
        """A named step's fault window: until it is undone (``for``, or the next step that undoes
        it), else to the workload's end."""
        names = [s.name for s in steps if s.name]
        step = next((s for s in steps if s.name == during), None)
        if step is None:
            hint = _hint(during, names) if names else " (no step has a name: give one with name = \"...\")"
            t.fail(f"during = {_show(during)} names no step{hint}", "during")
        if step.action not in _ENDED_BY:
            t.fail(f"during = {_show(during)} names a {step.action} step, which starts no fault", "during")
        if step.until is not None:
            return step.at, step.until
        later = steps[steps.index(step) + 1:]
        undo = next((s for s in later if s.action in _ENDED_BY[step.action]), None)
        return step.at, undo.at if undo is not None else end


def _setting(cluster: ClusterSection, key: str) -> Any:
    """A cluster setting as given: ``key`` itself, or under the algorithm's own table."""
    own = cluster.settings.get(cluster.algorithm)
    if isinstance(own, dict) and key in own:
        return own[key]
    return cluster.settings.get(key)


def _scale(value: Any) -> float:
    scale = _number(value)
    if not 0 < scale <= 1:
        raise ValueError(f"must be above 0 and at most 1 (the quick profile's share of every time), got {value}")
    return scale


def _weight(value: Any) -> float:
    weight = _number(value)
    if weight < 0:
        raise ValueError(f"must be 0 or more, got {value}")
    return weight


def _kinds(value: Any) -> tuple[str, ...]:
    kinds = [k.strip() for k in _words(value).split(",")]
    for kind in kinds:
        if kind not in NEMESIS_KINDS:
            raise ValueError(f"unknown kind {kind!r}{_hint(kind, NEMESIS_KINDS)}")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"names a kind twice: {', '.join(kinds)}")
    return tuple(kinds)

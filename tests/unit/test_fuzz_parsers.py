"""Property-based fuzz of everything users type: the CLI's parsers (durations, probabilities,
node lists, partitions, fault lines), the scenario grammar, and the fault commands end to end.

For any input, a parser returns a value of the kind it promises or raises its one-line error
(ValueError, or LabError/ScenarioError for scenario files); a command exits 0 having made
exactly the change it describes, or exits 2 with one line on stderr and no change. Never
another exception, never a traceback. Examples are bounded so the file runs in seconds.
"""

from __future__ import annotations

import math
import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chaoslab.errors import LabError
from chaoslab.net import parse
from chaoslab.net.partitions import build, parse_spec
from chaoslab.net.rules import MAX_DELAY_S, LinkRule, fault_rule

# CHAOSLAB_FUZZ=10 runs ten times as many examples (a deeper hunt than CI's).
SCALE = int(os.environ.get("CHAOSLAB_FUZZ", "1"))
FAST = settings(max_examples=200 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NODES = ["n1", "n2", "n3", "n4", "n5"]

# Text near the grammars (their own pieces, shuffled) and anything at all.
PIECES = ["0", "1", "5", "20", "100", "1e3", ".5", "1.", "-", "+", "%", "ms", "s", "m", "h", "us", "µs", " ", ",",
          "n1", "n2", "n3", "n9", "->", "|", ":", "isolate", "leader", "random", "majority", "ring", "--", "nan",
          "inf", "\x00", "\n", "é", "'", '"', "--to", "--from", "--seed", "--jitter", "--dist", "normal", "drop",
          "delay", "duplicate", "reorder", "partition", "=", "999999999999h"]
near = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
typed = st.one_of(near, st.text(max_size=30))


def one_line(exc: BaseException) -> None:
    message = str(exc)
    assert message and "\n" not in message and "Traceback" not in message, repr(message)


def parses_or_says_why(parser: Any, text: str, valid: Any = lambda value: True) -> None:
    """``parser(text)`` gives a ``valid`` value or raises ValueError with one line."""
    try:
        value = parser(text)
    except ValueError as exc:
        one_line(exc)
    else:
        assert valid(value), (text, value)


class TestValueParsers:
    @FAST
    @given(typed)
    @example("1000000h")
    @example("1e400s")
    @example("-\n0")
    def test_duration(self, text: str) -> None:
        """A duration is a finite number of seconds, 0 or more; anything else is one line."""
        parses_or_says_why(parse.parse_duration, text, lambda seconds: math.isfinite(seconds) and seconds >= 0)

    @FAST
    @given(typed)
    def test_for(self, text: str) -> None:
        """--for is above 0 and at most a day."""
        parses_or_says_why(parse.parse_for, text, lambda seconds: 0 < seconds <= parse.MAX_FOR_S)

    @FAST
    @given(typed)
    @example("nan")
    @example("1e999%")
    def test_probability(self, text: str) -> None:
        """A probability is in 0..1."""
        parses_or_says_why(parse.parse_probability, text, lambda p: 0.0 <= p <= 1.0)

    @FAST
    @given(typed)
    def test_nodes_groups_and_cuts(self, text: str) -> None:
        """Node lists, groups and one-way cuts give valid, distinct ids, or one line."""
        for parser in (parse.parse_nodes, parse.parse_groups, parse.parse_one_way):
            parses_or_says_why(parser, text)

    @FAST
    @given(st.lists(typed, max_size=3), st.sampled_from([None, "n1", "n4"]), st.integers(0, 3))
    def test_partition_specs(self, words: list[str], leader: str | None, seed: int) -> None:
        """A partition spec and its shape on five nodes: blackhole rules between known nodes, or one line."""
        try:
            part = build(NODES, parse_spec(words), leader=leader, rng=random.Random(seed))
            rules = part.rules(expires_at=0.0)
        except ValueError as exc:
            one_line(exc)
        else:
            assert all(r.blackhole and set(r.src + r.dst) <= set(NODES) for r in rules)

    @FAST
    @given(typed)
    @example("delay 2m")
    @example("delay 50ms --jitter 70s")
    @example("drop 30% --to ''")
    @example("duplicate 5% --from n1 --to n2,n3 --seed 4")
    def test_fault_lines(self, text: str) -> None:
        """A fault line is a valid rule (delays within their bound) or one line."""
        parses_or_says_why(fault_rule, text, lambda rule: isinstance(rule, LinkRule)
                           and rule.delay_ms <= MAX_DELAY_S * 1e3 and rule.jitter_ms <= MAX_DELAY_S * 1e3)


# ---------------------------------------------------------------- scenario files

FAULTS = Path(__file__).resolve().parents[2] / "faults"
SHIPPED = sorted(p.read_text(encoding="utf-8") for p in FAULTS.glob("*.toml"))


@st.composite
def mutated_scenario(draw: st.DrawFn) -> str:
    """A shipped scenario with a few lines dropped, duplicated, or with a value swapped for another."""
    lines = draw(st.sampled_from(SHIPPED)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "value", "garble"]))
        if action == "drop":
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "value" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            value = draw(st.sampled_from(['"n9"', '"-5s"', "0", "-1", "1e400", "true", "[]", '"leader"', '"100%"',
                                          '"1000000h"', "{}", '"crash"', '"partition majority"', '""', "1.5", '"x"']))
            lines[i] = f"{key}= {value}"
        else:
            text = lines[i]
            j = draw(st.integers(0, len(text)))
            lines[i] = text[:j] + draw(st.text(max_size=4)) + text[j:]
    return "\n".join(lines) + "\n"


class TestScenarioGrammar:
    @settings(max_examples=200 * SCALE, deadline=None)
    @given(st.one_of(mutated_scenario(), st.text(max_size=200)))
    def test_parse_scenario_returns_a_scenario_or_one_line(self, text: str) -> None:
        """parse_scenario either builds a Scenario or raises ScenarioError/LabError with one line."""
        from chaoslab.chaos.parse import parse_scenario
        from chaoslab.chaos.scenario import Scenario

        try:
            scenario = parse_scenario(text, Path("faults/fuzz.toml"))
        except LabError as exc:
            one_line(exc)
        else:
            assert isinstance(scenario, Scenario)

    def test_every_shipped_scenario_parses(self) -> None:
        """The mutations start from valid files."""
        from chaoslab.chaos.parse import parse_scenario

        for text in SHIPPED:
            parse_scenario(text, Path("faults/x.toml"))


# ---------------------------------------------------------------- the fault commands, end to end


class Recorder:
    """A Cluster whose supervisor is a list: the changes the commands make."""

    def __init__(self, tmp: Path) -> None:
        from chaoslab.lab.cluster import Cluster
        from chaoslab.process.rundir import RunDir
        from chaoslab.process.spec import ClusterSpec

        run = RunDir(tmp / "fuzz")
        run.path.mkdir(exist_ok=True)
        ClusterSpec(name="fuzz", algorithm="raft", nodes=5, seed=1).save(run.spec)
        self.changes: list[Any] = []
        cluster = Cluster(run)
        cluster._change = self.change  # type: ignore[method-assign]
        cluster.leader = lambda: "n1"  # type: ignore[method-assign]
        self.cluster = cluster

    def change(self, change: Any) -> Any:
        from chaoslab.net.rules import FaultState

        self.changes.append(change)
        return FaultState(rules=tuple(change.add))


def run_main(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> int:
    """chaoslab's own main on ``args``; its exit code."""
    from chaoslab import cli

    monkeypatch.setattr(sys, "argv", ["chaoslab", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    return int(done.value.code or 0)


COMMAND = st.sampled_from(["drop", "delay", "duplicate", "reorder", "partition"])
OPTION = st.sampled_from(["--to", "--from", "--for", "--seed", "--jitter", "--dist", "--isolate", "--majority", "--ring",
                          "--bogus", "--"])


class TestFaultCommands:
    @settings(max_examples=100 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(COMMAND, st.lists(st.one_of(near, OPTION, st.text(max_size=8)), max_size=5))
    @example("drop", ["20%", "--to", "n2,n3", "--for", "10s"])
    @example("partition", ["n1,n2", "n3,n4,n5"])
    @example("drop", ["20%", "--to", ""])
    @example("delay", ["1000000h"])
    @example("drop", ["10%", "--for", "1000000h"])
    def test_exit_0_with_the_change_or_2_with_one_line_and_none(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str], command: str,
                                                                 words: list[str]) -> None:
        """Any words after a fault command: exit 0 and one change of valid rules, or exit 2 with one
        line on stderr and nothing changed."""
        from chaoslab import cli

        recorder = Recorder(tmp_path)
        monkeypatch.setattr(cli, "find_cluster", lambda name, stale_ok=False: recorder.cluster)
        capsys.readouterr()
        code = run_main(monkeypatch, [command, *words])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if code == 0:
            assert len(recorder.changes) == 1
            change = recorder.changes[0]
            assert all(set(r.src + r.dst) <= set(NODES) for r in change.add)
            assert all(r.delay_ms <= MAX_DELAY_S * 1e3 for r in change.add)
            assert all(not r.expires_at or r.expires_at > 0 for r in change.add)
        else:
            assert code == 2, (code, err)
            assert recorder.changes == []
            assert len([line for line in err.splitlines() if line.strip()]) == 1, err

"""A cluster definition's initial faults: the CLI's fault grammar, parsed and checked at `up`."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoslab.errors import LabError
from chaoslab.lab.spec import build_spec
from chaoslab.net.parse import parse_fault
from chaoslab.net.rules import fault_rule
from chaoslab.process.spec import ClusterSpec


class TestParseFault:
    @pytest.mark.parametrize(("text", "kind", "args"), [
        ("drop 30%", "drop", {"p": 0.3}),
        ("duplicate 0.05 --from n1 --to n2,n3 --seed 4", "duplicate", {"p": 0.05, "src": ["n1"], "dst": ["n2", "n3"], "seed": 4}),
        ("delay 40ms --jitter 20ms", "delay", {"delay_s": 0.04, "jitter_s": 0.02}),
        ("delay 1s --jitter=5ms --dist normal", "delay", {"delay_s": 1.0, "jitter_s": 0.005, "dist": "normal"}),
        ("reorder 10% --to n2", "reorder", {"p": 0.1, "dst": ["n2"]}),
    ])
    def test_the_cli_grammar(self, text, kind, args) -> None:
        """A line reads as the command would: kind, amount, then --from/--to/--seed (and delay's own)."""
        assert parse_fault(text) == (kind, args)

    @pytest.mark.parametrize(("text", "message"), [
        ("", "empty fault"),
        ("partition n1 n2", "'partition' is not a link fault"),
        ("drop", "drop needs an amount"),
        ("drop 130%", "'drop 130%': 130% is more than 100%"),
        ("drop 5% --for 10s", "lasts until removed"),
        ("drop 5% --jitter 1ms", "drop takes no option '--jitter'"),
        ("delay 5", "5 has no unit"),
        ("delay 5ms --dist odd", "--dist takes uniform or normal"),
        ("drop 5% --to", "--to needs a value"),
        ("drop 5% --seed x", "--seed takes a whole number"),
    ])
    def test_bad_lines_are_one_line_errors(self, text, message) -> None:
        with pytest.raises(ValueError, match=message) as info:
            parse_fault(text)
        assert "\n" not in str(info.value)

    def test_fault_rule_builds_the_same_rule_as_the_command(self) -> None:
        """`drop 30%` in a definition is the rule `chaoslab drop 30%` adds."""
        rule = fault_rule("drop 30% --to n2")
        assert (rule.kind, rule.drop, rule.dst, rule.describe()) == ("drop", 0.3, ("n2",), "drop 30% *->n2")


def definition(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "def.toml"
    path.write_text('algorithm = "raft"\nnodes = 3\n' + text)
    return path


class TestBuildSpec:
    def test_faults_come_from_the_definition_and_reach_the_cluster_file(self, tmp_path: Path) -> None:
        spec = build_spec("raft", definition=definition(tmp_path, 'faults = ["drop 30%", "delay 5ms --to n3"]\n'))
        assert spec.faults == ["drop 30%", "delay 5ms --to n3"]
        assert ClusterSpec.from_json(spec.to_json()).faults == spec.faults

    def test_set_replaces_them(self, tmp_path: Path) -> None:
        """--set faults=[] (a top-level key, not the algorithm's) removes them; --set can add some too."""
        path = definition(tmp_path, 'faults = ["drop 30%"]\n')
        assert build_spec("raft", definition=path, overrides=["faults=[]"]).faults == []
        assert build_spec("raft", definition=path, overrides=['faults=["duplicate 5%"]']).faults == ["duplicate 5%"]
        assert build_spec("raft").faults == []

    @pytest.mark.parametrize(("faults", "message"), [
        ('["drop 120%"]', "faults: 'drop 120%': 120% is more than 100%"),
        ('["drop 5% --to n9"]', "unknown node 'n9' \\(nodes: n1, n2, n3\\)"),
        ("3", "faults must be a list"),
    ])
    def test_bad_faults_stop_up_before_anything_runs(self, tmp_path: Path, faults, message) -> None:
        with pytest.raises(LabError, match=message):
            build_spec("raft", definition=definition(tmp_path, f"faults = {faults}\n"))

    def test_max_nodes_bounds_nodes(self) -> None:
        """An algorithm's max_nodes is the upper bound `up` enforces, said in one line."""
        with pytest.raises(LabError, match="--nodes must be 2 for twogenerals, got 3"):
            build_spec("twogenerals", nodes=3)
        assert build_spec("twogenerals").nodes == 2

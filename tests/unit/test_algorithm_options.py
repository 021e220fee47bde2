"""What `up` does with an algorithm's own options, and with choices made once for the whole cluster."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chaoslab.algorithms.registry import get_algorithm
from chaoslab.cli import algorithm_options
from chaoslab.errors import LabError
from chaoslab.lab.spec import build_spec
from chaoslab.sim import Simulation


def _pick_two(config: Any, nodes: list[str], rng: Any) -> dict[str, Any]:
    if config.get("picked", 2) >= len(nodes):
        raise ValueError(f"picked must be below the node count ({len(nodes)})")
    return {**config, "chosen": sorted(rng.sample(nodes, config.get("picked", 2)))}


# A raft that also records a seeded choice, by module:attr reference (see test_resolved_config_*).
RAFT = get_algorithm("raft")
PICKY = dataclasses.replace(
    RAFT, name="picky", check_config=lambda c: None, resolve_config=_pick_two,
    factory=lambda node, nodes, config, rng, durable: RAFT.factory(node, nodes, {}, rng, durable),
)


class TestAlgorithmOptions:
    @pytest.mark.parametrize(
        ("words", "overrides"),
        [
            (["--traitors", "2"], ["traitors=2"]),
            (["--traitor-ids", "n3,n5", "--protocol=sm"], ["traitor_ids=n3,n5", "protocol=sm"]),
            (["--quorum"], ["quorum=true"]),
            (["--quorum", "--traitors", "1"], ["quorum=true", "traitors=1"]),
            ([], []),
        ],
    )
    def test_options_become_overrides(self, words: list[str], overrides: list[str]) -> None:
        """--key value, --key=value and bare flags map to the algorithm's section; dashes become underscores."""
        assert algorithm_options(words) == overrides

    def test_a_stray_word_is_refused(self) -> None:
        """A positional word after the algorithm is an error, not silently dropped."""
        with pytest.raises(LabError, match="unexpected argument 'stray'"):
            algorithm_options(["--traitors", "1", "stray"])


class TestProgramArguments:
    def test_arg_adds_one_argument_as_it_is(self) -> None:
        """--arg takes the next word verbatim, even one that looks like an option or a number."""
        assert algorithm_options(["--arg", "--verbose", "--arg=5", "--bin", "x"]) == ["bin=x", 'args+="--verbose"', 'args+="5"']

    def test_args_then_arg_in_order_whatever_the_order_given(self) -> None:
        """Each --arg comes after the --args list, even when written before it, and after --set / the file."""
        overrides = algorithm_options(["--bin", "node", "--arg", "b c", "--args", '["a"]', "--arg", 'q"\\é\x7f'])
        config = build_spec("maelstrom", seed=1, overrides=overrides).config
        assert config["bin"] == "node" and config["args"] == ["a", "b c", 'q"\\é\x7f']
        config = build_spec("maelstrom", seed=1, overrides=['args=["-x"]', *algorithm_options(["--bin", "node", "--arg", "y"])]).config
        assert config["args"] == ["-x", "y"]

    def test_a_missing_value_is_one_line(self) -> None:
        with pytest.raises(LabError, match="^--arg needs a value: one argument for the program"):
            algorithm_options(["--bin", "x", "--arg"])

    def test_appending_to_what_is_not_a_list_is_refused(self) -> None:
        """KEY+=VALUE is generic (faults too); a key holding a scalar is a one-line error."""
        assert build_spec("maelstrom", seed=1, overrides=["bin=x", 'faults+="drop 10%"']).faults == ["drop 10%"]
        with pytest.raises(LabError, match=r"--set bin\+=y: bin is not a list"):
            build_spec("maelstrom", seed=1, overrides=["bin=x", "bin+=y"])

    def test_an_algorithm_without_a_program_refuses_arg(self) -> None:
        with pytest.raises(LabError, match="raft config: .*args"):
            build_spec("raft", seed=1, overrides=algorithm_options(["--arg", "x"]))


class TestResolvedConfig:
    def test_resolved_config_is_seeded_and_written_down(self) -> None:
        """The same seed makes the same cluster-wide choice; it lands in the config every node reads."""
        a = build_spec("test_algorithm_options:PICKY", nodes=5, seed=11)
        b = build_spec("test_algorithm_options:PICKY", nodes=5, seed=11)
        assert a.config["chosen"] == b.config["chosen"] and len(a.config["chosen"]) == 2
        assert set(a.config["chosen"]) <= set(a.node_ids)

    def test_resolve_errors_are_one_line_lab_errors(self) -> None:
        """A choice impossible for this many nodes is bad input, named by the algorithm's section."""
        with pytest.raises(LabError, match=r"picky config: picked must be below the node count \(3\)"):
            build_spec("test_algorithm_options:PICKY", nodes=3, seed=1, overrides=["picked=3"])

    def test_the_simulator_makes_the_same_choice(self) -> None:
        """Simulation resolves the config from its seed exactly as `up` does."""
        sim = Simulation(PICKY, 5, seed=11)
        assert sim.config["chosen"] == build_spec("test_algorithm_options:PICKY", nodes=5, seed=11).config["chosen"]

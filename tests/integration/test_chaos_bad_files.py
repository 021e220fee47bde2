"""Malformed scenario files through the real command line: one line on stderr naming the file
and line, exit 2, no traceback, and no cluster started (the home directory stays empty).

The parser's unit tests (tests/unit/test_scenario_parse.py) hold the exact message of every
kind; this proves the shell around it: a user typing `chaoslab run bad.toml` sees one line.
"""

from __future__ import annotations

import pytest

from chaoslab.testing import run_cli

pytestmark = pytest.mark.integration

GOOD = """\
[cluster]
algorithm = "raft"
nodes = 3
[workload]
duration = "4s"
rate = 20
[[step]]
at = "1s"
partition = "isolate:leader"
for = "1s"
"""

# (what is wrong, the file, a fragment the one line must hold)
CASES = [
    ("toml syntax", GOOD.replace('duration = "4s"', "duration = 4s"), "bad.toml:5:"),
    ("unknown table", GOOD + "[chekc]\nlinearizable = true\n", "did you mean [check]?"),
    ("unknown step key", GOOD.replace('partition = "isolate:leader"', 'partiton = "isolate:leader"'),
     "did you mean 'partition'"),
    ("two actions", GOOD.replace('for = "1s"', 'for = "1s"\nheal = true'), "bad.toml:"),
    ("no action", GOOD.replace('partition = "isolate:leader"\nfor = "1s"\n', ""), "bad.toml:"),
    ("wrong type", GOOD.replace("nodes = 3", 'nodes = "five"'), "nodes"),
    ("impossible count", GOOD.replace("nodes = 3", "nodes = 0"), "nodes"),
    ("unknown algorithm", GOOD.replace('"raft"', '"rafft"'), "did you mean 'raft'"),
    ("bad duration", GOOD.replace('for = "1s"', 'for = "1 fortnight"'), "bad.toml:"),
    ("step after the end", GOOD.replace('at = "1s"', 'at = "9s"'), "bad.toml:"),
    ("unknown node", GOOD.replace('partition = "isolate:leader"', 'partition = "n1,n9 n2,n3"'), "n9"),
    ("probability", GOOD.replace('partition = "isolate:leader"\nfor = "1s"', 'drop = "150%"'), "bad.toml:"),
    ("check that does not apply", GOOD + "[check]\nagreement = true\n", "agreement"),
    ("empty file", "", "bad.toml"),
]


@pytest.mark.parametrize(("what", "text", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_a_malformed_file_gets_one_line_and_exit_2(what, text, fragment, tmp_path):
    home = tmp_path / "home"
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    good = tmp_path / "good.toml"
    good.write_text(GOOD)
    # The good file first: nothing may start while any file of the command line is bad.
    result = run_cli(home, "run", str(good), str(bad), "--quick", timeout=30)
    assert result.returncode == 2, (what, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, (what, result.stderr)
    assert "Traceback" not in result.stderr
    assert fragment in lines[0], (what, lines[0])
    assert result.stdout == ""
    assert not home.exists() or not any(home.iterdir()), f"{what}: something was created in {home}"

"""`chaoslab maelstrom test`: Maelstrom's options written out as a scenario file that the
scenario parser takes as it is, with the workload, clients and nemesis they mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoslab.algorithms.maelstrom.adapters.testcmd import clients_for, nemesis_kinds, scenario_toml
from chaoslab.chaos.parse import load_scenario


def parsed(tmp_path: Path, **options):
    path = tmp_path / "s.toml"
    path.write_text(scenario_toml(**options))
    return load_scenario(path)


@pytest.mark.parametrize(("workload", "kind"), [("lin-kv", "kv"), ("echo", "echo"), ("broadcast", "broadcast"),
                                                ("g-counter", "g-counter")])
def test_each_workload_becomes_a_scenario_of_its_kind(tmp_path: Path, workload: str, kind: str) -> None:
    s = parsed(tmp_path, workload=workload, bin="./node.py", nodes=5, time_limit=20, rate=10)
    assert s.name == f"maelstrom-{workload}" and s.cluster.algorithm == "maelstrom" and s.cluster.nodes == 5
    assert s.cluster.settings["bin"] == "./node.py" and s.cluster.settings["workload"] == workload
    assert (s.workload.kind, s.workload.rate, s.workload.duration, s.workload.clients) == (kind, 10, 20, 5)
    assert s.nemesis is None


def test_the_nemesis_is_maelstroms_faults_half_the_time(tmp_path: Path) -> None:
    """partition, kill, pause are partition, crash, pause here; a fault every interval, held half of it."""
    s = parsed(tmp_path, workload="broadcast", bin="b", time_limit=30, nemesis="partition,kill,pause",
               topology="line", args=["--fast", 'say "hi"'])
    assert s.nemesis.kinds == ("partition", "crash", "pause")
    assert (s.nemesis.interval, s.nemesis.hold) == (10.0, 5.0)  # Maelstrom's default interval
    assert s.cluster.settings["topology"] == "line" and s.cluster.settings["args"] == ["--fast", 'say "hi"']
    short = parsed(tmp_path, workload="echo", bin="e", time_limit=6, nemesis="pause")
    assert (short.nemesis.interval, short.nemesis.hold) == (2.0, 1.0)  # faults still come in a short run
    assert parsed(tmp_path, workload="echo", bin="e", time_limit=6, nemesis="kill", nemesis_interval=4).nemesis.interval == 4


def test_the_command_line_heads_the_file(tmp_path: Path) -> None:
    text = scenario_toml(workload="echo", bin="./e", command="chaoslab maelstrom test -w echo --bin ./e")
    assert text.splitlines()[0] == "# chaoslab maelstrom test -w echo --bin ./e"


@pytest.mark.parametrize(("concurrency", "nodes", "want"), [("4", 3, 4), ("2n", 5, 10), ("1n", 3, 3), (" 3 n ", 2, 6)])
def test_concurrency_is_a_count_or_a_multiple_of_the_nodes(concurrency: str, nodes: int, want: int) -> None:
    assert clients_for(concurrency, nodes) == want


@pytest.mark.parametrize(("options", "message"), [
    ({"workload": "txn-rw-register"}, "-w/--workload must be one of lin-kv, echo, broadcast, g-counter"),
    ({"concurrency": "0"}, "--concurrency must be a count like 4"),
    ({"concurrency": "n"}, "--concurrency must be a count like 4"),
    ({"nemesis": "partition,crash"}, "--nemesis: unknown fault 'crash' (known: partition, kill, pause)"),
    ({"time_limit": 0}, "--time-limit must be above 0"),
    ({"rate": -1}, "--rate must be above 0"),
    ({"nemesis": "kill", "nemesis_interval": 10}, "--nemesis-interval must be above 0 and below --time-limit (10s)"),
])
def test_what_no_scenario_could_hold_is_one_line_naming_the_option(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        scenario_toml(**{"workload": "echo", "bin": "e", **options})
    assert nemesis_kinds("") == []

"""`up maelstrom --workload broadcast`: the host sends each program Maelstrom's topology after
init, serves only once it is acknowledged, and does so again for a restarted node."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chaoslab import Cluster
from chaoslab.testing import cli_ok, run_cli, wait_until
from chaoslab.wire.status import node_statuses

NODES = Path(__file__).resolve().parents[1] / "plugins" / "maelstrom_nodes"


def topology_events(cluster: Cluster, node: str) -> list[dict]:
    lines = cluster.run.events.read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == "topology" and e["source"] == node]


@pytest.mark.skipif(shutil.which("node") is None, reason="node (Node.js) is not installed: broadcast.js needs it")
def test_broadcast_nodes_get_the_topology_and_again_after_a_restart(home: Path) -> None:
    """--topology line on the command line: status shows each node's neighbours, and the
    program got them (its log says so); a restarted n2 gets them again before it serves."""
    cli_ok(home, "up", "maelstrom", "--bin", str(NODES / "broadcast.js"), "--workload", "broadcast",
           "--topology", "line", "--nodes", "3")
    cluster = Cluster.find(home=home)
    statuses = node_statuses(cluster.status())
    assert {n: s["maelstrom"]["topology"] for n, s in statuses.items()} == {"n1": ["n2"], "n2": ["n1", "n3"], "n3": ["n2"]}
    assert all(s["maelstrom"]["ready"] for s in statuses.values())
    assert "neighbours n1 n3" in cluster.log_path("n2").read_text()
    assert len(topology_events(cluster, "n2")) == 1

    cluster.crash("n2")
    cluster.restart("n2", settle=10)
    wait_until(lambda: len(topology_events(cluster, "n2")) == 2, timeout=10, what="n2's second topology_ok")
    assert cluster.command("n2", "client", {"body": {"type": "read"}})["type"] == "read_ok"
    assert node_statuses(cluster.status())["n2"]["maelstrom"]["topology"] == ["n1", "n3"]
    assert cluster.log_path("n2").read_text().count("neighbours n1 n3") == 2


def test_a_program_that_never_answers_topology_fails_up_in_one_line(home: Path) -> None:
    """echo.py ignores topology: `up` gives up after init_timeout_ms with one line, exit 2."""
    result = run_cli(home, "up", "maelstrom", "--bin", str(NODES / "echo.py"), "--workload", "broadcast",
                     "--init-timeout-ms", "1000", "--nodes", "2")
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "the program did not answer topology with topology_ok within 1s" in lines[0], result.stderr

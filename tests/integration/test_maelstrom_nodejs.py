"""Maelstrom nodes written in Node.js (tests/plugins/maelstrom_nodes/*.js) as real chaoslab
clusters: a language other than Python speaks the protocol unmodified, through the fault proxy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from chaoslab import Cluster, LabError
from chaoslab.testing import cli_ok, holds_for, wait_until

NODE = shutil.which("node")
if NODE is None:
    pytest.skip("node (Node.js) is not installed: the Node.js Maelstrom test nodes need it", allow_module_level=True)

NODES = Path(__file__).resolve().parents[1] / "plugins" / "maelstrom_nodes"


def up(home: Path, program: str, nodes: int = 3, **settings: Any) -> Cluster:
    overrides = [f"bin={NODES / program}", *(f"{k}={v}" for k, v in settings.items())]
    return Cluster.up("maelstrom", nodes=nodes, home=home, overrides=overrides, timeout=20)


def ask(cluster: Cluster, node: str, timeout: float = 5.0, **body: Any) -> Any:
    return cluster.command(node, "client", {"body": body}, timeout=timeout)


def test_echo_by_shebang(home: Path) -> None:
    """echo.js run as --bin itself (its #!/usr/bin/env node line): every node echoes what it got."""
    with up(home, "echo.js") as cluster:
        for node in cluster.node_ids:
            reply = ask(cluster, node, type="echo", echo=f"hello {node}")
            assert (reply["type"], reply["echo"]) == ("echo_ok", f"hello {node}") and "in_reply_to" in reply
        assert ask(cluster, "n1", type="frobnicate")["code"] == 10  # not supported, as Maelstrom's codes say


def test_echo_through_node_and_arg_on_the_command_line(home: Path) -> None:
    """`up maelstrom --bin node --arg echo.js` as a user types it; `send` gets the echo back."""
    cli_ok(home, "up", "maelstrom", "--bin", NODE, "--arg", str(NODES / "echo.js"), "--nodes", "2")
    reply = json.loads(cli_ok(home, "send", "n2", '{"type": "echo", "echo": "from the CLI"}'))
    assert (reply["type"], reply["echo"]) == ("echo_ok", "from the CLI")


def reads(cluster: Cluster, nodes: list[str] | None = None) -> dict[str, set[int]]:
    """What each node's program says it has (``read``)."""
    return {n: set(ask(cluster, n, type="read")["messages"]) for n in nodes or cluster.node_ids}


def test_broadcast_reaches_every_node_also_across_a_healed_partition(home: Path) -> None:
    """Five nodes in Maelstrom's grid: a broadcast reaches all; one sent while n1 n2 are cut off
    from n3 n4 n5 reaches its own side only, and the other side once healed; a restarted node
    catches up on everything."""
    with up(home, "broadcast.js", nodes=5, workload="broadcast") as cluster:
        assert ask(cluster, "n3", type="broadcast", message=1)["type"] == "broadcast_ok"
        wait_until(lambda: all(m == {1} for m in reads(cluster).values()), timeout=10, what="1 at every node")

        cluster.partition("n1,n2", "n3,n4,n5")
        assert ask(cluster, "n1", type="broadcast", message=2)["type"] == "broadcast_ok"
        wait_until(lambda: reads(cluster, ["n1", "n2"]) == {"n1": {1, 2}, "n2": {1, 2}}, timeout=10, what="2 on n1's side")
        assert holds_for(lambda: all(m == {1} for m in reads(cluster, ["n3", "n4", "n5"]).values()), 0.5)
        cluster.heal()
        wait_until(lambda: all(m == {1, 2} for m in reads(cluster).values()), timeout=10, what="2 everywhere after heal")

        cluster.crash("n5")
        assert ask(cluster, "n4", type="broadcast", message=3)["type"] == "broadcast_ok"
        cluster.restart("n5", settle=10)
        wait_until(lambda: reads(cluster, ["n5"])["n5"] == {1, 2, 3}, timeout=10, what="the restarted n5 caught up")


def value(cluster: Cluster, node: str) -> int:
    return ask(cluster, node, type="read")["value"]


def test_g_counter_sums_every_nodes_adds(home: Path) -> None:
    """Adds at every node: each reads the sum. n3 cut off: its add stays its own until healed."""
    with up(home, "g_counter.js", workload="g-counter") as cluster:
        for delta, node in zip((1, 2, 3), cluster.node_ids):
            assert ask(cluster, node, type="add", delta=delta)["type"] == "add_ok"
        wait_until(lambda: all(value(cluster, n) == 6 for n in cluster.node_ids), timeout=10, what="every node at 6")

        cluster.partition("isolate:n3")
        ask(cluster, "n3", type="add", delta=10)
        assert value(cluster, "n3") == 16
        assert holds_for(lambda: value(cluster, "n1") == 6 and value(cluster, "n2") == 6, 0.5)
        cluster.heal()
        wait_until(lambda: all(value(cluster, n) == 16 for n in cluster.node_ids), timeout=10, what="every node at 16")


def test_lin_kv_forwards_to_n1(home: Path) -> None:
    """Writes and reads at any node go to n1's map: what one node wrote, another reads; error
    codes 20 and 22 come back as Maelstrom defines them; a cut-off node cannot answer."""
    with up(home, "lin_kv.js", workload="lin-kv") as cluster:
        assert ask(cluster, "n2", type="write", key="x", value=1)["type"] == "write_ok"
        assert ask(cluster, "n3", type="read", key="x")["value"] == 1
        assert ask(cluster, "n3", type="cas", key="x", **{"from": 1, "to": 2})["type"] == "cas_ok"
        assert ask(cluster, "n1", type="read", key="x")["value"] == 2
        assert ask(cluster, "n2", type="cas", key="x", **{"from": 1, "to": 3})["code"] == 22
        assert ask(cluster, "n2", type="read", key="y")["code"] == 20
        cluster.partition("isolate:n3")
        with pytest.raises(LabError, match="did not answer"):
            ask(cluster, "n3", type="read", key="x", timeout=1.0)
        cluster.heal()
        assert ask(cluster, "n3", type="read", key="x")["value"] == 2

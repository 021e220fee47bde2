"""An algorithm from outside chaoslab (tests/plugins/echo) runs as a real cluster: every command works on it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from chaoslab.testing import run_cli as run

pytestmark = pytest.mark.usefixtures("plugin_algorithms")


def status(home: Path) -> dict[str, Any]:
    result = run(home, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_status(home: Path, predicate: Any, what: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        snap = status(home)
        if predicate(snap):
            return snap
        assert time.monotonic() < deadline, f"{what} not reached within {timeout:g}s: {snap}"
        time.sleep(0.1)


def everyone_follows(leader: str) -> Any:
    """Every node not crashed is up, answers, and follows ``leader`` (a restarted node counts
    only once the supervisor reports it up and it answers status)."""
    return lambda snap: all(
        n["state"] == "up" and n["leader"] == leader for n in snap["nodes"] if n["state"] != "crashed"
    )


class TestEchoCluster:
    def test_up_status_dashboard_crash_restart_down(self, home: Path) -> None:
        """up by entry-point name, status (JSON and table with the spec's columns), dashboard --once
        with the plug-in's panel, crash of the node everyone follows, restart with its durable state."""
        up = run(home, "up", "echo", "--nodes", "3", "--seed", "4")
        assert up.returncode == 0, up.stderr
        snap = wait_status(home, everyone_follows("n1"), "all following n1")
        assert snap["algorithm"] == "echo"
        assert [n["role"] for n in snap["nodes"]] == ["lowest", "member", "member"]
        assert all(n["status"]["echo"]["alive"] for n in snap["nodes"])  # detail crossed the wire as JSON

        table = run(home, "status")
        assert table.returncode == 0, table.stderr
        header = next(line for line in table.stdout.splitlines() if line.lstrip().startswith("node"))
        assert header.split() == ["node", "pid", "state", "role", "boot", "leader", "pings", "alive", "heard"]

        frame = run(home, "dashboard", "--once")
        assert frame.returncode == 0, frame.stderr
        assert "echo" in frame.stdout and "hears" in frame.stdout

        ping = run(home, "ping", "n2")  # the plug-in's own command, through Node.Command
        assert ping.returncode == 0, ping.stderr
        assert ping.stdout.startswith("n2 pinged 2 peers (round ")
        refused = run(home, "ping", "n9")
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "unknown node 'n9'" in refused.stderr

        crash = run(home, "crash", "leader")
        assert crash.returncode == 0, crash.stderr
        assert "n1" in crash.stdout
        wait_status(home, everyone_follows("n2"), "all following n2")

        restart = run(home, "restart", "n1")
        assert restart.returncode == 0, restart.stderr
        snap = wait_status(home, everyone_follows("n1"), "all following n1 again")
        assert snap["nodes"][0]["term"] == 2  # its boot counter survived the crash on disk

        assert run(home, "down").returncode == 0

"""Bully as real processes through the CLI: failover and bully-back, split brain under a
partition and one coordinator after heal, and the quorum variant beside it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from chaoslab.testing import cli_ok as ok
from chaoslab.testing import run_cli as run


def status(home: Path, name: str) -> dict[str, Any]:
    return json.loads(ok(home, "status", "--json", "--name", name))


def wait_status(home: Path, name: str, predicate: Any, what: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        snap = status(home, name)
        if predicate(snap):
            return snap
        assert time.monotonic() < deadline, f"{what} not reached within {timeout:g}s: {summary(snap)}"
        time.sleep(0.1)


def summary(snap: dict[str, Any]) -> list[tuple]:
    return [(n["id"], n["state"], n["role"], n["term"], n["leader"]) for n in snap["nodes"]]


def coordinators(snap: dict[str, Any]) -> list[str]:
    return [n["id"] for n in snap["nodes"] if n["role"] == "coordinator"]


def all_follow(leader: str, among: tuple[str, ...] = ()) -> Any:
    def check(snap: dict[str, Any]) -> bool:
        up = [n for n in snap["nodes"] if n["state"] == "up" and (not among or n["id"] in among)]
        return bool(up) and all(n["leader"] == leader for n in up) and coordinators(snap) == [leader]

    return check


def events(home: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ok(home, "events", "--json", "--name", name).splitlines() if line.strip()]


class TestBullyCluster:
    def test_failover_and_bully_back(self, home: Path) -> None:
        """up bully: all follow n5; crash n5: n4 takes over within two seconds; restart n5: it
        bullies back at a newer epoch. status --json has the coordinator in leader, the epoch in term."""
        ok(home, "up", "bully", "--nodes", "5", "--seed", "3")
        snap = wait_status(home, "bully", all_follow("n5"), "all following n5")
        epoch = snap["nodes"][4]["term"]
        assert epoch >= 1 and snap["nodes"][4]["status"]["bully"]["priority"] == 5

        assert "n5" in ok(home, "crash", "leader")
        snap = wait_status(home, "bully", all_follow("n4"), "n4 taking over", timeout=5.0)
        # Timed by the event log (the CLI's own start-up is not the cluster's failover).
        log = events(home, "bully")
        crashed = max(e["time"] for e in log if e["kind"] == "crash" and e.get("node") == "n5")
        took = min(e["time"] for e in log if e["source"] == "n4" and e["kind"] == "role" and e["role"] == "coordinator"
                   and e["time"] >= crashed)
        assert 0 < took - crashed < 2.0
        assert snap["nodes"][3]["term"] > epoch

        ok(home, "restart", "n5")
        snap = wait_status(home, "bully", all_follow("n5"), "n5 bullying back", timeout=5.0)
        assert snap["nodes"][4]["term"] > snap["nodes"][3]["term"] - 1 >= epoch
        assert ok(home, "down") is not None

    def test_split_brain_and_quorum_side_by_side(self, home: Path) -> None:
        """Two clusters under the same partition n1,n2,n3 | n4,n5: plain Bully gets 2 coordinators (n3 and n5) and says so in events and
        the dashboard; with bully.quorum=true only n3 leads. After heal, n5 alone leads in both."""
        ok(home, "up", "bully", "--name", "plain", "--seed", "5")
        ok(home, "up", "bully", "--name", "quorum", "--seed", "5", "--set", "bully.quorum=true")
        for name in ("plain", "quorum"):
            wait_status(home, name, all_follow("n5"), f"{name}: all following n5")
            ok(home, "partition", "n1,n2,n3", "n4,n5", "--name", name)

        split = wait_status(home, "plain", lambda s: sorted(coordinators(s)) == ["n3", "n5"], "plain: two coordinators")
        assert {n["id"]: n["leader"] for n in split["nodes"]} == {"n1": "n3", "n2": "n3", "n3": "n3", "n4": "n5", "n5": "n5"}
        wait_status(home, "quorum", lambda s: coordinators(s) == ["n3"], "quorum: n3 alone leads")

        deadline = time.monotonic() + 10
        while not any(e["kind"] == "leaders" and e.get("count") == 2 for e in events(home, "plain")):
            assert time.monotonic() < deadline, "no '2 coordinators' event"
            time.sleep(0.2)
        frame = ok(home, "dashboard", "--once", "--name", "plain")
        assert "2 coordinators" in frame
        assert "2 coordinators" in ok(home, "events", "--name", "plain")

        # The quorum side keeps at most one coordinator for a while (a minority never leads).
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            assert coordinators(status(home, "quorum")) in (["n3"], [])
            time.sleep(0.1)
        assert not any(e["kind"] == "leaders" and e.get("count", 0) > 1 for e in events(home, "quorum"))

        for name in ("plain", "quorum"):
            ok(home, "heal", "--name", name)
            wait_status(home, name, all_follow("n5"), f"{name}: one coordinator after heal")
        assert "2 coordinators" not in ok(home, "dashboard", "--once", "--name", "plain").splitlines()[0]

    def test_one_node_is_bad_input(self, home: Path) -> None:
        """bully with 1 node: one line on stderr, exit 2, nothing started."""
        result = run(home, "up", "bully", "--nodes", "1")
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0 and "--nodes must be between 2" in result.stderr
        assert not home.exists() or not any(home.iterdir())

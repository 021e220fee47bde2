"""The Two Generals as a real cluster: two node processes through the fault proxy, lossy from the start."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from chaoslab.testing import cli_ok as ok
from chaoslab.testing import run_cli as run


def detail(snap: dict[str, Any], node: str) -> dict[str, Any]:
    return next(n for n in snap["nodes"] if n["id"] == node)["status"]["twogenerals"]


def wait_status(home: Path, predicate: Any, what: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        snap = json.loads(ok(home, "status", "--json"))
        if predicate(snap):
            return snap
        assert time.monotonic() < deadline, f"{what} not reached within {timeout:g}s: {snap}"
        time.sleep(0.1)


class TestTwoGeneralsCluster:
    def test_up_status_faults_attack_down(self, home: Path) -> None:
        """up starts two generals with the definition's drop 30% in force, status shows them idle,
        `attack` runs an attempt through the proxy and both decide by the rule, down stops all."""
        up = ok(home, "up", "twogenerals", "--seed", "3")
        assert "faults from the start: drop 30%" in up

        snap = json.loads(ok(home, "status", "--json"))
        assert [(n["id"], n["role"], n["state"]) for n in snap["nodes"]] == [("n1", "proposer", "up"), ("n2", "general", "up")]
        assert all(detail(snap, n)["state"] == "idle" for n in ("n1", "n2"))
        header = next(line for line in ok(home, "status").splitlines() if line.lstrip().startswith("node"))
        assert header.split() == ["node", "pid", "state", "role", "attempt", "leader", "plan", "sent", "acks", "needs", "heard"]

        faults = json.loads(ok(home, "faults", "--json"))
        drops = [r for r in faults["rules"] if r["kind"] == "drop"]
        assert len(drops) == 1 and drops[0]["drop"] == pytest.approx(0.3) and drops[0]["label"] == "drop 30%"

        result = json.loads(ok(home, "attack", "--in", "800ms", "--json"))
        assert result["attempt"] == 1 and result["outcome"] in ("together", "alone", "neither")
        n1 = result["generals"]["n1"]
        assert n1["decision"] == ("attack" if n1["acks"] >= n1["needs"] else "hold")
        assert n1["messengers"] >= 1
        snap = wait_status(home, lambda s: detail(s, "n1")["state"] in ("attacking", "holding"), "n1 decided")
        assert detail(snap, "n1")["attempt"] == 1 and snap["nodes"][0]["term"] == 1

        links = {(c["src"], c["dst"]): c for c in json.loads(ok(home, "faults", "--json"))["links"]}
        assert links[("n1", "n2")]["sent"] >= 1  # the messengers crossed the real proxy

        assert "two generals" in ok(home, "dashboard", "--once")
        assert "n1" in ok(home, "events")
        ok(home, "down")

    def test_a_perfect_valley_and_bad_input(self, home: Path) -> None:
        """--set faults=[] removes the initial faults: every attempt ends together. Other node counts,
        `attack` on n2's behalf or too soon are one line and exit 2."""
        for args, message in [
            (("up", "twogenerals", "--nodes", "3"), "--nodes must be 2 for twogenerals, got 3"),
            (("up", "twogenerals", "--set", 'faults=["drop 130%"]'), "faults: 'drop 130%': 130% is more than 100%"),
        ]:
            refused = run(home, *args)
            assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and message in refused.stderr, refused.stderr
        assert not home.exists() or not any(home.iterdir())  # nothing was started

        ok(home, "up", "twogenerals", "--set", "faults=[]")
        assert json.loads(ok(home, "faults", "--json")).get("rules", []) == []
        for attempt in (1, 2):
            result = json.loads(ok(home, "attack", "--in", "300ms", "--json"))
            assert (result["attempt"], result["outcome"]) == (attempt, "together"), result
        bad = run(home, "attack", "--in", "0s")
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--in must be above 0" in bad.stderr

"""Byzantine agreement as real processes, through the CLI: `up byzantine`, `order`, faults, bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chaoslab.testing import run_cli, wait_until, wait_until_gone


def run(home: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args, timeout=timeout, columns=100)


def order(home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(home, "order", *args, "--json")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def wait_all_answer(home: Path, timeout: float = 15.0) -> dict[str, Any]:
    """`status --json` once every node answered (a busy node may miss the supervisor's 0.5 s deadline)."""
    snap: dict[str, Any] = {}

    def answered() -> bool:
        nonlocal snap
        result = run(home, "status", "--json")
        snap = json.loads(result.stdout) if result.returncode == 0 else {}
        return bool(snap) and all(n.get("status") for n in snap["nodes"])

    wait_until(answered, timeout, what="every node answering status")
    return snap


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], result.stderr


class TestOrder:
    def test_om_seven_generals_two_traitors_both_orders_then_drop(self, home: Path) -> None:
        """OM(2), n=7, traitors n3 and n5: a loyal commander's attack and retreat are obeyed by every
        loyal lieutenant (156 messages, 3 rounds), a traitor commander cannot split them, and under
        `drop 20%` the report names who used RETREAT for a missing message, its exit code saying
        whether IC1 and IC2 held."""
        up = run(home, "up", "byzantine", "--nodes", "7", "--traitors", "2", "--traitor-ids", "n3,n5", "--seed", "11")
        assert up.returncode == 0, up.stderr
        for value in ("attack", "retreat"):
            code, report = order(home, value)
            assert code == 0, report
            assert report["commander"] == "n1" and report["order"] == value and report["protocol"] == "om"
            assert report["traitors"] == ["n3", "n5"] and (report["ic1"], report["ic2"]) == (True, True)
            assert {n: d for n, d in report["decisions"].items() if n not in ("n3", "n5")} == {n: value for n in ("n2", "n4", "n6", "n7")}
            assert (report["messages"], report["rounds"]) == (156, 3)

        code, report = order(home, "attack", "--commander", "n3")
        assert code == 0 and report["ic1"] and len({report["decisions"][n] for n in ("n1", "n2", "n4", "n6", "n7")}) == 1

        text = run(home, "order", "retreat")
        assert text.returncode == 0 and "IC1 (loyal lieutenants agree): holds" in text.stdout

        assert run(home, "drop", "20%").returncode == 0
        code, report = order(home, "attack")
        assert code == (0 if report["ic1"] and report["ic2"] else 1)
        assert report["defaulted"], report  # 20% of 156 messages: someone missed one
        assert report["messages"] < 156  # the traitors' and loyal relays of lost values never went

        status = wait_all_answer(home)
        detail = status["nodes"][1]["status"]["byzantine"]
        assert detail["instance"] == report["instance"] and detail["mode"] == "om" and detail["faults"] == 2
        assert [n["role"] for n in status["nodes"]][:2] == ["commander", "lieutenant"]

    def test_sm_four_generals_two_traitors_both_orders(self, home: Path) -> None:
        """SM(2) with n = m+2 = 4 and two traitors (by seed): loyal commanders are obeyed both ways."""
        up = run(home, "up", "byzantine", "--nodes", "4", "--traitors", "2", "--protocol", "sm", "--seed", "5")
        assert up.returncode == 0, up.stderr
        status = wait_all_answer(home)
        traitors = status["nodes"][0]["status"]["byzantine"]["traitors"]
        loyal = [n["id"] for n in status["nodes"] if n["id"] not in traitors]
        assert len(traitors) == 2
        for value in ("attack", "retreat"):
            code, report = order(home, value, "--commander", loyal[0])
            assert code == 0, report
            assert report["protocol"] == "sm" and report["decisions"][loyal[1]] == value
        code, report = order(home, "attack", "--commander", traitors[0])
        assert code == 0 and report["ic1"], report


class TestBadInput:
    @pytest.mark.parametrize(("args", "fragment"), [
        (("--nodes", "4", "--traitors", "4"), "--traitors must be fewer than the 4 nodes"),
        (("--protocol", "paxos"), "unknown protocol 'paxos'"),
        (("--strategy", "lie"), "unknown strategy 'lie'"),
        (("--traitor-ids", "n3,n9"), "unknown node(s) n9"),
        (("--nodes", "20", "--traitors", "4"), "messages per agreement"),
    ])
    def test_up_refuses_with_one_line(self, home: Path, args: tuple[str, ...], fragment: str) -> None:
        """One line, exit 2, nothing started."""
        assert_one_line_error(run(home, "up", "byzantine", *args), fragment)
        assert wait_until_gone(home, timeout=0.5) == [] and not (home / "byzantine").exists()

    def test_order_refuses_bad_orders_commanders_and_clusters(self, home: Path) -> None:
        """`order` on a byzantine cluster with a bad value or commander, and on a raft cluster: one line,
        exit 2, the clusters untouched."""
        assert run(home, "up", "byzantine", "--nodes", "4").returncode == 0
        assert_one_line_error(run(home, "order", "surrender"), "attack or retreat")
        assert_one_line_error(run(home, "order", "attack", "--commander", "n9"), "unknown commander 'n9'")
        assert run(home, "up", "raft", "--nodes", "1", "--name", "r").returncode == 0
        assert_one_line_error(run(home, "order", "attack", "--name", "r"), "order needs a byzantine cluster; r runs raft")
        code, report = order(home, "attack", "--name", "byzantine")
        assert report["instance"] == "n1:1"  # the refused ones started nothing

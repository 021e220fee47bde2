"""The `chaoslab` command as a user runs it: exit codes, one-line errors, nothing left behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chaoslab.testing import run_cli, wait_until_gone


def run(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_cli(home, *args, timeout=timeout, columns=100)


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]


class TestLifecycle:
    def test_up_status_json_events_logs_down(self, home):
        """The quickstart path: up, status --json with stable keys, events, logs, down."""
        up = run(home, "up", "raft", "--nodes", "3", "--seed", "5")
        assert up.returncode == 0, up.stderr
        assert "leader n" in up.stdout
        status = run(home, "status", "--json")
        assert status.returncode == 0, status.stderr
        snap = json.loads(status.stdout)
        assert snap["cluster"] == "raft" and snap["algorithm"] == "raft" and snap["seed"] == 5
        for node in snap["nodes"]:
            assert {"id", "pid", "state", "role", "term", "leader"} <= node.keys()
            assert isinstance(node["pid"], int) and isinstance(node["term"], int)
            assert node["state"] == "up"
        assert sum(n["role"] == "leader" for n in snap["nodes"]) == 1
        table = run(home, "status")
        assert table.returncode == 0 and "n3" in table.stdout and "leader" in table.stdout
        events = run(home, "events", "--json")
        kinds = {json.loads(line)["kind"] for line in events.stdout.splitlines()}
        assert {"spawn", "up", "role"} <= kinds
        logs = run(home, "logs", "n1")
        assert logs.returncode == 0 and "serving on 127.0.0.1" in logs.stdout
        listing = run(home, "list", "--json")
        assert [c["name"] for c in json.loads(listing.stdout)] == ["raft"]
        down = run(home, "down")
        assert down.returncode == 0, down.stderr
        assert wait_until_gone(home, timeout=2) == []
        assert not (home / "raft").exists()


class TestBadInput:
    @pytest.mark.parametrize(
        "args, fragment",
        [
            (("up", "paxos"), "unknown algorithm 'paxos'"),
            (("up", "raft", "--nodes", "0"), "--nodes must be between 1 and 64"),
            (("up", "raft", "--nodes", "65"), "--nodes must be between 1 and 64"),
            (("up", "raft", "--set", "raft.heartbeat_ms=-1"), "heartbeat_ms"),
            (("up", "raft", "--set", "raft.bogus=1"), "bogus"),
            (("status",), "no cluster is running"),
            (("down",), "no cluster is running"),
            (("logs", "n1"), "no cluster is running"),
            (("logs", "n1", "--name", "nope"), "no cluster named 'nope'"),
            (("events",), "no cluster is running"),
            (("events", "-f", "--name", "nope"), "no cluster named 'nope'"),
            (("down", "--name", "nope"), "no cluster named 'nope'"),
            (("logs",), "Missing argument 'node'"),
            (("down", "--bogus"), "No such option: --bogus"),
            (("list", "--bogus"), "No such option: --bogus"),
            (("events", "--bogus"), "No such option: --bogus"),
            (("status", "--bogus"), "No such option: --bogus"),
            (("up", "raft", "--nodes", "abc"), "--nodes"),
        ],
    )
    def test_rejected_with_one_line(self, home, args, fragment):
        """Bad input: one clear line on stderr, exit 2, and nothing started."""
        assert_one_line_error(run(home, *args), fragment)
        assert wait_until_gone(home, timeout=0.5) == []
        assert not (home / "raft").exists()

    def test_name_already_running_and_unknown_node(self, home):
        """A second `up` with a running name, and faults on unknown nodes, are refused; the cluster is untouched."""
        assert run(home, "up", "raft", "--nodes", "1").returncode == 0
        assert_one_line_error(run(home, "up", "raft", "--nodes", "1"), "already running")
        assert_one_line_error(run(home, "crash", "n7"), "unknown node 'n7'")
        assert_one_line_error(run(home, "restart", "n1"), "only a crashed node can be restarted")
        assert_one_line_error(run(home, "logs", "n9"), "unknown node 'n9'")
        assert_one_line_error(run(home, "resume", "n1"), "only a paused node can be resumed")
        assert_one_line_error(run(home, "drop", "120%"), "120%")
        assert_one_line_error(run(home, "delay", "-5ms"), "negative")
        assert_one_line_error(run(home, "partition", "n1,n1"), "n1")
        assert_one_line_error(run(home, "drop", "10%", "--for", "0"), "--for")
        assert json.loads(run(home, "faults", "--json").stdout)["rules"] == []
        snap = json.loads(run(home, "status", "--json").stdout)
        assert [n["state"] for n in snap["nodes"]] == ["up"]
        assert run(home, "crash", "n1").returncode == 0
        assert_one_line_error(run(home, "pause", "n1"), "only a running node can be paused")

    def test_stale_run_directory(self, home):
        """A lab killed with SIGKILL leaves a stale directory: commands say so, `down` cleans it."""
        assert run(home, "up", "raft", "--nodes", "1").returncode == 0
        pid = int((home / "raft" / "supervisor.pid").read_text())
        os.kill(pid, 9)
        assert wait_until_gone(home, timeout=2) == []
        assert_one_line_error(run(home, "up", "raft", "--nodes", "1"), "stale run directory")
        assert_one_line_error(run(home, "status"), "stale: raft")
        assert [(c["name"], c["state"]) for c in json.loads(run(home, "list", "--json").stdout)] == [("raft", "stale")]
        assert "stale" in run(home, "list").stdout
        left = run(home, "logs", "n1", "-f", "--name", "raft", timeout=10)  # -f ends: nothing is running
        assert left.returncode == 0 and "serving on 127.0.0.1" in left.stdout
        assert_one_line_error(run(home, "logs", "n9", "--name", "raft"), "unknown node 'n9'")
        cleaned = run(home, "down")
        assert cleaned.returncode == 0 and "was stale" in cleaned.stdout
        assert not (home / "raft").exists()

    def test_port_in_use(self, home):
        """A --base-port range that collides with a listening socket fails cleanly."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            assert_one_line_error(run(home, "up", "raft", "--nodes", "2", "--base-port", str(port - 1)), f"port {port}")
        assert wait_until_gone(home, timeout=2) == []
        assert not (home / "raft").exists()


class TestInterrupt:
    def test_ctrl_c_during_up_leaves_nothing(self, home):
        """Ctrl-C while `up` waits for the cluster: every process it started is gone, and so is the run dir."""
        import signal
        import time

        env = {**os.environ, "CHAOSLAB_HOME": str(home)}
        # Elections so slow that `up` is surely still waiting for a leader when Ctrl-C comes,
        # however long the supervisor took to write its pid on a loaded machine.
        proc = subprocess.Popen([sys.executable, "-m", "chaoslab", "up", "raft", "--nodes", "3",
                                 "--set", "raft.election_timeout_ms=[20000, 30000]"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                # As from a terminal: a suite started in the background (nohup, &)
                                # hands its children SIGINT ignored, and Ctrl-C would not be felt.
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 10
        while not (home / "raft" / "supervisor.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode != 0, (out, err)
        assert wait_until_gone(home, timeout=3) == []
        assert not (home / "raft").exists()


class TestKV:
    def test_kv_commands(self, home):
        """`chaoslab kv` finds the leader; not-found and cas mismatch exit 1; no quorum exits 2 saying so."""
        assert run(home, "up", "raft", "--nodes", "3").returncode == 0
        put = run(home, "kv", "put", "greeting", "hello")
        assert put.returncode == 0 and "ok (index" in put.stdout
        assert run(home, "kv", "get", "greeting").stdout.strip() == "hello"
        assert run(home, "kv", "append", "greeting", " world").returncode == 0
        assert run(home, "kv", "get", "greeting").stdout.strip() == "hello world"
        mismatch = run(home, "kv", "cas", "greeting", "x", "--expect", "nope")
        assert mismatch.returncode == 1 and "cas mismatch" in mismatch.stderr and "hello world" in mismatch.stderr
        assert run(home, "kv", "cas", "greeting", "bye", "--expect", "hello world").returncode == 0
        assert run(home, "kv", "cas", "fresh", "1", "--absent").returncode == 0
        assert_one_line_error(run(home, "kv", "cas", "fresh", "2"), "--expect")
        assert run(home, "kv", "delete", "greeting").returncode == 0
        missing = run(home, "kv", "get", "greeting")
        assert missing.returncode == 1 and "not found" in missing.stderr
        assert run(home, "crash", "n1", "n2", "n3").returncode == 0
        assert_one_line_error(run(home, "kv", "put", "k", "v", "--timeout", "1s"), "not acknowledged")

"""Inputs that used to wedge a cluster or lie about it (issue 13), on real clusters through the
command line: each is refused in one line, or does what it says and reports what it did."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaoslab.testing import run_cli, wait_until, wait_until_gone


def one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """The single stderr line of a refused command (exit 2, no traceback), checked for ``fragments``."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One 3-node raft cluster (named raft) shared by the tests that leave it as they found it."""
    home = tmp_path_factory.mktemp("hardening") / ".chaoslab"
    ok(run_cli(home, "up", "raft", "--nodes", "3", "--seed", "13"))
    yield home
    run_cli(home, "down", "--all")
    assert wait_until_gone(home) == []


def faults(home: Path) -> dict:
    return json.loads(ok(run_cli(home, "faults", "--json")))


def in_flight(link: dict) -> int:
    """sent + duplicated - delivered - dropped: copies the proxy holds or is handing over."""
    return link.get("sent", 0) + link.get("duplicated", 0) - link.get("delivered", 0) - link.get("dropped", 0)


def settled(home: Path) -> bool:
    """Every link's counters add up with at most a message or two on its way (traffic never stops)."""
    return all(0 <= in_flight(link) <= 2 for link in faults(home)["links"])


def leader(home: Path) -> str | None:
    nodes = json.loads(ok(run_cli(home, "status", "--json")))["nodes"]
    return next((n["id"] for n in nodes if n.get("role") == "leader"), None)


class TestLinkFaults:
    def test_absurd_delay_and_for_are_refused_with_their_bound(self, lab: Path) -> None:
        """delay 1000000h and --for 1000000h change nothing and say the longest allowed."""
        one_line_error(run_cli(lab, "delay", "1000000h"), "longer than the longest", "1m")
        one_line_error(run_cli(lab, "drop", "10%", "--for", "1000000h"), "--for 1000000h", "24h")
        assert faults(lab).get("rules", []) == []

    @pytest.mark.parametrize("option", ["--to", "--from"])
    def test_empty_node_list_is_refused(self, lab: Path, option: str) -> None:
        """drop 20% --to '' is an error, not a fault on every link."""
        one_line_error(run_cli(lab, "drop", "20%", option, ""), "no node ids given")
        one_line_error(run_cli(lab, "partition", "--isolate", ""), "isolate takes one node id")
        assert faults(lab).get("rules", []) == []

    def test_clear_releases_what_a_delay_held(self, lab: Path) -> None:
        """A long delay holds messages; once cleared, they go at once and later ones do not
        queue behind them: the cluster has a leader and takes a write within seconds."""
        ok(run_cli(lab, "delay", "50s"))
        wait_until(lambda: sum(in_flight(link) for link in faults(lab)["links"]) > 10, timeout=10,
                   what="messages held by the delay")
        ok(run_cli(lab, "clear"))
        ok(run_cli(lab, "kv", "put", "after-clear", "1", "--timeout", "10s"))
        assert wait_until(lambda: leader(lab), timeout=10, what="a leader")

        # Nothing stays held: every message sent is soon delivered or dropped.
        wait_until(lambda: settled(lab), timeout=5, what="no message held")


class TestKeyValueInput:
    def test_values_and_keys_starting_with_a_dash(self, lab: Path) -> None:
        """kv put neg -1 stores -1; a key starting with - works too; -- also ends options."""
        ok(run_cli(lab, "kv", "put", "neg", "-1"))
        assert ok(run_cli(lab, "kv", "get", "neg")).strip() == "-1"
        ok(run_cli(lab, "kv", "put", "--", "-k", "--v"))
        assert ok(run_cli(lab, "kv", "get", "-k")).strip() == "--v"

    def test_value_from_a_file_or_standard_input(self, lab: Path, tmp_path: Path) -> None:
        """--value-file PATH and --value-file - (standard input) put their contents."""
        path = tmp_path / "value.txt"
        path.write_text("from a file\nline two")
        ok(run_cli(lab, "kv", "put", "file", "--value-file", str(path)))
        assert ok(run_cli(lab, "kv", "get", "file")) == "from a file\nline two\n"
        env = {**os.environ, "CHAOSLAB_HOME": str(lab)}
        piped = subprocess.run([sys.executable, "-m", "chaoslab", "kv", "put", "stdin", "--value-file", "-"],
                               input="piped", capture_output=True, text=True, env=env, timeout=30)
        ok(piped)
        assert ok(run_cli(lab, "kv", "get", "stdin")).strip() == "piped"
        one_line_error(run_cli(lab, "kv", "put", "both", "v", "--value-file", str(path)), "not both or neither")

    def test_too_large_a_value_is_a_definite_refusal(self, lab: Path, tmp_path: Path) -> None:
        """A 10 MB put is refused at once (not 'outcome unknown'), naming the limit and the setting;
        one past the transport's limit too; and nothing was written."""
        big = tmp_path / "big"
        big.write_bytes(b"x" * 10_000_000)
        started = time.monotonic()
        line = one_line_error(run_cli(lab, "kv", "put", "big", "--value-file", str(big)), "raft.max_value_bytes")
        assert "unknown" not in line and time.monotonic() - started < 4.0
        huge = tmp_path / "huge"
        huge.write_bytes(b"x" * 70_000_000)
        line = one_line_error(run_cli(lab, "kv", "put", "big", "--value-file", str(huge)), "not applied")
        assert "unknown" not in line
        assert run_cli(lab, "kv", "get", "big").returncode == 1  # not found

    def test_text_that_is_not_utf8_is_refused(self, lab: Path, tmp_path: Path) -> None:
        """A key or value that is not UTF-8 (from argv or a file) is one line, not a traceback."""
        one_line_error(run_cli(lab, "kv", "put", os.fsdecode(b"\xff"), "v"), "UTF-8")
        one_line_error(run_cli(lab, "kv", "put", "k", os.fsdecode(b"a\xfe")), "UTF-8")
        bad = tmp_path / "bad"
        bad.write_bytes(b"\xff\xfe")
        one_line_error(run_cli(lab, "kv", "put", "k", "--value-file", str(bad)), "not UTF-8")

    def test_timeout_errors_name_the_timeout(self, lab: Path) -> None:
        """kv get --timeout 0s names --timeout (it used to name --for)."""
        one_line_error(run_cli(lab, "kv", "get", "x", "--timeout", "0s"), "--timeout 0s")

    def test_corrupt_cluster_file(self, lab: Path) -> None:
        """A damaged cluster.json makes kv get say which file, in one line."""
        path = lab / "raft" / "cluster.json"
        saved = path.read_bytes()
        try:
            path.write_text('{"name": ')
            one_line_error(run_cli(lab, "kv", "get", "x"), "cluster.json is not a readable cluster file")
        finally:
            path.write_bytes(saved)


class TestProcessFaults:
    def test_resume_acts_on_what_it_can_and_names_the_rest(self, lab: Path) -> None:
        """resume n1 n2 with only n1 paused resumes n1 and says n2 was not paused; resume of
        nothing paused changes nothing and is an error."""
        ok(run_cli(lab, "pause", "n1"))
        out = ok(run_cli(lab, "resume", "n1", "n2"))
        assert "resumed n1" in out and "n2 is up" in out
        states = {n["id"]: n["state"] for n in json.loads(ok(run_cli(lab, "status", "--json")))["nodes"]}
        assert states["n1"] == "up"
        one_line_error(run_cli(lab, "resume", "n1", "n2"), "only a paused node can be resumed")

    def test_restart_of_a_node_that_exits_at_once_reports_why(self, lab: Path) -> None:
        """restart of a node that cannot start (its port taken) fails with its exit code and the
        end of its log, and status then says why it is down."""
        ok(run_cli(lab, "crash", "n3"))
        port = json.loads((lab / "raft" / "cluster.json").read_text())["addresses"][2]["port"]
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # its old connections linger
            squatter.bind(("127.0.0.1", port))
            squatter.listen(1)
            one_line_error(run_cli(lab, "restart", "n3"), "n3 exited with code 3", "in use")
            status = ok(run_cli(lab, "status", columns=80))
            assert "n3: n3 exited with code 3" in status
        ok(run_cli(lab, "restart", "n3"))
        wait_until(lambda: all(n["state"] == "up" for n in json.loads(ok(run_cli(lab, "status", "--json")))["nodes"]),
                   timeout=10, what="n3 up again")
        # The links to the restarted node account for every message: delivered, dropped, or
        # (briefly) on its way; none lost from the counters, none counted twice.
        wait_until(lambda: settled(lab), timeout=10, what="counters that add up")


class TestUsageErrors:
    @pytest.mark.parametrize(("args", "fragment"), [
        (("up", "raft", "--nodes", "abc"), "--nodes"), (("dashboard", "--refresh", "0"), "--refresh"),
        (("crash",), "Missing argument"), (("frobnicate",), "No such command"),
        (("kv", "get"), "Missing argument"), (("restart", "--bogus"), "--bogus"),
    ])
    def test_type_and_usage_errors_are_one_line(self, tmp_path: Path, args: tuple[str, ...], fragment: str) -> None:
        """Usage and type errors are one line with a pointer to --help, like every other error."""
        line = one_line_error(run_cli(tmp_path / ".chaoslab", *args), fragment)
        assert "--help" in line and "╭" not in line


class TestLifecycle:
    def test_empty_name_and_unusable_home_are_refused(self, tmp_path: Path) -> None:
        """up --name '' starts nothing; a home that is a file (or under one) is one line."""
        home = tmp_path / ".chaoslab"
        one_line_error(run_cli(home, "up", "raft", "--name", ""), "cluster name ''")
        afile = tmp_path / "afile"
        afile.write_text("x")
        one_line_error(run_cli(afile, "up", "raft"), "is a file, not a directory")
        one_line_error(run_cli(afile / "sub", "up", "raft"), "cannot use", "Not a directory")
        assert not home.exists() or list(home.iterdir()) == []

    def test_corrupt_spec_file(self, tmp_path: Path) -> None:
        """A damaged spec.json: list still lists (marking it), logs says which file, down removes it."""
        home = tmp_path / ".chaoslab"
        (home / "bad").mkdir(parents=True)
        (home / "bad" / "spec.json").write_bytes(b"\xff{")
        assert "unreadable" in ok(run_cli(home, "list"))
        one_line_error(run_cli(home, "logs", "n1", "--name", "bad"), "spec.json is not a readable cluster file")
        ok(run_cli(home, "down", "--name", "bad"))
        assert not (home / "bad").exists()

    def test_garbage_pid_file_does_not_hide_a_running_cluster(self, home: Path) -> None:
        """supervisor.pid holding garbage: list still says running (with the right pid), and down
        stops every process before it removes the directory."""
        ok(run_cli(home, "up", "raft", "--nodes", "1", "--name", "g"))
        pid = int((home / "g" / "supervisor.pid").read_text())
        (home / "g" / "supervisor.pid").write_text("garbage\n")
        listing = json.loads(ok(run_cli(home, "list", "--json")))
        assert listing[0]["state"] == "running" and listing[0]["supervisor_pid"] == pid
        out = ok(run_cli(home, "down", "--name", "g"))
        assert "stale" not in out
        assert wait_until_gone(home) == []
        assert not (home / "g").exists()

    def test_two_ups_of_one_name_at_once(self, home: Path) -> None:
        """Of two `up`s of the same name at once one starts it; the other says it is being started
        (or already runs), never that it is stale, and never suggests `down`."""
        env = {**os.environ, "CHAOSLAB_HOME": str(home)}
        ups = [subprocess.Popen([sys.executable, "-m", "chaoslab", "up", "raft", "--nodes", "1", "--name", "twin"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(p.wait(timeout=60), *p.communicate()) for p in ups]
        codes = sorted(code for code, _, _ in results)
        assert codes == [0, 2], results
        loser = next(err for code, _, err in results if code == 2)
        assert "being started by another" in loser or "already running" in loser, loser
        assert "stale" not in loser and "down" not in loser.replace("already running (stop it with `chaoslab down", "")
        assert json.loads(ok(run_cli(home, "list", "--json")))[0]["state"] == "running"

    def test_ctrl_c_early_in_up(self, home: Path) -> None:
        """Ctrl-C at any moment of `up` ends it with 130 (or 0 if it was done), without a
        traceback, and leaves no process and no stale directory."""
        env = {**os.environ, "CHAOSLAB_HOME": str(home)}
        for delay in (0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1.0):
            proc = subprocess.Popen([sys.executable, "-m", "chaoslab", "up", "raft", "--nodes", "1"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(delay)  # the moment to interrupt: what is tested, not a wait for anything
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
            if "init_import_site" in err:
                continue  # the interpreter itself was still starting, before any code of ours ran
            assert proc.returncode in (0, 130, -signal.SIGINT), (delay, proc.returncode, err)
            assert "Traceback" not in err, (delay, err)
            if proc.returncode != 0:
                assert wait_until_gone(home) == [], delay
                assert not (home / "raft").exists(), delay
            run_cli(home, "down", "--all")


class TestLongRunDirectory:
    def test_sockets_of_a_deep_run_directory(self, tmp_path: Path) -> None:
        """A home too deep for unix sockets beside the run directory: the cluster runs with its
        sockets in a fresh private directory, and down removes that directory."""
        home = tmp_path / ("h" * 70) / ("o" * 40) / ".chaoslab"
        try:
            ok(run_cli(home, "up", "raft", "--nodes", "1"))
            sockets = Path((home / "raft" / "sockets").read_text().strip())
            assert sockets.is_dir() and sockets.stat().st_mode & 0o777 == 0o700
            assert (sockets / "control.sock").exists() and (sockets / "proxy.sock").exists()
            assert json.loads(ok(run_cli(home, "status", "--json")))["nodes"][0]["state"] == "up"
            ok(run_cli(home, "down"))
            assert not sockets.exists()
        finally:
            run_cli(home, "down", "--all")
            assert wait_until_gone(home) == []

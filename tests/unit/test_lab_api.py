"""The lab's Python API for what the CLI shows: listing, choosing what `down` stops, log paths,
following logs and events, and polling. No processes: run directories are written by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaoslab.errors import LabError
from chaoslab.events import follow_events, follow_lines, read_lines
from chaoslab.lab.cluster import Cluster, ClusterInfo, clusters_to_stop, list_clusters
from chaoslab.lab.poll import holds_for, wait_until
from chaoslab.lab.spec import ClusterSpec


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def make_run(home: Path, name: str, *, running: bool, dead_pid: int = 0, nodes: int = 3) -> Path:
    """A run directory as `up` leaves it, minus the processes: the supervisor is this test
    process when ``running``, else a dead one."""
    path = home / name
    path.mkdir(parents=True)
    ClusterSpec(name=name, algorithm="raft", nodes=nodes, seed=1).save(path / "spec.json")
    (path / "supervisor.pid").write_text(str(os.getpid() if running else dead_pid))
    return path


class TestListClusters:
    def test_rows_running_and_stale_by_name(self, tmp_path, dead_pid):
        """One row per run directory, sorted by name, with spec, state and supervisor pid."""
        home = tmp_path / ".chaoslab"
        make_run(home, "b", running=False, dead_pid=dead_pid, nodes=5)
        make_run(home, "a", running=True)
        (home / "not-a-run").mkdir()  # no spec.json: not a cluster
        assert list_clusters(home) == [
            ClusterInfo("a", "raft", 3, "running", os.getpid(), home / "a"),
            ClusterInfo("b", "raft", 5, "stale", dead_pid, home / "b"),
        ]

    def test_json_shape(self, tmp_path):
        """`list --json` keys, in order, with the run directory as a string."""
        home = tmp_path / ".chaoslab"
        make_run(home, "raft", running=True)
        [info] = list_clusters(home)
        assert json.dumps(info.to_dict()) == json.dumps({
            "name": "raft", "algorithm": "raft", "nodes": 3, "state": "running",
            "supervisor_pid": os.getpid(), "run_dir": str(home / "raft")})

    def test_no_home_no_rows(self, tmp_path):
        """A home that does not exist lists nothing."""
        assert list_clusters(tmp_path / "nowhere") == []

    def test_home_from_environment(self, tmp_path, monkeypatch):
        """Without a home, CHAOSLAB_HOME is used, as by every command."""
        make_run(tmp_path / "h", "x", running=True)
        monkeypatch.setenv("CHAOSLAB_HOME", str(tmp_path / "h"))
        assert [c.name for c in list_clusters()] == ["x"]


class TestClustersToStop:
    def names(self, clusters: list[Cluster]) -> list[str]:
        return [c.name for c in clusters]

    def test_the_only_running_one(self, tmp_path, dead_pid):
        """No name: the only running cluster, even with stale ones beside it."""
        home = tmp_path / ".chaoslab"
        make_run(home, "a", running=False, dead_pid=dead_pid)
        make_run(home, "b", running=True)
        assert self.names(clusters_to_stop(None, home)) == ["b"]

    def test_the_only_stale_one(self, tmp_path, dead_pid):
        """No name and nothing running: the only run directory, stale, so `down` can clean it."""
        home = tmp_path / ".chaoslab"
        make_run(home, "a", running=False, dead_pid=dead_pid)
        assert self.names(clusters_to_stop(None, home)) == ["a"]

    def test_named_running_or_stale(self, tmp_path, dead_pid):
        """A name picks that cluster whatever its state."""
        home = tmp_path / ".chaoslab"
        make_run(home, "a", running=False, dead_pid=dead_pid)
        make_run(home, "b", running=True)
        assert self.names(clusters_to_stop("a", home)) == ["a"]
        assert self.names(clusters_to_stop("b", home)) == ["b"]

    def test_all(self, tmp_path, dead_pid):
        """--all: every cluster, running or stale; none is no error."""
        home = tmp_path / ".chaoslab"
        assert clusters_to_stop(None, home, all_clusters=True) == []
        make_run(home, "a", running=False, dead_pid=dead_pid)
        make_run(home, "b", running=True)
        assert self.names(clusters_to_stop(None, home, all_clusters=True)) == ["a", "b"]

    @pytest.mark.parametrize(
        ("runs", "name", "message"),
        [
            ({}, None, "no cluster is running"),
            ({"a": False, "b": False}, None, "stale: a, b"),
            ({"a": True, "b": True}, None, "several clusters are running (a, b)"),
            ({"a": True}, "zz", "no cluster named 'zz'"),
        ],
    )
    def test_nothing_to_choose(self, tmp_path, dead_pid, runs, name, message):
        """No cluster, several to choose from, or an unknown name: a LabError that says which."""
        home = tmp_path / ".chaoslab"
        for run, running in runs.items():
            make_run(home, run, running=running, dead_pid=dead_pid)
        with pytest.raises(LabError, match=message.replace("(", r"\(").replace(")", r"\)")):
            clusters_to_stop(name, home)


class TestFind:
    def test_stale_refused_unless_asked(self, tmp_path, dead_pid):
        """`find` refuses a stale cluster; `stale_ok` gives it, to read its logs and events."""
        home = tmp_path / ".chaoslab"
        make_run(home, "a", running=False, dead_pid=dead_pid)
        with pytest.raises(LabError, match="not running"):
            Cluster.find("a", home)
        assert Cluster.find("a", home, stale_ok=True).name == "a"


class TestLogPath:
    def test_nodes_lab_and_proxy(self, tmp_path):
        """Node ids map to their node.log; lab and supervisor to the supervisor's, proxy to the proxy's."""
        run = make_run(tmp_path, "raft", running=True)
        cluster = Cluster.find("raft", tmp_path)
        assert cluster.log_path("n2") == run / "nodes" / "n2" / "node.log"
        assert cluster.log_path("lab") == cluster.log_path("supervisor") == run / "supervisor.log"
        assert cluster.log_path("proxy") == run / "proxy.log"

    @pytest.mark.parametrize("node", ["n4", "n0", "", "leader"])
    def test_unknown_node(self, tmp_path, node):
        """Anything else is a LabError naming the choices."""
        make_run(tmp_path, "raft", running=True)
        with pytest.raises(LabError, match=rf"unknown node '{node}' \(nodes: n1, n2, n3, or lab, proxy\)"):
            Cluster.find("raft", tmp_path).log_path(node)


class TestFollow:
    def test_read_lines_complete_only(self, tmp_path):
        """A partial last line waits for its newline; a missing file is empty."""
        path = tmp_path / "node.log"
        assert read_lines(path) == ([], 0)
        path.write_bytes(b"one\ntw\xffo\nthr")
        lines, off = read_lines(path)
        assert lines == ["one", "tw\ufffdo"] and off == len(b"one\ntw\xffo\n")
        with path.open("ab") as f:
            f.write(b"ee\n")
        assert read_lines(path, off) == (["three"], path.stat().st_size)

    def test_without_follow_reads_once(self, tmp_path):
        """Not following: what is there now, and `alive` is never asked."""
        path = tmp_path / "node.log"
        path.write_text("a\nb\n")

        def alive() -> bool:
            raise AssertionError("not following, so not asked")

        assert list(follow_lines(path, alive=alive)) == ["a", "b"]

    def test_follow_until_not_alive_with_a_last_read(self, tmp_path):
        """Following keeps reading new lines until `alive()` is false, then reads once more."""
        path = tmp_path / "node.log"
        path.write_text("first\n")
        calls = []

        def alive() -> bool:
            calls.append(1)
            with path.open("a") as f:
                f.write(f"line {len(calls)}\n")  # written before the check: never lost
            return len(calls) < 3

        assert list(follow_lines(path, follow=True, alive=alive, poll_s=0)) == [
            "first", "line 1", "line 2", "line 3"]

    def test_follow_a_file_created_later(self, tmp_path):
        """A log that does not exist yet is followed from its start once it appears."""
        path = tmp_path / "node.log"
        calls = []

        def alive() -> bool:
            calls.append(1)
            if len(calls) == 2:
                path.write_text("hello\n")
            return len(calls) < 3

        assert list(follow_lines(path, follow=True, alive=alive, poll_s=0)) == ["hello"]

    def test_follow_events_skips_what_is_not_an_event(self, tmp_path):
        """Events are the lines that are JSON objects; the rest is skipped."""
        path = tmp_path / "events.jsonl"
        path.write_text('{"kind": "up", "time": 1}\nnot json\n[1]\n\n{"kind": "role", "time": 2}\n')
        assert [e["kind"] for e in follow_events(path)] == ["up", "role"]


class TestPolling:
    def test_wait_until_returns_the_first_truthy_value(self):
        """The predicate's value comes back as soon as it is truthy."""
        values = iter([None, 0, "", "done"])
        assert wait_until(lambda: next(values), timeout=5, interval=0) == "done"

    def test_wait_until_times_out_naming_what(self):
        """A condition that never comes true raises TimeoutError saying what was awaited."""
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="the moon not reached within 0.1s"):
            wait_until(lambda: False, timeout=0.1, interval=0.01, what="the moon")
        assert time.monotonic() - started < 2

    def test_wait_until_tries_once_more_after_the_deadline(self):
        """A predicate slower than the timeout still gets a last try."""
        calls = []

        def slow() -> bool:
            calls.append(1)
            time.sleep(0.05)
            return len(calls) == 2

        assert wait_until(slow, timeout=0.01, interval=0)

    def test_holds_for(self):
        """holds_for is true when the predicate held at every check, false at the first failure."""
        assert holds_for(lambda: True, 0.05, interval=0.01)
        values = iter([True, True, False, True])
        assert not holds_for(lambda: next(values), 5, interval=0)

    def test_shipped_in_chaoslab_testing(self):
        """The pytest plugin's module offers the same helpers to users' tests."""
        import chaoslab.testing

        assert chaoslab.testing.wait_until is wait_until and chaoslab.testing.holds_for is holds_for


class TestPortTakenRetry:
    """`up` with free ports picks again when another process took one before a node bound it."""

    @pytest.fixture
    def attempts(self, monkeypatch: pytest.MonkeyPatch) -> list[int]:
        import chaoslab.lab.cluster as cluster_module

        seen: list[int] = []

        class NoSupervisor:
            def poll(self) -> int:
                return 0

            def wait(self) -> int:
                return 0

        def fake_wait_ready(self: Cluster, proc: object, timeout: float) -> None:
            seen.append(len(seen) + 1)
            if len(seen) == 1:
                raise LabError(f"cluster {self.name!r} failed to start: n2: 127.0.0.1:40001 is in use")

        monkeypatch.setattr(cluster_module.subprocess, "Popen", lambda *a, **k: NoSupervisor())
        monkeypatch.setattr(Cluster, "_wait_ready", fake_wait_ready)
        monkeypatch.setattr(Cluster, "_reap_children", lambda self: None)
        return seen

    def test_free_ports_are_picked_again(self, tmp_path: Path, attempts: list[int]) -> None:
        """A port taken under our feet costs one more start, not a failed `up`."""
        spec = ClusterSpec(name="raft", algorithm="raft", nodes=3, seed=1)
        cluster = Cluster.start(spec, tmp_path, timeout=1.0)
        assert attempts == [1, 2] and cluster.run.spec.exists()

    def test_a_port_the_user_chose_is_not_retried(self, tmp_path: Path, attempts: list[int]) -> None:
        """With --base-port the user's port is busy, and picking others would disobey them."""
        spec = ClusterSpec(name="raft", algorithm="raft", nodes=3, seed=1, base_port=40000)
        with pytest.raises(LabError, match="is in use"):
            Cluster.start(spec, tmp_path, timeout=1.0)
        assert attempts == [1] and not (tmp_path / "raft").exists()

"""Testing helpers for chaoslab users, and the pytest plugin that ships them.

Installed with the package (entry point ``pytest11``), it gives any test suite a
``chaoslab_clusters`` fixture: a factory that starts clusters in the test's
own temporary home and always tears them down, also when the test fails, then
checks that no process of theirs is left.

    def test_failover(chaoslab_clusters):
        c = chaoslab_clusters.up("raft", nodes=3)
        old = c.wait_for_leader()
        c.crash(old)
        assert c.wait_for_leader(exclude=(old,)) != old

It also ships the polling helpers timing-sensitive tests use instead of sleeps:
:func:`wait_until` (a condition comes true before a deadline) and
:func:`holds_for` (a condition stays true for a while); and, for tests of the
command line itself, :func:`run_cli` with the ``chaoslab_home`` fixture (a home
directory whose clusters are stopped and checked for leaks afterwards); and
:func:`run_scenario`, a scenario file run as ``chaoslab run`` would:

    def test_leader_isolation():
        result = run_scenario("faults/raft-leader-isolation.toml", seed=7)
        assert result.verdict("linearizable").status == "valid"
        assert result.ok, result.replay
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from chaoslab.algorithms.registry import DEFAULT_ALGORITHM
from chaoslab.lab.poll import holds_for, wait_until
from chaoslab.lab.rundir import list_run_dirs

__all__ = ["ClusterFactory", "chaoslab_clusters", "holds_for", "processes_of", "run_scenario", "wait_until",
           "wait_until_gone"]


def processes_of(home: Path) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose command line names ``home``."""
    found = []
    needle = str(home).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if needle in cmdline and stat.rsplit(")", 1)[1].split()[0] != "Z":
            found.append((int(entry), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def wait_until_gone(home: Path, timeout: float = 5.0) -> list[tuple[int, str]]:
    """Poll until no process names ``home``; return what is left after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = processes_of(home)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


class ClusterFactory:
    """Starts clusters under one home directory and stops them all at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.clusters: list[Any] = []

    def up(self, algorithm: str = DEFAULT_ALGORITHM, **kwargs: Any) -> Any:
        from chaoslab.lab.cluster import Cluster

        cluster = Cluster.up(algorithm, home=self.home, **kwargs)
        self.clusters.append(cluster)
        return cluster

    def teardown(self) -> list[tuple[int, str]]:
        from chaoslab.lab.cluster import Cluster

        for run in list_run_dirs(self.home):
            Cluster(run).down()
        return wait_until_gone(self.home)


@pytest.fixture
def chaoslab_clusters(tmp_path: Path) -> Iterator[ClusterFactory]:
    factory = ClusterFactory(tmp_path / ".chaoslab")
    try:
        yield factory
    finally:
        leaked = factory.teardown()
        assert not leaked, f"processes left after teardown: {leaked}"


def run_cli(home: Path, *args: str, timeout: float = 60.0, columns: int = 120) -> subprocess.CompletedProcess[str]:
    """Run ``chaoslab ARGS`` as a user would (a new process, ``CHAOSLAB_HOME=home``, a terminal
    ``columns`` wide); its exit code and output, as text."""
    env = {**os.environ, "CHAOSLAB_HOME": str(home), "COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-m", "chaoslab", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def cli_ok(home: Path, *args: str, timeout: float = 60.0) -> str:
    """:func:`run_cli` for a command that must succeed: its standard output, or a failed
    assertion naming the command and its standard error."""
    result = run_cli(home, *args, timeout=timeout)
    assert result.returncode == 0, f"chaoslab {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return result.stdout


@pytest.fixture
def chaoslab_home(tmp_path: Path) -> Iterator[Path]:
    """A home directory for clusters started through the command line; afterwards every cluster
    in it is stopped (``down --all``) and no process of theirs may be left."""
    home = tmp_path / ".chaoslab"
    yield home
    run_cli(home, "down", "--all")
    leaked = wait_until_gone(home)
    assert not leaked, f"processes left after down --all: {leaked}"


def run_scenario(path: str | os.PathLike[str], seed: int = 0, quick: bool = True,
                 home: str | os.PathLike[str] | None = None, *, algorithm: str | None = None,
                 settings: Sequence[str] = ()) -> Any:
    """Run a scenario file on a fresh cluster, as ``chaoslab run FILE --seed SEED [--quick]`` does,
    and return its :class:`~chaoslab.chaos.runner.RunResult` (``result.ok``, ``result.verdict(name)``,
    ``result.run_dir``, ``result.replay``). The cluster is always down when this returns.
    ``home`` defaults to ``$CHAOSLAB_HOME`` or ``./.chaoslab``; the run's directory is under ``home/runs``.
    ``algorithm`` and ``settings`` replace the file's ``[cluster]`` choices (``run --algorithm/--set``)."""
    from chaoslab.chaos.parse import load_scenario
    from chaoslab.chaos.runner import run

    return run(load_scenario(Path(path), algorithm=algorithm, settings=settings), seed, quick=quick, home=home)

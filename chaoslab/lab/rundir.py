"""Finding run directories: the home (``.chaoslab`` in the current directory, moved
with ``CHAOSLAB_HOME`` or ``--home``) and the cluster a command means.

The layout of one run directory is the process contract: :mod:`chaoslab.process.rundir`.
"""

from __future__ import annotations

import os
from pathlib import Path

from chaoslab.errors import LabError
from chaoslab.process.rundir import RunDir


def home_dir(home: str | os.PathLike[str] | None = None) -> Path:
    return Path(home or os.environ.get("CHAOSLAB_HOME") or ".chaoslab").absolute()


def last_line(path: Path) -> str:
    """The last non-blank line of a log: usually why a process died."""
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except FileNotFoundError:
        return "(no output)"
    return lines[-1] if lines else "(no output)"


def list_run_dirs(home: Path) -> list[RunDir]:
    if not home.is_dir():
        return []
    return sorted(
        (RunDir(p) for p in home.iterdir() if p.is_dir() and (p / "spec.json").exists()),
        key=lambda r: r.name,
    )


def find_run_dir(home: Path, name: str | None) -> RunDir:
    """The cluster called ``name``, or the only running one when ``name`` is None."""
    if name is not None:
        run = RunDir(home / name)
        if not run.spec.exists():
            known = ", ".join(r.name for r in list_run_dirs(home)) or "none"
            raise LabError(f"no cluster named {name!r} in {home} (clusters here: {known})")
        return run
    runs = list_run_dirs(home)
    running = [r for r in runs if r.running()]
    if len(running) == 1:
        return running[0]
    if len(running) > 1:
        names = ", ".join(r.name for r in running)
        raise LabError(f"several clusters are running ({names}); pick one with --name")
    if runs:
        names = ", ".join(r.name for r in runs)
        raise LabError(f"no cluster is running in {home} (stale: {names}; `chaoslab down --name NAME` cleans up)")
    raise LabError(f"no cluster is running in {home}; start one with `chaoslab up raft`")

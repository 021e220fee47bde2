"""Finding run directories: the home (``.chaoslab`` in the current directory, moved
with ``CHAOSLAB_HOME`` or ``--home``) and the cluster a command means.

The layout of one run directory is the process contract: :mod:`chaoslab.process.rundir`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chaoslab.errors import LabError
from chaoslab.process.rundir import RunDir


def home_dir(home: str | os.PathLike[str] | None = None) -> Path:
    return Path(home or os.environ.get("CHAOSLAB_HOME") or ".chaoslab").absolute()


def make_home(home: Path) -> None:
    """Create the home directory (0700) if needed; LabError, one line, if it cannot be one."""
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise LabError(f"home {home} is a file, not a directory (--home or CHAOSLAB_HOME)") from None
    except OSError as exc:
        raise LabError(f"cannot use {home} as the home directory (--home or CHAOSLAB_HOME): {exc.strerror}") from None


@contextmanager
def claim_name(home: Path, name: str) -> Iterator[None]:
    """Hold the right to create cluster ``name`` in ``home`` (an flock on ``.NAME.lock``) for
    the time of the block; LabError at once when another process holds it (an `up` of the
    same name still starting). The lock file goes when released."""
    path = home / f".{name}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LabError(f"cluster {name!r} is being started by another `chaoslab up` right now; "
                           f"wait for it to finish, or pick another --name") from None
        try:  # the holder before us may have removed the file after we opened it: lock the live one
            if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # while still holding it, so nobody locks a removed file
        os.close(fd)


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
    try:
        return sorted(
            (RunDir(p) for p in home.iterdir() if p.is_dir() and (p / "spec.json").exists()),
            key=lambda r: r.name,
        )
    except OSError as exc:
        raise LabError(f"cannot read the home directory {home}: {exc.strerror}") from None


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


def remove_sockets(run: RunDir) -> None:
    """Remove the control socket, and the sockets' own directory when it is not the run
    directory (a long path's fallback); one no longer private is left alone."""
    try:
        sockets = run.socket_dir()
    except LabError:
        return
    (sockets / "control.sock").unlink(missing_ok=True)
    if sockets != run.path:
        shutil.rmtree(sockets, ignore_errors=True)

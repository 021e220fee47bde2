"""Tie a child process's life to its supervisor's.

Children call :func:`die_with_parent` first thing: the kernel then SIGKILLs
them when the supervisor dies, however it dies (even SIGKILL), so no node or
proxy can outlive the lab that owns it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    # The parent may have died before prctl ran: we would then be re-parented already.
    if os.getppid() != parent_pid:
        os._exit(1)



def dying_with_me(argv: list[str]) -> list[str]:
    """``argv`` run so that the kernel SIGKILLs it when this process dies, however it dies (a
    node's own program: a crashed node leaves no orphan). It goes through this module, which
    sets the death signal and then execs ``argv`` (the setting survives exec). Not a
    ``preexec_fn``: Python code between fork and exec in a process with gRPC's threads can
    abort in gRPC's fork handlers."""
    return [sys.executable, "-m", "chaoslab.process.lifeline", str(os.getpid()), *argv]


def _exec(args: list[str]) -> None:
    """``python -m chaoslab.process.lifeline PARENT_PID PROGRAM [ARG...]``"""
    die_with_parent(int(args[0]))
    try:
        os.execvp(args[1], args[1:])
    except OSError as exc:
        print(f"cannot run {args[1]}: {exc.strerror or exc}", file=sys.stderr)
        os._exit(127)


if __name__ == "__main__":
    _exec(sys.argv[1:])

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

"""An external program a node runs as its child, spoken to in lines (stdin/stdout).

For algorithms whose node is someone else's program (``AlgorithmSpec.program``, e.g. a
Maelstrom node). The program dies with the node (``PR_SET_PDEATHSIG``: a SIGKILLed node leaves
no orphan), is in the node's process group (the supervisor's SIGSTOP freezes it too), and
writes its stderr straight into the node's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Callable, Sequence

from chaoslab.process.child import StartupFailed
from chaoslab.process.lifeline import dying_with_me

__all__ = ["LineProgram", "StartupFailed"]

log = logging.getLogger("chaoslab.program")

MAX_LINE_BYTES = 64 * 1024 * 1024  # as large as any lab message


class LineProgram:
    """``argv`` as a child: ``write(line)`` to its stdin; ``on_line(line)`` for each line of its
    stdout, then ``on_exit(code)`` once when it exits (not when we stopped it)."""

    def __init__(self, label: str, argv: Sequence[str], on_line: Callable[[str], None],
                 on_exit: Callable[[int], None]) -> None:
        self.label = label
        self.argv = list(argv)
        self.on_line = on_line
        self.on_exit = on_exit
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closing = False
        self.lines_in = 0
        self.lines_out = 0

    async def start(self) -> None:
        """Start the program; ``StartupFailed`` (one line) when it cannot be run at all."""
        program = self.argv[0]
        if shutil.which(program) is None:
            why = "not executable" if os.path.isfile(program) else "no such file (nor a command on PATH)"
            raise StartupFailed(f"cannot run {program}: {why}")
        self.proc = await asyncio.create_subprocess_exec(
            *dying_with_me(self.argv), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=None, limit=MAX_LINE_BYTES,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())
        log.info("%s: started %s (pid %d)", self.label, " ".join(self.argv), self.proc.pid)

    def write(self, line: str) -> None:
        stdin = self.proc.stdin if self.proc is not None else None
        if stdin is None or stdin.is_closing():
            return  # it exited: on_exit says so
        self.lines_out += 1
        stdin.write(line.encode() + b"\n")

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            try:
                raw = await self.proc.stdout.readline()
            except ValueError:  # a line over the limit: what it is cannot be told
                self.on_line(f"(a line over {MAX_LINE_BYTES} bytes)")
                continue
            if not raw:
                break
            self.lines_in += 1
            self.on_line(raw.decode(errors="replace").rstrip("\r\n"))
        code = await self.proc.wait()
        if not self._closing:
            self.on_exit(code)

    async def close(self, grace: float = 1.0) -> None:
        """Stop it: SIGTERM, then SIGKILL after ``grace`` seconds."""
        self._closing = True
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

"""The user's Maelstrom program beside a host core (``AlgorithmSpec.program``).

Lines the program writes go to the core as ``FromProgram`` inputs; ``ToProgram`` messages the
core addresses to its own node go to the program's stdin. Start-up waits for the core to be
ready (``init_ok``, and ``topology_ok`` for broadcast): a program that breaks the protocol
first (or exits, or is silent past ``init_timeout_ms``, which covers both answers) fails
the node's start with one line, which ``up`` prints and exits 2 on. Once running, a protocol
error is an event (the core's), and the program exiting ends the node, its exit recorded
like any node's (status shows the line).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

from chaoslab.algorithms.maelstrom.messages import FromProgram, ToProgram
from chaoslab.runtime.program import LineProgram, StartupFailed

log = logging.getLogger("chaoslab.maelstrom")

EXIT_PROGRAM_EXITED = 5  # the node's exit code when its program exited under it


class ProgramAdapter:
    def __init__(self, node: Any) -> None:
        self.node = node
        config = node.spec.config
        self.init_timeout_s = float(config.get("init_timeout_ms", 10_000)) / 1000
        argv = [str(config["bin"]), *(str(a) for a in config.get("args", []))]
        self.program = LineProgram(node.node_id, argv, self._on_line, self._on_exit)
        self._changed = asyncio.Event()

    async def spawn(self) -> None:
        await self.program.start()

    def send(self, message: Any) -> None:
        if isinstance(message, ToProgram):
            self.program.write(message.line)

    def _on_line(self, line: str) -> None:
        self.node.feed(FromProgram(line))
        self._changed.set()

    def _on_exit(self, code: int) -> None:
        self.node.feed(FromProgram("", exited=code))
        self._changed.set()
        if self.node.core.ready:
            asyncio.get_running_loop().create_task(self._end_node())

    async def _end_node(self) -> None:
        """The program is the node: without it there is nothing to serve. Its exit event is
        recorded first; the supervisor then sees the node exit and keeps the line."""
        await self.node.drain()
        log.error("%s", self.node.core.last_error)
        sys.stderr.flush()
        os._exit(EXIT_PROGRAM_EXITED)

    async def ready(self) -> None:
        core = self.node.core
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.init_timeout_s
        while True:
            if core.failure:
                raise StartupFailed(core.failure)
            if core.ready:
                return
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), give_up - loop.time())
            except TimeoutError:
                asked = "topology with topology_ok" if core.inited else "init with init_ok"
                raise StartupFailed(f"the program did not answer {asked} within {self.init_timeout_s:g}s") from None

    async def close(self) -> None:
        await self.program.close()

"""A child process's ``main``: everything a node or the proxy does around its own service.

    def main(argv=None):
        return child_main("chaoslab-node", serving, argv, arguments=add_node_arguments, label=lambda a: a.node_id)

Every child is started by the supervisor as ``python -m MODULE RUN_DIR [...] --parent-pid PID``
and, in this order: parses its arguments, ties its life to the supervisor's
(:func:`~chaoslab.process.lifeline.die_with_parent`), logs to stderr (the
supervisor sends that to its log file), catches SIGTERM and SIGINT, enters its
service (``serving(run, args)``, an async context manager that binds, starts,
and on exit stops), tunes the garbage collector once start-up is done, and
waits for a signal. Exit codes: 0 after a signal, :data:`EXIT_PORT_IN_USE` when
the service raised :class:`PortInUse` while starting (the supervisor reports
that as a startup error, with the last line of the child's log).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from chaoslab.process.gcpolicy import tune_for_throughput
from chaoslab.process.lifeline import die_with_parent
from chaoslab.process.rundir import RunDir

EXIT_PORT_IN_USE = 3  # a child's exit code the supervisor reports as a startup error
EXIT_STARTUP_FAILED = 4  # likewise, for StartupFailed (e.g. a node's own program would not start)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)  # how the supervisor asks a child to stop

Serving = Callable[[RunDir, argparse.Namespace], AbstractAsyncContextManager[object]]


class PortInUse(Exception):
    """A child could not bind one of its addresses; the message is the one line to report."""


class StartupFailed(Exception):
    """A child cannot start (say, the program a node runs broke its protocol); the message is
    the one line to report."""


def child_main(
    prog: str,
    serving: Serving,
    argv: list[str] | None = None,
    *,
    arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    label: Callable[[argparse.Namespace], str] = lambda args: "",
) -> int:
    """Run one child process; returns its exit code.

    ``arguments`` adds the child's own arguments after ``RUN_DIR``; ``label``
    names the process in each log line (``n3``, ``proxy``).
    """
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("run_dir", type=Path)
    if arguments is not None:
        arguments(parser)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {label(args) or prog} %(levelname)s %(message)s", stream=sys.stderr
    )
    return asyncio.run(_run(serving, RunDir(args.run_dir), args))


async def _run(serving: Serving, run: RunDir, args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:  # before start-up, so a stop asked for meanwhile is not lost
        loop.add_signal_handler(sig, stop.set)
    try:
        async with serving(run, args):
            tune_for_throughput()
            await stop.wait()
    except PortInUse as exc:
        print(exc, file=sys.stderr)
        return EXIT_PORT_IN_USE
    except StartupFailed as exc:
        print(exc, file=sys.stderr)
        return EXIT_STARTUP_FAILED
    return 0

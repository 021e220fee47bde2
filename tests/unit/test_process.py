"""child_main, the one main of the node and proxy processes, run as a real child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import sys
from contextlib import asynccontextmanager
from chaoslab.process.child import PortInUse, child_main

@asynccontextmanager
async def serving(run, args):
    if args.fail:
        raise PortInUse("127.0.0.1:1 is in use")
    (run.path / "started").write_text("")
    try:
        yield
    finally:
        (run.path / "stopped").write_text("")

def arguments(parser):
    parser.add_argument("--fail", action="store_true")

sys.exit(child_main("chaoslab-test", serving, arguments=arguments, label=lambda args: "t1"))
"""


def spawn(run: Path, *extra: str, parent: int | None = None) -> subprocess.Popen[str]:
    argv = [sys.executable, "-c", CHILD, str(run), "--parent-pid", str(parent or os.getpid()), *extra]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class TestChildMain:
    def test_stops_cleanly_on_sigterm(self, tmp_path: Path) -> None:
        """A child serves until SIGTERM, then leaves its service (teardown runs) and exits 0."""
        proc = spawn(tmp_path)
        deadline = time.monotonic() + 10
        while not (tmp_path / "started").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert (tmp_path / "stopped").exists()

    def test_port_in_use_is_exit_3_with_one_line(self, tmp_path: Path) -> None:
        """PortInUse from the service is exit code 3 (EXIT_PORT_IN_USE) and its message on stderr."""
        proc = spawn(tmp_path, "--fail")
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 3
        assert err.strip().splitlines()[-1] == "127.0.0.1:1 is in use"
        assert not (tmp_path / "started").exists()

    def test_a_child_whose_parent_is_not_the_supervisor_exits_at_once(self, tmp_path: Path) -> None:
        """The lifeline's check: a --parent-pid that is not the real parent means the parent died."""
        proc = spawn(tmp_path, parent=1)
        proc.communicate(timeout=10)
        assert proc.returncode == 1
        assert not (tmp_path / "started").exists()

"""The dashboard as a person sees it: a real terminal (tmux) on a real cluster."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (.ci/run installs it)")

HEADER_LEADER = re.compile(r"leader (n\d+) · term (\d+)")


class Terminal:
    """A detached tmux session on its own server socket, so tests never touch a user's tmux."""

    def __init__(self, command: list[str], width: int = 120, height: int = 50) -> None:
        self.socket = f"chaoslab-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), " ".join(command))

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate(self.screen())
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{what} not on screen within {timeout}s:\n{self.screen()}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", "t"], capture_output=True).returncode == 0

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def close(self) -> None:
        self._tmux("kill-server")


def test_dashboard_shows_new_leader_after_crash(chaoslab_clusters):
    """Crash the leader while the dashboard runs: the new leader shows in its header within seconds,
    and Ctrl-C ends the dashboard while the cluster keeps running."""
    cluster = chaoslab_clusters.up("raft", nodes=3, seed=3)
    term = Terminal([sys.executable, "-m", "chaoslab", "--home", str(chaoslab_clusters.home), "dashboard"])
    try:
        def leader_on_screen(screen: str):
            m = HEADER_LEADER.search(screen)
            return (m.group(1), int(m.group(2))) if m else None

        old, old_term = term.wait_for(leader_on_screen, 10, "a leader")
        assert "Nodes" in term.screen() and "Events" in term.screen()
        cluster.crash(old)

        def new_leader(screen: str):
            found = leader_on_screen(screen)
            return found if found and found[0] != old and "crashed" in screen else None

        new, new_term = term.wait_for(new_leader, 10, "a new leader")
        assert new_term > old_term
        term.send("C-c")
        deadline = time.monotonic() + 5
        while term.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not term.alive(), "Ctrl-C did not end the dashboard"
    finally:
        term.close()
    assert all(n.state == "up" for n in cluster.status().nodes if n.id != old)

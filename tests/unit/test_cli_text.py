"""What the command line prints without a cluster: help text, and the status table at 80 columns."""

from __future__ import annotations

import io
import time

import pytest
from rich.console import Console
from typer.testing import CliRunner

from chaoslab import cli
from chaoslab.v1 import control_pb2, node_pb2


def help_of(*command: str) -> str:
    result = CliRunner().invoke(cli.app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    return result.output


class TestHelp:
    @pytest.mark.parametrize("command", [(), ("up",), ("status",), ("crash",), ("restart",), ("drop",), ("delay",),
                                         ("partition",), ("kv", "put"), ("check",), ("dashboard",)])
    def test_no_python_types_in_help(self, command: tuple[str, ...]) -> None:
        """Help shows no <bool> beside flags and no <list[str]>: a user types values, not Python types."""
        text = help_of(*command)
        assert "<bool>" not in text and "list[" not in text

    def test_seed_says_its_real_default(self) -> None:
        """--seed of a fault says it defaults to the cluster's seed and shows no [default: 0] beside it."""
        for command in ("drop", "delay", "crash"):
            text = help_of(command)
            seed = text[text.index("--seed"):].split("--name")[0]
            assert "default: 0" not in seed and "cluster" in seed

    def test_restart_and_resume_offer_no_leader(self) -> None:
        """restart takes crashed nodes and resume paused ones: neither offers `leader`."""
        assert "leader" not in help_of("restart").split("Options")[0].split("Arguments")[1]
        assert "leader" not in help_of("resume").split("Options")[0].split("Arguments")[1]

    def test_kv_put_documents_large_values(self) -> None:
        """kv put names its size limit's setting and --value-file."""
        text = help_of("kv", "put")
        assert "raft.max_value_bytes" in text and "--value-file" in text


def status_with(errors: dict[str, tuple[str, str]], pid_base: int = 4_194_300) -> control_pb2.ClusterStatus:
    nodes = []
    for i in range(1, 6):
        info = control_pb2.NodeInfo(id=f"n{i}", pid=pid_base + i, state="up")
        if f"n{i}" in errors:
            info.state, info.error = errors[f"n{i}"]
        else:
            status = node_pb2.NodeStatus(id=f"n{i}", role="pre_candidate", term=7, leader="n1", last_heard_s=1.5)
            status.raft.commit_index = status.raft.applied_index = status.raft.last_index = 123_456
            info.status.CopyFrom(status)
        nodes.append(info)
    return control_pb2.ClusterStatus(cluster="raft", algorithm="raft", seed=1, started_at=time.time(), nodes=nodes)


class TestStatusAt80Columns:
    def render(self, status: control_pb2.ClusterStatus) -> str:
        console = Console(file=io.StringIO(), width=80)
        table, notes = cli._status_table(status)
        console.print(table)
        for note in notes:
            console.print(note)
        return console.file.getvalue()  # type: ignore[attr-defined]

    def test_pids_and_errors_are_whole(self) -> None:
        """At 80 columns (a pipe), seven-digit pids and a long reason are printed whole, never cut with '…'."""
        reason = "n4 exited with code 3 on restart; node.log ends: 127.0.0.1:45678 is in use"
        text = self.render(status_with({"n3": ("up", "not answering (deadline_exceeded)"), "n4": ("crashed", reason)}))
        assert "…" not in text
        for i in range(1, 6):
            assert str(4_194_300 + i) in text
        assert "n3: not answering (deadline_exceeded)" in text
        assert reason in " ".join(text.split())  # whole, though it may wrap

    def test_plain_crash_adds_no_note(self) -> None:
        """A node crashed on purpose says so in its state; no note repeats it."""
        text = self.render(status_with({"n2": ("crashed", "crashed"), "n5": ("paused", "paused (SIGSTOP)")}))
        assert "n2:" not in text and "n5:" not in text

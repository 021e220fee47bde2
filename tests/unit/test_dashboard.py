"""The dashboard: pure frames from fixed snapshots, golden text, colours, the poller and the runner.

Fixture snapshots are built as ``chaoslab.v1`` protos and converted with ``to_snapshot``,
the same ``status_to_dict`` the CLI and the poller use, so they stay true to the wire.
Bully and Byzantine have panels but no algorithm yet: their frames render with the
fixture specs below, and their panels are also tested by calling them directly.
Golden frames live in tests/golden/dashboard/; regenerate them with
``pytest tests/unit/test_dashboard.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from chaoslab.algorithms.bully.adapters.panel import bully_panel
from chaoslab.algorithms.byzantine.adapters.panel import byzantine_panel
from chaoslab.algorithms.spec import AlgorithmSpec
from chaoslab.dashboard import (
    DashboardState,
    Poller,
    frame_for_state,
    read_events,
    render_frame,
    run_dashboard,
    state_record,
    to_snapshot,
)
from chaoslab.dashboard.events import describe_event
from chaoslab.dashboard.network import link_states
from chaoslab.dashboard.nodes import nodes_panel
from chaoslab.dashboard.snapshot import fmt_duration, fmt_rate, num
from chaoslab.dashboard.style import TERM_PALETTE, role_text, term_colour
from chaoslab.v1 import control_pb2 as cpb
from chaoslab.v1 import node_pb2 as npb

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "dashboard"
NOW = 1_700_000_000.0
IDS = ["n1", "n2", "n3", "n4", "n5"]


# --------------------------------------------------------------------------- fixture builders


def fixture_spec(name: str, roles: dict[str, str], panel: str | None, term_name: str = "term") -> AlgorithmSpec:
    """A spec with what the dashboard reads (roles, words, panel) for an algorithm whose core is not here yet."""
    return AlgorithmSpec(name=name, summary=f"{name} (dashboard fixture)", factory=lambda *a: None,
                         message_types=(), roles=roles, panel=panel, term_name=term_name)


BULLY_SPEC = fixture_spec("bully", {"coordinator": "lead", "electing": "campaign", "member": "follow"},
                          "chaoslab.algorithms.bully.adapters.panel:bully_panel", term_name="epoch")
BYZANTINE_SPEC = fixture_spec("byzantine", {"commander": "lead", "lieutenant": "follow"},
                              "chaoslab.algorithms.byzantine.adapters.panel:byzantine_panel", term_name="round")


def cluster(algorithm: str, name: str = "demo", *, started: float = 135.0) -> cpb.ClusterStatus:
    return cpb.ClusterStatus(
        cluster=name,
        algorithm=algorithm,
        seed=7,
        started_at=NOW - started,
        supervisor_pid=4100,
        proxy_pid=4101,
        run_dir=f"/tmp/.chaoslab/{name}",
    )


def add_node(cs: cpb.ClusterStatus, nid: str, *, state: str = "up", error: str = "",
             restarts: int = 0) -> cpb.NodeInfo:
    i = int(nid[1:])
    return cs.nodes.add(id=nid, pid=4200 + i if state != "crashed" else 0, state=state,
                        port=7000 + i, proxy_port=7100 + i, restarts=restarts, error=error)


def log(*terms: int, start: int = 1) -> list[npb.LogEntrySummary]:
    return [
        npb.LogEntrySummary(index=start + k, term=t, text=f"put k{k % 4}={k}",
                            kind=npb.ENTRY_KIND_SUMMARY_NOOP if k == 0 or terms[k - 1] != t
                            else npb.ENTRY_KIND_SUMMARY_NORMAL)
        for k, t in enumerate(terms)
    ]


def raft_status(nid: str, *, role: str, term: int, leader: str, terms: list[int], commit: int,
                applied: int | None = None, heard: float = 0.03, voted_for: str = "",
                progress: list[npb.FollowerProgress] = (), votes: int = 0) -> npb.NodeStatus:
    return npb.NodeStatus(
        id=nid,
        algorithm="raft",
        role=role,
        term=term,
        leader=leader,
        pid=4200 + int(nid[1:]),
        uptime_s=130.0,
        last_heard_s=heard,
        messages_in=1840 + 17 * int(nid[1:]),
        messages_out=2210 if role == "leader" else 930,
        raft=npb.RaftStatus(
            voted_for=voted_for,
            commit_index=commit,
            applied_index=commit if applied is None else applied,
            last_index=len(terms),
            log_tail=log(*terms),
            progress=list(progress),
            votes=votes,
        ),
    )


def counters(ids: list[str], rate: float = 21.0, *, dead: set[str] = frozenset(),
             cut: set[tuple[str, str]] = frozenset()) -> list[cpb.LinkCounters]:
    out = []
    for s in ids:
        for d in ids:
            if s == d:
                continue
            silent = s in dead or d in dead or (s, d) in cut
            r = 0.0 if silent else rate + (3.5 if s == "n1" else 0) - int(d[1:]) * 0.25
            out.append(cpb.LinkCounters(src=s, dst=d, sent=900, delivered=0 if silent else 880,
                                        dropped=900 if silent else 0, rate=r))
    return out


TERMS = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3]  # indices 1..14


def healthy_status() -> cpb.ClusterStatus:
    cs = cluster("raft")
    progress = [
        npb.FollowerProgress(peer="n2", match_index=14, next_index=15, recent_active=True, state="replicate"),
        npb.FollowerProgress(peer="n3", match_index=14, next_index=15, recent_active=True, state="replicate"),
        npb.FollowerProgress(peer="n4", match_index=11, next_index=12, recent_active=True, state="replicate"),
        npb.FollowerProgress(peer="n5", match_index=13, next_index=14, recent_active=True, state="replicate"),
    ]
    add_node(cs, "n1").status.CopyFrom(raft_status("n1", role="leader", term=3, leader="n1", terms=TERMS,
                                                   commit=12, progress=progress, voted_for="n1"))
    add_node(cs, "n2").status.CopyFrom(raft_status("n2", role="follower", term=3, leader="n1", terms=TERMS,
                                                   commit=12, heard=0.021, voted_for="n1"))
    add_node(cs, "n3").status.CopyFrom(raft_status("n3", role="follower", term=3, leader="n1", terms=TERMS,
                                                   commit=12, applied=11, heard=0.034))
    add_node(cs, "n4", restarts=1).status.CopyFrom(
        raft_status("n4", role="follower", term=3, leader="n1", terms=TERMS[:11], commit=11, heard=0.047))
    add_node(cs, "n5").status.CopyFrom(raft_status("n5", role="follower", term=3, leader="n1", terms=TERMS[:13],
                                                   commit=12, heard=0.012))
    cs.faults.links.extend(counters(IDS))
    return cs


def healthy() -> dict:
    return to_snapshot(healthy_status())


def leader_crashed() -> dict:
    cs = cluster("raft")
    add_node(cs, "n1", state="crashed", error="node crashed (SIGKILL)")
    add_node(cs, "n2").status.CopyFrom(raft_status("n2", role="pre_candidate", term=3, leader="", terms=TERMS,
                                                   commit=12, heard=0.61))
    add_node(cs, "n3").status.CopyFrom(raft_status("n3", role="candidate", term=4, leader="", terms=TERMS,
                                                   commit=12, heard=0.48, voted_for="n3", votes=2))
    add_node(cs, "n4", restarts=1).status.CopyFrom(raft_status("n4", role="follower", term=4, leader="",
                                                               terms=TERMS[:11], commit=11, heard=0.52,
                                                               voted_for="n3"))
    add_node(cs, "n5", error="DEADLINE_EXCEEDED: status deadline 0.15s")
    cs.faults.links.extend(counters(IDS, rate=9.0, dead={"n1"}))
    return to_snapshot(cs)


def partition() -> dict:
    cs = cluster("raft", started=410.0)
    minority, majority = ["n1", "n2"], ["n3", "n4", "n5"]
    add_node(cs, "n1").status.CopyFrom(raft_status("n1", role="leader", term=3, leader="n1",
                                                   terms=TERMS + [3, 3, 3], commit=12, progress=[
        npb.FollowerProgress(peer="n2", match_index=17, next_index=18, recent_active=True, state="replicate"),
        npb.FollowerProgress(peer="n3", match_index=12, next_index=15, recent_active=False, state="probe"),
        npb.FollowerProgress(peer="n4", match_index=11, next_index=15, recent_active=False, state="probe"),
        npb.FollowerProgress(peer="n5", match_index=12, next_index=15, recent_active=False, state="probe"),
    ]))
    add_node(cs, "n2", state="paused", error="DEADLINE_EXCEEDED")
    new_terms = TERMS[:12] + [4, 4, 4, 4]
    add_node(cs, "n3").status.CopyFrom(raft_status("n3", role="leader", term=4, leader="n3", terms=new_terms,
                                                   commit=15, progress=[
        npb.FollowerProgress(peer="n1", match_index=0, next_index=13, recent_active=False, state="probe"),
        npb.FollowerProgress(peer="n2", match_index=0, next_index=13, recent_active=False, state="probe"),
        npb.FollowerProgress(peer="n4", match_index=16, next_index=17, recent_active=True, state="replicate"),
        npb.FollowerProgress(peer="n5", match_index=15, next_index=16, recent_active=True, state="replicate"),
    ]))
    add_node(cs, "n4").status.CopyFrom(raft_status("n4", role="follower", term=4, leader="n3",
                                                   terms=new_terms, commit=15, heard=0.04))
    add_node(cs, "n5").status.CopyFrom(raft_status("n5", role="follower", term=4, leader="n3",
                                                   terms=new_terms[:15], commit=15, heard=0.18))
    label = "partition n1,n2 | n3,n4,n5"
    cs.faults.rules.extend([
        cpb.LinkRule(id="f1", src=minority, dst=majority, blackhole=True, label=label, kind="partition"),
        cpb.LinkRule(id="f2", src=majority, dst=minority, blackhole=True, label=label, kind="partition"),
        cpb.LinkRule(id="f3", src=["n3"], drop=0.3, seed=7, kind="drop"),
        cpb.LinkRule(id="f4", dst=["n5"], delay_ms=100, jitter_ms=20, kind="delay", expires_at=NOW + 4.2),
        cpb.LinkRule(id="f5", src=["n4"], dst=["n5"], duplicate=0.1, kind="duplicate"),
    ])
    cut = {(s, d) for s in minority for d in majority} | {(s, d) for s in majority for d in minority}
    cs.faults.links.extend(counters(IDS, rate=18.0, cut=cut, dead={"n2"}))
    cs.faults.partition_groups.extend(["n1,n2", "n3,n4,n5"])
    return to_snapshot(cs)


def bully() -> dict:
    cs = cluster("bully", name="bully-demo", started=75.0)
    beliefs = {"n1": "n5", "n2": "n4", "n3": "n4", "n4": "n4"}
    for i, nid in enumerate(IDS, start=1):
        if nid == "n5":
            add_node(cs, nid, state="crashed", error="node crashed (SIGKILL)")
            continue
        coord = beliefs[nid]
        role = "coordinator" if coord == nid else ("electing" if nid == "n1" else "member")
        add_node(cs, nid).status.CopyFrom(npb.NodeStatus(
            id=nid, algorithm="bully", role=role, term=2 if nid != "n1" else 1, leader=coord,
            pid=4200 + i, uptime_s=70.0, last_heard_s=2.4 if nid == "n1" else 0.2,
            bully=npb.BullyStatus(coordinator=coord, priority=i, electing=nid == "n1",
                                  elections_started=3 if nid == "n1" else (1 if nid == "n4" else 0)),
        ))
    return to_snapshot(cs)


def byzantine() -> dict:
    cs = cluster("byzantine", name="generals", started=12.0)
    received = {
        "n2": [(["n1"], "attack"), (["n1", "n3"], "retreat"), (["n1", "n4"], "attack")],
        "n3": [(["n1"], "attack"), (["n1", "n2"], "attack"), (["n1", "n4"], "attack")],
        "n4": [(["n1"], "attack"), (["n1", "n2"], "attack"), (["n1", "n3"], "retreat")],
    }
    for i, nid in enumerate(["n1", "n2", "n3", "n4"], start=1):
        is_cmdr = nid == "n1"
        add_node(cs, nid).status.CopyFrom(npb.NodeStatus(
            id=nid, algorithm="byzantine", role="commander" if is_cmdr else "lieutenant", term=1,
            leader="n1", pid=4200 + i, uptime_s=11.0, last_heard_s=0.3,
            byzantine=npb.ByzantineStatus(
                mode="om", faults=1, commander="n1", traitor=nid == "n3",
                order="attack" if is_cmdr else "", instance="n1:1", traitors=["n3"],
                sent=3 if is_cmdr else 2, strategy="flip" if nid == "n3" else "",
                received=[npb.ByzantineReceived(path=p, value=v) for p, v in received.get(nid, [])],
                decision="" if is_cmdr or nid == "n3" else "attack",
            ),
        ))
    return to_snapshot(cs)


def ev(ago: float, source: str, kind: str, **data) -> dict:
    return {"time": NOW - ago, "source": source, "kind": kind, **data}


HEALTHY_EVENTS = [
    ev(135, "lab", "up"),
    ev(134.9, "lab", "spawn", node="n1", pid=4201),
    ev(60.2, "lab", "crash", node="n4"),
    ev(58.0, "lab", "restart", node="n4"),
    ev(57.8, "n1", "role", role="candidate", term=3),
    ev(57.7, "n2", "vote", candidate="n1", term=3),
    ev(57.6, "n1", "role", role="leader", term=3),
    ev(57.5, "n4", "leader", leader="n1", term=3),
    ev(12.0, "proxy", "fault", action="clear", label="drop 5% *→n2"),
]
CRASH_EVENTS = HEALTHY_EVENTS + [
    ev(1.4, "lab", "crash", node="n1"),
    ev(0.6, "n3", "term", term=4),
    ev(0.6, "n3", "role", role="candidate", term=4),
    ev(0.5, "n4", "vote", candidate="n3", term=4),
    ev(0.2, "n2", "role", role="pre_candidate", term=3),
]
PARTITION_EVENTS = HEALTHY_EVENTS + [
    ev(30.0, "proxy", "fault", action="add", label="partition n1,n2 | n3,n4,n5"),
    ev(29.7, "n3", "role", role="leader", term=4),
    ev(20.0, "lab", "pause", node="n2"),
    ev(3.0, "proxy", "fault", action="add", label="f4 delay 100±20ms *→n5"),
    ev(1.0, "proxy", "reroute", why="test unknown kinds"),
]
BULLY_EVENTS = [
    ev(75, "lab", "up"),
    ev(40, "lab", "crash", node="n5"),
    ev(38, "n4", "coordinator", epoch=2),
    ev(2.0, "n1", "election", epoch=2),
]
BYZ_EVENTS = [ev(12, "lab", "up"), ev(1.5, "n2", "decide", value="attack"), ev(1.4, "n4", "decide", value="attack")]


SCENARIOS = {
    "healthy": lambda w: render_frame(healthy(), HEALTHY_EVENTS, now=NOW, width=w),
    "leader-crashed": lambda w: render_frame(leader_crashed(), CRASH_EVENTS, now=NOW, width=w),
    "partition": lambda w: render_frame(partition(), PARTITION_EVENTS, now=NOW, width=w),
    "supervisor-gone": lambda w: render_frame(
        healthy(), HEALTHY_EVENTS + [ev(12.0, "lab", "down")], now=NOW, width=w,
        down="UNAVAILABLE: failed to connect to all addresses", snapshot_age=12.0),
    "bully": lambda w: render_frame(bully(), BULLY_EVENTS, now=NOW, width=w, spec=BULLY_SPEC),
    "byzantine": lambda w: render_frame(byzantine(), BYZ_EVENTS, now=NOW, width=w, spec=BYZANTINE_SPEC),
}


def long_log() -> dict:
    """40 entries over terms 1..12; nodes report their last 24; n3 is far behind."""
    cs = cluster("raft")
    terms = [1] * 5 + [2] * 10 + [5] * 10 + [9] * 8 + [12] * 7

    def status(nid, role, n, commit):
        progress = [npb.FollowerProgress(peer="n2", match_index=38, next_index=39, recent_active=True,
                                         state="replicate")] if role == "leader" else []
        st = raft_status(nid, role=role, term=12, leader="n1", terms=terms[:n], commit=commit,
                         progress=progress)
        tail = list(st.raft.log_tail)[-24:]
        del st.raft.log_tail[:]
        st.raft.log_tail.extend(tail)
        return st

    add_node(cs, "n1").status.CopyFrom(status("n1", "leader", 40, 38))
    add_node(cs, "n2").status.CopyFrom(status("n2", "follower", 38, 38))
    add_node(cs, "n3").status.CopyFrom(status("n3", "follower", 20, 20))
    return to_snapshot(cs)


# --------------------------------------------------------------------------- rendering helpers


def plain(renderable, width: int = 80) -> str:
    """The frame as a terminal without colour would show it; trailing blanks stripped."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False,
                      legacy_windows=False, highlight=False, emoji=False, _environ={})
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines()) + "\n"


def coloured(renderable, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system="standard",
                      legacy_windows=False, highlight=False, emoji=False, _environ={})
    console.print(renderable)
    return console.file.getvalue()


def segments(renderable, width: int = 80):
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system="standard",
                      legacy_windows=False, _environ={})
    return [seg for line in console.render_lines(renderable, console.options.update(width=width))
            for seg in line]


def style_of(renderable, needle: str, width: int = 80):
    """The style of the first rendered segment containing ``needle``."""
    for seg in segments(renderable, width):
        if needle in seg.text:
            return seg.style
    raise AssertionError(f"{needle!r} not rendered")


def row(text: str, first: str) -> str:
    """The rendered line whose first cell is ``first``."""
    for line in text.splitlines():
        cells = line.strip("│ ").split()
        if cells and cells[0] == first:
            return line
    raise AssertionError(f"no row starting {first!r} in\n{text}")


def cells(text: str, first: str) -> list[str]:
    """The whitespace-separated cells of the row whose first cell is ``first``."""
    return row(text, first).strip("│ ").split()


# --------------------------------------------------------------------------- golden frames


class TestGolden:
    """Whole frames at 80 and 120 columns match their golden text files."""

    @pytest.mark.parametrize("width", [80, 120])
    @pytest.mark.parametrize("scenario", list(SCENARIOS))
    def test_frame_matches_golden(self, scenario, width, request):
        """The frame renders exactly as recorded (regenerate with --update-golden)."""
        actual = plain(SCENARIOS[scenario](width), width)
        path = GOLDEN / f"{scenario}-{width}.txt"
        if request.config.getoption("update_golden"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        assert path.exists(), f"missing {path}; run pytest with --update-golden"
        assert actual == path.read_text(encoding="utf-8")

    @pytest.mark.parametrize("width", [80, 120])
    @pytest.mark.parametrize("scenario", list(SCENARIOS))
    def test_no_line_exceeds_the_width(self, scenario, width):
        """Narrow terminals stay readable: nothing is wider than the terminal."""
        for line in plain(SCENARIOS[scenario](width), width).splitlines():
            assert len(line) <= width, line

    @pytest.mark.parametrize("scenario", list(SCENARIOS))
    def test_very_narrow_terminals_do_not_break(self, scenario):
        """Even at 50 columns every scenario renders without an exception."""
        out = plain(SCENARIOS[scenario](50), 50)
        assert max(len(line) for line in out.splitlines()) <= 50


# --------------------------------------------------------------------------- panels, by content


class TestNodesPanel:
    """The nodes panel has a row per node with its state, role and indexes."""

    def test_every_node_has_a_row(self):
        """All five nodes appear with their pid, role, term and leader."""
        out = plain(nodes_panel(healthy()))
        assert cells(out, "n1")[1:6] == ["4201", "●", "up", "★", "leader"]
        for nid in ["n2", "n3", "n4", "n5"]:
            assert "○ follower" in row(out, nid)
            assert " n1 " in row(out, nid)

    def test_missing_node_row_would_fail(self):
        """Dropping a node from the snapshot drops its row (so golden tests can catch it)."""
        snap = healthy()
        snap["nodes"] = snap["nodes"][:4]
        with pytest.raises(AssertionError):
            row(plain(nodes_panel(snap)), "n5")

    def test_commit_applied_log_columns(self):
        """commit / applied / log length come from the raft detail, as numbers not strings."""
        line = row(plain(nodes_panel(healthy())), "n3")
        assert re.search(r"\b12\s+11\s+14\b", line), line
        line = row(plain(nodes_panel(healthy())), "n4")
        assert "↻1" in line and re.search(r"\b11\s+11\s+11\b", line)

    def test_crashed_paused_and_silent_nodes(self):
        """A crashed node says crashed, a silent one says no answer (with why), never a traceback."""
        out = plain(nodes_panel(leader_crashed()))
        assert "✕ crashed" in row(out, "n1")
        assert "? no answer" in row(out, "n5")
        assert "n5: DEADLINE_EXCEEDED" in out
        assert "‖ paused" in row(plain(nodes_panel(partition())), "n2")

    def test_last_heard_is_relative_and_formatted(self):
        """Followers show how long since they heard the leader; the leader shows a dash."""
        out = plain(nodes_panel(healthy()))
        assert cells(out, "n2")[-1] == "21ms"
        assert cells(out, "n1")[-1] == "–"

    def test_wide_frames_add_uptime_and_message_counts(self):
        """At 120 columns the panel also shows uptime and messages in/out."""
        out = plain(nodes_panel(healthy(), width=120), 120)
        assert "msgs in/out" in out and "2m10s" in row(out, "n1") and "1.9k/2.2k" in row(out, "n1")


    def test_columns_come_from_the_spec(self):
        """An algorithm's status_columns are the panel's extra columns: numbers, strings, lists."""
        from chaoslab.algorithms.spec import StatusColumn

        spec = AlgorithmSpec(name="echo", summary="", factory=lambda *a: None, message_types=(),
                             roles={"lowest": "lead", "member": "follow"}, term_name="boot",
                             status_columns=(StatusColumn("pings", "echo.pings"), StatusColumn("alive", "echo.alive"),
                                             StatusColumn("mood", "echo.mood")))
        snap = {"algorithm": "echo", "nodes": [
            {"id": "n1", "state": "up", "status": {"role": "lowest", "term": 2, "leader": "n1",
                                                   "echo": {"pings": "7", "alive": ["n1", "n2"], "mood": "calm"}}},
            {"id": "n2", "state": "up", "status": {"role": "member", "term": 2, "leader": "n1", "echo": {}}},
        ]}
        out = plain(nodes_panel(snap, spec=spec))
        assert cells(out, "node")[:8] == ["node", "pid", "state", "role", "boot", "leader", "pings", "alive"]
        assert cells(out, "n1")[4:12] == ["★", "lowest", "2", "self", "7", "n1", "n2", "calm"]
        assert cells(out, "n2")[8:11] == ["–", "–", "–"]


class TestRaftPanel:
    """The raft panel aligns log tails by index and shows the leader's view of followers."""

    def frame(self, snap=None, width=80):
        return plain(render_frame(snap or healthy(), [], now=NOW, width=width), width)

    def test_committed_entries_are_boxed_and_uncommitted_parenthesised(self):
        """n1 has indexes 1..14 with commit 12: the tail ends in [3][3](3)(3)."""
        line = row(self.frame().split("Raft log")[1], "n1")
        assert "[1][1][1][2][2][2][3][3][3][3][3][3](3)(3)" in line

    def test_lagging_logs_are_left_aligned_by_index(self):
        """n4's shorter log ends earlier on the same index columns."""
        raft = self.frame().split("Raft log")[1]
        n1, n4 = row(raft, "n1"), row(raft, "n4")
        assert n4.index("[3][3][3][3][3]") == n1.index("[3][3][3][3][3]")
        assert cells(raft, "n4")[-2:] == ["11", "12"]

    def test_match_and_next_per_follower(self):
        """The leader's match/next index per follower sits on each follower's row."""
        raft = self.frame().split("Raft log")[1]
        assert cells(raft, "n2")[-2:] == ["14", "15"]
        assert cells(raft, "n5")[-2:] == ["13", "14"]
        assert "lead" in row(raft, "n1")

    def test_only_the_current_term_leader_provides_progress(self):
        """With a stale leader in a minority, match/next come from the newer leader (n3, term 4)."""
        raft = self.frame(partition()).split("Raft log")[1]
        assert "leader n3 (term 4)" in raft
        assert cells(raft, "n4")[-2:] == ["16", "17"]

    def test_long_logs_show_the_newest_window(self):
        """With more entries than fit, the newest indexes are shown; two-digit terms widen the boxes."""
        raft = self.frame(long_log()).split("Raft log")[1]
        n1 = row(raft, "n1")
        assert n1.rstrip(" │").endswith("[12][12][12][12][12](12)(12)  lead    –")
        assert "[9] [9]" in n1 and "[1]" not in n1
        assert "… log ends at 20" in row(raft, "n3")
        assert re.search(r"\b40\s+match", raft.splitlines()[1])

    def test_ruler_labels_indexes(self):
        """The header labels the first index shown and every fifth one."""
        raft = self.frame().split("Raft log")[1]
        ruler = raft.splitlines()[1]
        assert re.search(r"\b1\b.*\b5\b.*\b10\b", ruler), ruler


class TestNetworkPanel:
    """The network panel is an n×n matrix of directed link states and rates."""

    def test_link_states_follow_rules(self):
        """Rules with empty src/dst match any node; each adds its state."""
        rules = partition()["faults"]["rules"]
        assert link_states(rules, "n1", "n3") == ["blackholed"]
        assert link_states(rules, "n3", "n5") == ["lossy", "slow"]
        assert link_states(rules, "n4", "n5") == ["slow", "duplicating"]
        assert link_states(rules, "n4", "n3") == ["ok"]
        assert link_states([], "n1", "n2") == ["ok"]

    def test_matrix_cells(self):
        """Row n3 shows lossy links, a blackholed link to n1 and a slow lossy link to n5."""
        out = plain(render_frame(partition(), [], now=NOW, width=80))
        net = out.split("Network")[1]
        n3 = cells(net, "n3")
        assert n3[:2] == ["n3", "B"]
        assert n3[2:4] == ["✕", "0"] and "~»" in n3

    def test_partition_groups_are_named(self):
        """Partition groups are listed as A and B, and rows are tagged with their group."""
        out = plain(render_frame(partition(), [], now=NOW, width=80))
        assert "partition A: n1 n2 │ B: n3 n4 n5" in out
        assert "f4 delay 100±20ms *→n5 (ends in 4.2s)" in out

    def test_no_faults_renders_gracefully(self):
        """A snapshot without a faults field says 'no faults' and still draws the links."""
        snap = healthy()
        del snap["faults"]
        out = plain(render_frame(snap, [], now=NOW, width=80))
        assert "no faults" in out and "(no link counters)" in out
        assert "· ok" in out


class TestEventsPanel:
    """Events are newest first, with times relative to now, and unknown kinds still render."""

    def test_newest_first_with_relative_times(self):
        """The latest event comes first and says how long ago it happened."""
        out = plain(render_frame(leader_crashed(), CRASH_EVENTS, now=NOW, width=80))
        events = out.split("Events")[1].splitlines()[1:]
        assert "0.2s ago" in events[0] and "became pre-cand" in events[0]
        assert "1.4s ago" in out and "crashed" in row("\n".join(events), "1.4s")

    @pytest.mark.parametrize(
        ("event", "expected"),
        [
            (ev(1, "n1", "role", role="leader", term=4), "became leader · term 4"),
            (ev(1, "n1", "term", term=5), "term → 5"),
            (ev(1, "n2", "vote", candidate="n1", term=5), "voted for n1 · term 5"),
            (ev(1, "n2", "leader", leader="n1", term=5), "follows leader n1 · term 5"),
            (ev(1, "n1", "leader", leader="n1", term=5), "is leader itself · term 5"),
            (ev(1, "lab", "exit", node="n2", code=1), "exited (code 1)"),
            (ev(1, "proxy", "fault", action="heal", label="partition"), "fault heal: partition"),
            (ev(1, "lab", "mystery", x=1), "mystery x=1"),
            ({"kind": "role"}, "became ?"),
        ],
    )
    def test_describe_event(self, event, expected):
        """Each kind reads as a short phrase; unknown kinds as kind key=value."""
        assert describe_event(event).plain == expected


class TestAlgorithmPanels:
    """Bully and Byzantine clusters get their own panels (called directly here, on fixtures)."""

    def test_bully_beliefs(self):
        """Each node's believed coordinator is shown; split beliefs are called out."""
        out = plain(bully_panel(bully(), width=80))
        assert "Bully" in out and "Raft log" not in out
        bully_part = out.split("Bully")[1]
        assert cells(bully_part, "n1")[1] == "n5"
        assert "beliefs differ: n4 ← n2 n3 n4 │ n5 ← n1" in out

    def test_bully_agreement(self):
        """When all live nodes agree on the highest live priority, the panel says so."""
        snap = bully()
        for node in snap["nodes"]:
            if node["id"] == "n1":
                node["status"]["bully"]["coordinator"] = "n4"
        assert "✓ all 4 live nodes agree: coordinator n4" in plain(bully_panel(snap))

    def test_byzantine_traitor_and_decisions(self):
        """The traitor is marked; loyal lieutenants' decisions and IC1/IC2 are shown."""
        out = plain(byzantine_panel(byzantine(), width=80))
        byz = out.split("Byzantine generals")[1]
        assert "OM(1) · commander n1" in byz
        assert "✗ traitor" in row(byz, "n3")
        assert cells(byz, "n2")[-1] == "attack"
        assert "attack×2 retreat×1" in row(byz, "n2")
        assert "✓ IC1 loyal lieutenants agree" in byz and "✓ IC2 they obey the order" in byz

    def test_byzantine_wide_shows_paths(self):
        """At 120 columns each received value shows its relay path."""
        out = plain(byzantine_panel(byzantine(), width=120), 120)
        assert "n1›n3:retreat" in out

    def test_the_spec_picks_the_panel(self):
        """A frame shows the panel its algorithm's spec names, and only that one."""
        out = plain(render_frame(bully(), [], now=NOW, width=80, spec=BULLY_SPEC))
        assert "╭─ Bully" in out and "Raft log" not in out and "Byzantine" not in out
        assert "Raft log" in plain(render_frame(healthy(), [], now=NOW, width=80))

    @pytest.mark.parametrize("algorithm", ["no-such-algorithm", "no.such.module:SPEC", ""])
    def test_unknown_algorithm_gets_no_panel(self, algorithm):
        """An algorithm the registry does not know renders nodes, network and events, no panel, no crash."""
        snap = bully()
        snap["algorithm"] = algorithm
        out = plain(render_frame(snap, BULLY_EVENTS, now=NOW, width=80))
        assert "╭─ Nodes" in out and "╭─ Network" in out and "╭─ Events" in out
        assert "╭─ Bully" not in out
        assert "? coordinator" in row(out, "n4")  # no spec: the role's kind is unknown

    def test_a_spec_without_a_panel_or_with_a_broken_one(self):
        """No panel means none; a panel reference that does not load is left out too."""
        for panel in [None, "chaoslab.no_such_module:panel", "chaoslab.dashboard.style:NOPE"]:
            spec = fixture_spec("bully", dict(BULLY_SPEC.roles), panel, term_name="epoch")
            out = plain(render_frame(bully(), [], now=NOW, width=80, spec=spec))
            assert "╭─ Nodes" in out and "╭─ Bully" not in out

    def test_a_panel_that_raises_is_a_note(self):
        """A plug-in panel's bug shows as one line in its place; the rest of the frame renders."""
        spec = fixture_spec("bully", dict(BULLY_SPEC.roles), "chaoslab.dashboard.snapshot:fmt_rate")
        out = plain(render_frame(bully(), [], now=NOW, width=80, spec=spec))
        assert "fmt_rate failed: TypeError" in out and "╭─ Network" in out


class TestRoles:
    """Roles are styled by their kind in the spec, never by their name."""

    def test_kinds(self):
        """lead ★ bold green, campaign ◆ bold yellow, follow ○ plain, unknown ?."""
        assert (role_text("boss", "lead").plain, str(role_text("boss", "lead").style)) == ("★ boss", "bold green")
        assert (role_text("runner", "campaign").plain, str(role_text("runner", "campaign").style)) == (
            "◆ runner", "bold yellow")
        assert (role_text("sheep", "follow").plain, str(role_text("sheep", "follow").style)) == ("○ sheep", "")
        assert role_text("leader").plain == "? leader"  # no kind, no spec: unknown
        assert role_text("", "lead").plain == "–"

    def test_spec_says_the_kind(self):
        """Given a spec, the kind comes from its roles; roles it does not list are unknown."""
        assert role_text("coordinator", BULLY_SPEC).plain == "★ coordinator"
        assert role_text("leader", BULLY_SPEC).plain == "? leader"

    def test_pre_roles_are_tentative(self):
        """``pre_candidate`` (a campaign kind) is ◇, yellow without bold, labelled ``pre-cand``."""
        text = role_text("pre_candidate", "campaign")
        assert (text.plain, str(text.style)) == ("◇ pre-cand", "yellow")
        assert role_text("pre_candidate", "campaign", glyph=False).plain == "pre-cand"


class TestNoAlgorithmNames:
    """The dashboard package names no algorithm: everything specific comes from the spec."""

    NAMES = {"raft", "bully", "byzantine", "coordinator", "commander", "candidate", "pre_candidate",
             "follower", "lieutenant", "member", "electing"}
    # The lab's event vocabulary (ARCHITECTURE.md): a ``vote`` event names its ``candidate``.
    EVENT_FIELDS = {("events.py", "candidate")}

    def test_no_algorithm_or_role_names_in_the_dashboard(self):
        """No string constant in chaoslab/dashboard/*.py is an algorithm's or a role's name."""
        import ast

        import chaoslab.dashboard as pkg

        found = []
        for path in sorted(Path(pkg.__file__).parent.glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in self.NAMES:
                    if (path.name, node.value) in self.EVENT_FIELDS:
                        continue
                    found.append(f"{path.name}:{node.lineno} {node.value!r}")
        assert found == []


class TestHeight:
    """Given a terminal height, the frame fits it."""

    @pytest.mark.parametrize("scenario", [healthy, partition, leader_crashed])
    @pytest.mark.parametrize(("width", "height"), [(80, 30), (80, 40), (120, 30)])
    def test_frame_fits_the_terminal(self, scenario, width, height):
        """Events shrink and the matrix moves beside them so nothing is cut off."""
        frame = render_frame(scenario(), PARTITION_EVENTS, now=NOW, width=width, height=height)
        lines = plain(frame, width).splitlines()
        assert len(lines) <= height
        assert "Events" in lines[-1] or any("Events" in line for line in lines)

    def test_short_80_column_terminal_golden(self, request):
        """An 80×30 terminal with a partition: the matrix sits beside the events, rules on one line."""
        actual = plain(render_frame(partition(), PARTITION_EVENTS, now=NOW, width=80, height=30), 80)
        path = GOLDEN / "partition-80x30.txt"
        if request.config.getoption("update_golden"):
            path.write_text(actual, encoding="utf-8")
            return
        assert actual == path.read_text(encoding="utf-8")

    def test_tall_terminal_shows_more_events(self):
        """More rows mean more events, up to the ones there are."""
        short = plain(render_frame(healthy(), HEALTHY_EVENTS, now=NOW, width=80, height=36))
        tall = plain(render_frame(healthy(), HEALTHY_EVENTS, now=NOW, width=80, height=60))
        assert "cluster up" not in short and "cluster up" in tall


class TestDownFrames:
    """Missing supervisors and torn-down clusters are shown as such."""

    def test_supervisor_gone(self):
        """No snapshot: the frame names the cluster and the reason, with no traceback."""
        out = plain(render_frame(None, [], now=NOW, down="UNAVAILABLE: no socket", name="demo"))
        assert "supervisor not reachable — cluster 'demo' is down" in out
        assert "reason: UNAVAILABLE: no socket" in out
        assert "Traceback" not in out

    def test_one_failed_poll_is_staleness_not_down(self):
        """A single failed poll keeps the last snapshot, marked stale; two make the frame 'down'."""
        state = DashboardState(snapshot=healthy(), snapshot_time=NOW - 3, error="timeout", failures=1, polls=9)
        out = plain(frame_for_state(state, now=NOW, width=80))
        assert "! stale 3.0s" in out and "Raft log" in out
        out = plain(frame_for_state(DashboardState(**{**state.__dict__, "failures": 2}), now=NOW))
        assert "supervisor not reachable" in out and "last status: 3.0s ago (5 nodes" in out

    def test_before_the_first_poll(self):
        """Until the first poll completes the frame says it is connecting."""
        out = plain(frame_for_state(DashboardState(), now=NOW, name="demo"))
        assert "connecting to cluster 'demo'" in out

    def test_garbage_snapshot_does_not_raise(self):
        """Odd or partial dicts render something rather than raise."""
        for snap in [{}, {"nodes": [{}]}, {"nodes": [{"id": "n1", "status": {"raft": {"log_tail": [{}]}}}]},
                     {"algorithm": "raft", "nodes": "oops", "faults": []}]:
            plain(render_frame(snap, [{"kind": None}, "not a dict"], now=NOW))


class TestColours:
    """Colours carry meaning; monochrome glyphs say the same thing."""

    def test_colour_codes_are_present_on_a_terminal(self):
        """With a terminal, the frame carries ANSI colour codes."""
        out = coloured(render_frame(healthy(), HEALTHY_EVENTS, now=NOW))
        assert "\x1b[" in out and "\x1b[1;32m" in out

    def test_role_colours(self):
        """Leader green, candidate yellow, follower default."""
        assert style_of(nodes_panel(healthy()), "★ leader").color.name == "green"
        assert style_of(nodes_panel(leader_crashed()), "◆ candidate").color.name == "yellow"
        follower = style_of(nodes_panel(healthy()), "○ follower")
        assert follower is None or follower.color is None

    def test_state_colours(self):
        """Crashed red, paused magenta."""
        assert style_of(nodes_panel(leader_crashed()), "✕ crashed").color.name == "red"
        assert style_of(nodes_panel(partition()), "‖ paused").color.name == "magenta"

    def test_log_boxes_use_the_term_palette(self):
        """Committed entries are filled with their term's colour; the palette is stable."""
        frame = render_frame(healthy(), [], now=NOW)
        style = style_of(frame, "[2]")
        assert style.bgcolor.name == term_colour(2) == TERM_PALETTE[2]
        assert style_of(frame, "(3)").color.name == term_colour(3)
        assert term_colour(3 + len(TERM_PALETTE)) == term_colour(3)


# --------------------------------------------------------------------------- snapshot helpers


class TestSnapshot:
    """One converter builds snapshots; the accessors still read MessageToDict-shaped dicts."""

    def test_one_converter(self):
        """``to_snapshot`` is ``status_to_dict``: the dict ``chaoslab status --json`` prints."""
        from chaoslab.lab.cluster import status_to_dict

        message = healthy_status()
        assert to_snapshot(message) == status_to_dict(message)
        assert to_snapshot(message)["nodes"][0]["status"]["term"] == 3
        assert to_snapshot(message)["nodes"][0]["role"] == "leader"

    @pytest.mark.parametrize("scenario", [healthy_status])
    def test_message_to_dict_snapshots_render_the_same(self, scenario):
        """Dicts with uint64 strings (``MessageToDict``, as older tools wrote) render like snapshots."""
        from google.protobuf.json_format import MessageToDict

        message = scenario()
        as_strings = MessageToDict(message, preserving_proto_field_name=True,
                                   always_print_fields_with_no_presence=True)
        assert as_strings["nodes"][0]["status"]["term"] == "3"
        assert plain(render_frame(as_strings, HEALTHY_EVENTS, now=NOW)) == plain(
            render_frame(to_snapshot(message), HEALTHY_EVENTS, now=NOW))

    def test_num_reads_uint64_strings(self):
        """uint64 fields that arrive as strings come out as ints, as numbers do."""
        snap = healthy()
        assert snap["nodes"][0]["status"]["term"] == 3
        assert num({"nodes": [{"status": {"term": "3"}}]}, "nodes", 0, "status", "term") == 3
        assert num(snap, "nodes", 0, "status", "term") == 3
        assert num(snap, "nodes", 9, "status", "term", default=-1) == -1
        assert num({"x": "1.5"}, "x") == 1.5 and num({"x": "junk"}, "x") == 0

    def test_formatting(self):
        """Durations and rates have one spelling everywhere."""
        assert [fmt_duration(s) for s in (0.021, 3.44, 42, 125, 11_000)] == ["21ms", "3.4s", "42s", "2m05s", "3h03m"]
        assert [fmt_rate(r) for r in (0, 3.21, 42.4, 1234, 15500)] == ["0", "3.2", "42", "1.2k", "16k"]


# --------------------------------------------------------------------------- poller and events file


class TestReadEvents:
    """Tailing events.jsonl by byte offset."""

    def test_reads_complete_lines_only(self, tmp_path):
        """A partial last line waits for its newline."""
        path = tmp_path / "events.jsonl"
        path.write_text('{"kind": "up", "time": 1}\n{"kind": "sp')
        events, off = read_events(path, 0)
        assert [e["kind"] for e in events] == ["up"] and off == len('{"kind": "up", "time": 1}\n')
        with path.open("a") as f:
            f.write('awn", "time": 2}\nnot json\n[1]\n')
        events, off2 = read_events(path, off)
        assert [e["kind"] for e in events] == ["spawn"] and off2 == path.stat().st_size

    def test_missing_truncated_and_backlog(self, tmp_path):
        """Missing files give nothing, replaced files restart, fresh tails start near the end."""
        path = tmp_path / "events.jsonl"
        assert read_events(path, -1) == ([], 0)
        path.write_text("".join(json.dumps({"kind": "k", "i": i}) + "\n" for i in range(1000)))
        events, _ = read_events(path, -1, backlog=100)
        assert 0 < len(events) <= 5 and events[-1]["i"] == 999
        path.write_text('{"kind": "up"}\n')
        events, _ = read_events(path, 10_000)
        assert events == [{"kind": "up"}]


class TestPoller:
    """The poller never raises into rendering and tracks failures."""

    def test_failures_and_recovery(self, tmp_path):
        """Exceptions and None become errors; a later success clears them."""
        answers = iter([healthy_status(), RuntimeError("socket gone"), None, healthy()])

        def fetch():
            value = next(answers)
            if isinstance(value, Exception):
                raise value
            return value

        path = tmp_path / "events.jsonl"
        path.write_text(json.dumps(ev(1, "lab", "up")) + "\n")
        clock = iter(range(100)).__next__
        poller = Poller.for_events_file(fetch, path, clock=clock)
        s1 = poller.poll_once()
        assert s1.snapshot["cluster"] == "demo" and s1.error is None and len(s1.new_events) == 1
        s2 = poller.poll_once()
        assert s2.error == "RuntimeError: socket gone" and s2.failures == 1 and s2.snapshot is s1.snapshot
        s3 = poller.poll_once()
        assert s3.failures == 2 and "not reachable" in s3.error and s3.new_events == ()
        s4 = poller.poll_once()
        assert s4.error is None and s4.failures == 0 and s4.polls == 4 and len(s4.events) == 1

    def test_project_errors_are_shown_without_their_type(self):
        """An error of our own (say LabError) is already a sentence; built-ins keep their type."""

        class LabError(Exception):
            pass

        def lab():
            raise LabError("cluster 'demo' is not answering (unavailable)")

        assert Poller(lab).poll_once().error == "cluster 'demo' is not answering (unavailable)"

    def test_grpc_style_errors_are_described(self):
        """Errors with code()/details() (grpc.RpcError) read as CODE: details."""

        class FakeRpcError(Exception):
            def code(self):
                return type("Code", (), {"name": "UNAVAILABLE"})()

            def details(self):
                return "failed to connect"

        def fetch():
            raise FakeRpcError()

        assert Poller(fetch).poll_once().error == "UNAVAILABLE: failed to connect"

    def test_background_thread_polls_and_stops(self):
        """start() polls repeatedly off the caller's thread; stop() ends the thread."""
        calls = threading.Semaphore(0)

        def fetch():
            calls.release()
            return healthy()

        poller = Poller(fetch, interval=0.01).start()
        try:
            for _ in range(3):
                assert calls.acquire(timeout=2)
        finally:
            poller.stop()
        assert not poller.running and poller.state.polls >= 3


# --------------------------------------------------------------------------- runner


class TestRunDashboard:
    """run_dashboard: --once, --json, Live with a clean exit."""

    def test_once_prints_one_frame(self, tmp_path):
        """--once renders one frame and returns 0."""
        path = tmp_path / "events.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in HEALTHY_EVENTS))
        console = Console(file=io.StringIO(), width=80, color_system=None, _environ={})
        assert run_dashboard(healthy_status, path, once=True, console=console, clock=lambda: NOW) == 0
        out = console.file.getvalue()
        assert "leader n1 · term 3" in out and "became leader" in out

    def test_once_with_supervisor_gone_exits_2(self):
        """--once against a missing supervisor prints the down frame and returns 2."""

        def fetch():
            raise ConnectionRefusedError("no control socket")

        console = Console(file=io.StringIO(), width=80, color_system=None, _environ={})
        assert run_dashboard(fetch, None, once=True, console=console, name="demo", clock=lambda: NOW) == 2
        out = console.file.getvalue()
        assert "cluster 'demo' is down" in out and "ConnectionRefusedError: no control socket" in out

    def test_json_once(self):
        """--json --once writes one JSON line holding the snapshot."""
        console = Console(file=io.StringIO(), width=80, _environ={})
        assert run_dashboard(healthy, None, once=True, as_json=True, console=console, clock=lambda: NOW) == 0
        (line,) = console.file.getvalue().splitlines()
        record = json.loads(line)
        assert record["ok"] and record["cluster"] == "demo" and record["snapshot"] == healthy()

    def test_json_streams_until_stopped(self):
        """--json writes a line per refresh until stopped."""
        stop = threading.Event()
        count = iter(range(1000))

        def fetch():
            if next(count) >= 3:
                stop.set()
            return healthy()

        console = Console(file=io.StringIO(), width=80, _environ={})
        assert run_dashboard(fetch, None, refresh_hz=100, as_json=True, console=console, stop=stop) == 0
        lines = console.file.getvalue().splitlines()
        assert len(lines) >= 3 and all(json.loads(x)["ok"] for x in lines)

    def test_state_record_when_down(self):
        """A failed poll is a JSON line with ok false and the reason."""
        record = state_record(DashboardState(error="gone", failures=1, polls=1), now=NOW, name="demo")
        assert record == {"time": NOW, "cluster": "demo", "ok": False, "error": "gone", "snapshot": None,
                          "events": []}

    @pytest.mark.parametrize("how", ["stop", "ctrl-c"])
    def test_live_leaves_the_terminal_clean(self, how):
        """Live mode uses the alternate screen and restores it (and the cursor) on exit or Ctrl-C."""
        console = Console(file=io.StringIO(), width=80, height=40, force_terminal=True,
                          color_system="standard", _environ={})

        def shown(timeout: float = 5.0) -> None:
            deadline = time.monotonic() + timeout
            while "leader n1" not in console.file.getvalue() and time.monotonic() < deadline:
                time.sleep(0.02)

        class CtrlC:
            def wait(self, timeout=None):
                shown()
                raise KeyboardInterrupt

        if how == "stop":
            stop = threading.Event()
            threading.Thread(target=lambda: (shown(), stop.set()), daemon=True).start()
        else:
            stop = CtrlC()
        before = set(threading.enumerate())
        assert run_dashboard(healthy, None, refresh_hz=10, console=console, stop=stop) == 0
        out = console.file.getvalue()
        assert out.startswith("\x1b[?1049h")  # alternate screen on
        assert out.endswith("\x1b[?1049l")  # ... and off again
        assert "\x1b[?25h" in out  # cursor shown again
        assert "leader n1" in out
        assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("chaoslab")]

    def test_render_errors_become_a_panel(self, monkeypatch):
        """A bug in a render function shows as a message in the frame, not a traceback."""
        import chaoslab.dashboard.app as app

        stop = threading.Event()
        calls = []

        def boom(*a, **k):
            calls.append(1)
            if len(calls) >= 2:  # Live renders once when built; the second call is a drawn frame
                stop.set()
            raise ZeroDivisionError("oops")

        monkeypatch.setattr(app, "frame_for_state", boom)
        console = Console(file=io.StringIO(), width=80, height=20, force_terminal=True, _environ={})
        assert run_dashboard(healthy, None, refresh_hz=10, console=console, stop=stop) == 0
        assert "could not render this frame: ZeroDivisionError: oops" in console.file.getvalue()


class TestSeveralLeaders:
    """Generic for every algorithm: the words come from the spec (here the real bully spec)."""

    def test_split_brain_header_counts_coordinators(self):
        """Two nodes in a leading role at different terms: the header says '2 coordinators', newest first."""
        from chaoslab.algorithms.registry import get_algorithm
        from chaoslab.dashboard.header import leader_summary

        snap = bully()
        for node in snap["nodes"]:
            if node["id"] == "n2":
                node["status"]["role"] = "coordinator"
                node["status"]["term"] = 3
        out = leader_summary(snap, get_algorithm("bully")).plain
        assert out == "✕ 2 coordinators: n2 · epoch 3, n4 (e2)"

    def test_an_algorithm_without_leaders_shows_who_is_up(self):
        """No role of a Maelstrom program leads: the header counts nodes up, never 'no leader'."""
        from chaoslab.algorithms.registry import get_algorithm
        from chaoslab.dashboard.header import leader_summary

        snap = bully()
        for node in snap["nodes"]:
            if "status" in node:
                node["status"]["role"] = "node"
        spec = get_algorithm("maelstrom")
        total = len(snap["nodes"])
        up = [node for node in snap["nodes"] if node["state"] == "up"]
        assert 0 < len(up) < total  # the fixture has a node down
        assert leader_summary(snap, spec).plain == f"{len(up)} of {total} up"
        up[0]["state"] = "crashed"
        assert leader_summary(snap, spec).plain == f"{len(up) - 1} of {total} up"

    def test_leaders_event_says_how_many(self):
        """The supervisor's ``leaders`` event reads '2 coordinators: n2 n5' with the bully spec."""
        from chaoslab.algorithms.registry import get_algorithm

        spec = get_algorithm("bully")
        assert describe_event({"kind": "leaders", "leaders": ["n2", "n5"]}, spec).plain == "2 coordinators: n2 n5"
        assert describe_event({"kind": "leaders", "leaders": ["n5"]}, spec).plain == "1 coordinator: n5"
        assert describe_event({"kind": "leaders", "leaders": []}, spec).plain == "no coordinator"
        assert describe_event({"kind": "leader", "leader": "n5", "term": 4}, spec).plain == "follows coordinator n5 · epoch 4"

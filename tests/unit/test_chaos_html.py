"""report.html from synthetic run directories: what the page says, and that it needs no network."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from chaos_runs import write_run
from chaoslab.chaos.html import leaders, load_run, marks, op_rows, throughput, write_html
from chaoslab.errors import LabError


def op(process: int, kind: str, f: str, value, t_ms: float, key: str = "k1", **extra) -> dict:
    return {"process": process, "type": kind, "f": f, "key": key, "value": value, "time": round(t_ms * 1e6), **extra}


# Lines 1-10. p1's read (invoke line 7) sees "a" after p0's write of "b" completed: the stale read.
HISTORY = [
    op(0, "invoke", "write", "a", 10), op(0, "ok", "write", "a", 20, node="n1"),
    op(1, "invoke", "read", None, 30), op(1, "ok", "read", "a", 45, node="n1"),
    op(0, "invoke", "write", "b", 50), op(0, "ok", "write", "b", 60, node="n1"),
    op(1, "invoke", "read", None, 70), op(1, "ok", "read", "a", 80, node="n2"),
    op(2, "invoke", "cas", ["b", "c"], 1500), op(2, "info", "cas", ["b", "c"], 2500, error="timed out"),
]
EVENTS = [
    {"time": -0.8, "source": "n1", "kind": "role", "role": "candidate", "term": 1},
    {"time": -0.7, "source": "n1", "kind": "role", "role": "leader", "term": 1},
    {"time": 1.0, "source": "lab", "kind": "crash", "node": "n1"},
    {"time": 1.4, "source": "n2", "kind": "role", "role": "leader", "term": 2},
    {"time": 2.0, "source": "lab", "kind": "restart", "node": "n1"},
]
FAULTS = [{"label": "crash leader", "kind": "crash", "start": 1.0, "end": 2.0, "nodes": ["n1"], "source": "step"},
          {"label": "partition n1,n2 n3", "kind": "partition", "start": 2.2, "end": None, "nodes": [],
           "source": "nemesis"}]


def report(**over) -> dict:
    base = {"scenario": "raft-crash", "file": "faults/raft-crash.toml", "description": "crash <the> leader",
            "seed": 7, "quick": True, "algorithm": "raft", "nodes": 3, "cluster": "c1", "wall_s": 4.2,
            "replay": "chaoslab run faults/raft-crash.toml --seed 7 --quick",
            "ops": {"invoke": 5, "ok": 4, "fail": 0, "info": 1}, "faults": FAULTS,
            "verdicts": [{"name": "linearizable", "status": "valid", "summary": "5 operations, linearizable",
                          "details": {"model": "kv"}, "ops": []},
                         {"name": "election_safety", "status": "valid", "summary": "one leader per term",
                          "details": {}, "ops": []}],
            "verdict": "valid", "expect": "valid", "as_expected": True, "exit_code": 0, "error": None}
    return {**base, **over}


INVALID = [{"name": "linearizable", "status": "invalid", "summary": "not linearizable on key \"k1\"",
            "details": {"explanation": "line 7-8  p1 read \"k1\" -> \"a\"   <- cannot be placed\nmore"},
            "ops": [5, 7, 99]},
           {"name": "no_lost_writes", "status": "valid", "summary": "all acknowledged writes survived",
            "details": {}, "ops": []}]


def page(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def assert_self_contained(html: str) -> None:
    assert not re.search(r"<script[^>]+src=", html), "a script fetched from elsewhere"
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", html), "a stylesheet fetched from elsewhere"


class TestPages:
    def test_a_valid_kv_run(self, tmp_path: Path) -> None:
        """The header, every verdict, the plots of a kv run, and no fetch from the network."""
        out = write_html(write_run(tmp_path, report(), HISTORY, EVENTS))
        assert out == tmp_path / "report.html"
        html = page(out)
        assert_self_contained(html)
        assert "Bokeh" in html  # the library's JavaScript is in the page itself
        for text in ("raft-crash", "chaoslab run faults/raft-crash.toml --seed 7 --quick", "raft × 3",
                     "5 operations, linearizable", "one leader per term", "election_safety",
                     "Leaders and faults", "Operations", "Latency", "Throughput", "partition n1,n2 n3"):
            assert text in html, text
        assert "crash &lt;the&gt; leader" in html and "crash <the> leader" not in html
        assert "Operations named by a verdict" not in html

    def test_an_invalid_run_lists_and_outlines_the_named_operations(self, tmp_path: Path) -> None:
        """Verdict ops (invoke lines) are listed as the checker describes them, and drawn outlined."""
        rep = report(verdicts=INVALID, verdict="invalid", as_expected=False, exit_code=1)
        html = page(write_html(write_run(tmp_path, rep, HISTORY, EVENTS)))
        assert_self_contained(html)
        assert "invalid (unexpected)" in html and "exit 1" in html
        assert "Operations named by a verdict" in html
        table = html[html.index("Operations named by a verdict"):]
        assert "5-6" in table and "p0 write &quot;k1&quot; &quot;b&quot; ok" in table
        assert "7-8" in table and "p1 read &quot;k1&quot; -&gt; &quot;a&quot;" in table
        assert "no operation invoked on this line" in table  # line 99
        assert "named by a verdict" in html  # the outline's legend entry
        assert "cannot be placed\nmore" in html  # a multi-line explanation shown as it is

    def test_a_byzantine_run_without_client_operations(self, tmp_path: Path) -> None:
        """No kv history: verdicts, faults and who commanded still render; no per-operation plots."""
        events = [{"time": 0.5, "source": "n1", "kind": "role", "role": "commander", "term": 1},
                  {"time": 0.5, "source": "n2", "kind": "role", "role": "lieutenant", "term": 1},
                  {"time": 3.0, "source": "n3", "kind": "role", "role": "commander", "term": 2}]
        rep = report(scenario="byz-traitor", algorithm="byzantine", nodes=4, ops={},
                     faults=[{"label": "drop 20%", "kind": "drop", "start": 1.0, "end": 2.0, "nodes": [],
                              "source": "step"}],
                     verdicts=[{"name": "agreement", "status": "valid", "summary": "all loyal lieutenants agreed",
                                "details": {"orders": 4}, "ops": []}])
        run_dir = write_run(tmp_path, rep, [], events)
        html = page(write_html(run_dir))
        assert_self_contained(html)
        assert "all loyal lieutenants agreed" in html and "Leaders and faults" in html
        assert "No client operations" in html
        assert "<h2>Latency</h2>" not in html
        led = leaders(load_run(run_dir), end=5.0)
        assert [(lead.node, lead.start, lead.end) for lead in led] == [("n1", 0.5, 5.0), ("n3", 3.0, 5.0)]

    def test_an_empty_history_and_no_events_file(self, tmp_path: Path) -> None:
        """A run that stopped early (empty history, no events) still gets its page, error and all."""
        rep = report(verdicts=[], verdict="error", as_expected=False, exit_code=2, faults=[],
                     error="the cluster would not start: port 7001 in use")
        (tmp_path / "history.jsonl").write_text("")
        html = page(write_html(write_run(tmp_path, rep)))
        assert_self_contained(html)
        assert "the cluster would not start: port 7001 in use" in html
        assert "none (the run did not get that far)" in html

    def test_an_unreadable_history_is_said_on_the_page(self, tmp_path: Path) -> None:
        """A malformed history line does not lose the report: the page names the line."""
        run_dir = write_run(tmp_path, report(), HISTORY, EVENTS)
        with (run_dir / "history.jsonl").open("a") as f:
            f.write("{not json\n")
        assert "history.jsonl:11: not valid JSON" in page(write_html(run_dir))

    def test_no_report_is_one_clear_error(self, tmp_path: Path) -> None:
        with pytest.raises(LabError, match="no report.json"):
            write_html(tmp_path)

    def test_an_expected_violation(self, tmp_path: Path) -> None:
        rep = report(verdicts=INVALID, verdict="invalid", expect="violation", as_expected=True, exit_code=0)
        assert "violation (expected)" in page(write_html(write_run(tmp_path, rep, HISTORY, EVENTS)))


    def test_a_maelstrom_broadcast_and_echo_run(self, tmp_path: Path) -> None:
        """Maelstrom's operations draw like kv's: a read of a node's messages says how many it returned,
        a wrong echo shows what came back, and both are listed when a verdict names them."""
        messages = list(range(1, 21))
        history = [op(0, "invoke", "broadcast", 7, 10, key=None), op(0, "ok", "broadcast", 7, 12, key=None, node="n1"),
                   op(1, "invoke", "read", None, 20, key="n2"), op(1, "ok", "read", messages, 25, key="n2", node="n2"),
                   op(2, "invoke", "echo", "hello", 30, key=None), op(2, "ok", "echo", "hell", 31, key=None, node="n3"),
                   op(2, "invoke", "echo", "again", 40, key=None), op(2, "ok", "echo", "again", 41, key=None)]
        named = [{"name": "all_delivered", "status": "invalid", "summary": "1 acknowledged message lost",
                  "details": {"latency": {"count": 0}}, "ops": [1, 3]},
                 {"name": "echoes_match", "status": "invalid", "summary": "1 of 2 answered echoes came back wrong",
                  "details": {}, "ops": [5]}]
        rep = report(scenario="maelstrom-broadcast", algorithm="maelstrom", verdicts=named, verdict="invalid",
                     as_expected=False, exit_code=1, faults=[])
        run_dir = write_run(tmp_path, rep, history, [])
        html = page(write_html(run_dir))
        assert_self_contained(html)
        table = html[html.index("Operations named by a verdict"):]
        assert "p0 broadcast 7 ok" in table
        assert "p1 read &quot;n2&quot; -&gt; 20 items [1 2 3" in table  # cut, with the count up front
        assert "p2 echo &quot;hello&quot; -&gt; &quot;hell&quot;" in table
        assert op_rows(load_run(run_dir), 1.0)["desc"][3] == 'p2 echo "again" ok'  # hover text of a right one
        for text in ("<h2>Latency</h2>", "<h2>Operations</h2>", "broadcast", "echo"):
            assert text in html, text


class TestRows:
    def test_leaders_from_role_events_end_at_a_crash(self, tmp_path: Path) -> None:
        """A node leads from its leading role event until it changes role or crashes."""
        run = load_run(write_run(tmp_path, report(), HISTORY, EVENTS))
        got = [(lead.node, round(lead.start, 6), round(lead.end, 6), lead.term) for lead in leaders(run, end=3.0)]
        assert got == [("n1", -0.7, 1.0, 1), ("n2", 1.4, 3.0, 2)]

    def test_leaders_from_the_supervisors_polls(self, tmp_path: Path) -> None:
        """Without role events, the supervisor's ``leaders`` events say who led (two at once: split brain)."""
        events = [{"time": 0.2, "source": "lab", "kind": "leaders", "leaders": ["n2"], "terms": {"n2": 3}},
                  {"time": 1.0, "source": "lab", "kind": "leaders", "leaders": ["n2", "n4"]},
                  {"time": 2.0, "source": "lab", "kind": "leaders", "leaders": []}]
        run = load_run(write_run(tmp_path, report(algorithm="bully"), [], events))
        got = [(lead.node, round(lead.start, 6), round(lead.end, 6)) for lead in leaders(run, end=3.0)]
        assert got == [("n2", 0.2, 2.0), ("n4", 1.0, 2.0)]

    def test_marks_come_from_events_or_else_from_faults(self, tmp_path: Path) -> None:
        run = load_run(write_run(tmp_path, report(), HISTORY, EVENTS))
        assert [(m.kind, m.node, round(m.t, 6)) for m in marks(run)] == [("crash", "n1", 1.0), ("restart", "n1", 2.0)]
        run = load_run(write_run(tmp_path / "b", report(), HISTORY, []))
        assert [(m.kind, m.node, m.t) for m in marks(run)] == [("crash", "n1", 1.0), ("restart", "n1", 2.0)]

    def test_throughput_counts_completions_per_second(self, tmp_path: Path) -> None:
        run = load_run(write_run(tmp_path, report(), HISTORY, EVENTS))
        per = throughput(run.ops, (0.0, 3.0))
        assert per["ok"][0] == 4 / 0.5 and sum(per["ok"]) == 8 and per["info"][5] == 2  # info at 2.5 s
        assert sum(per["fail"]) == 0


def test_the_cli_does_not_import_the_plotting_library() -> None:
    """bokeh costs half a second to import: only writing a page pays for it."""
    code = "import sys, chaoslab.cli, chaoslab.chaos.html; print('bokeh' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_markup_in_a_value_stays_text(tmp_path: Path) -> None:
    """A value that looks like markup stays data: hover text is escaped by bokeh, tables by us."""
    history = [op(0, "invoke", "write", "</script><b>x", 10), op(0, "ok", "write", "</script><b>x", 20)]
    html = page(write_html(write_run(tmp_path, report(), history, EVENTS)))
    assert "</script><b>x" not in html
    assert "&lt;/script&gt;&lt;b&gt;x" in html  # bokeh's JSON is HTML-escaped inside its script tag

"""Reading histories (JSON lines, Jepsen EDN, jepsen.util logs), bad input, and `chaoslab check` itself."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from chaoslab.check import INVALID, VALID, HistoryError, check_history, read_history
from chaoslab.check.generate import generate, stale_read
from chaoslab.check.history import parse_edn
from chaoslab.cli import main
from chaoslab.sim import run_scenario

EDN = """\
{:type :invoke, :f :write, :value 1, :process 0, :time 10, :index 0}
{:type :ok, :f :write, :value 1, :process 0, :time 20, :index 1}
{:type :info, :f :start, :value nil, :process :nemesis, :time 25}
{:type :invoke, :f :cas, :value [1 2], :process 1, :time 30, :index 2}
{:type :invoke, :f :read, :value nil, :process 2, :time 40, :index 3}
{:type :ok, :f :cas, :value [1 2], :process 1, :time 50, :index 4}
{:type :ok, :f :read, :value READ, :process 2, :time 60, :index 5}
"""

LOG = """\
2017-03-06 21:39:07,145{GMT}	INFO	[jepsen worker 0] jepsen.util: 0	:invoke	:write	1
INFO  jepsen.util - 0	:ok	:write	1
INFO  jepsen.core - nemesis is starting
INFO  jepsen.util - :nemesis	:info	:start	nil
INFO  jepsen.util - 1	:invoke	:cas	[1 2]
INFO  jepsen.util - 2	:invoke	:read	nil
INFO  jepsen.util - 1	:ok	:cas	[1 2]
INFO  jepsen.util - 2	:ok	:read	READ
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


class TestFormats:
    @pytest.mark.parametrize("read, expected", [("1", VALID), ("2", VALID), ("3", INVALID)])
    def test_jepsen_edn_lines(self, tmp_path: Path, read: str, expected: str) -> None:
        """One EDN map a line, keywords and all; nemesis lines are skipped."""
        path = write(tmp_path, "history.edn", EDN.replace("READ", read))
        assert check_history(path, "cas-register").verdict == expected

    def test_jepsen_edn_vector(self, tmp_path: Path) -> None:
        """A whole file as one EDN vector reads the same."""
        path = write(tmp_path, "history.edn", "[" + EDN.replace("READ", "2") + "]")
        ops = read_history(path)
        assert [(op.f, op.status) for op in ops] == [("write", "ok"), ("cas", "ok"), ("read", "ok")]
        assert ops[1].value == (1, 2)

    @pytest.mark.parametrize("read, expected", [("2", VALID), ("3", INVALID)])
    def test_jepsen_util_log_lines(self, tmp_path: Path, read: str, expected: str) -> None:
        """`INFO  jepsen.util - 3	:invoke	:write	4` lines; other log lines are ignored."""
        path = write(tmp_path, "jepsen.log", LOG.replace("READ", read))
        assert check_history(path, "cas-register").verdict == expected

    def test_the_small_edn_reader_matches_edn_format(self) -> None:
        """The fast path reads what edn_format reads; what it does not know goes to edn_format."""
        text = '{:type :ok, :f :txn, :value [[:r 1 nil] [:append 2 "x"]], :process 3, :time -1, :x 1.5}'
        assert parse_edn(text) == {"type": "ok", "f": "txn", "value": [["r", 1, None], ["append", 2, "x"]],
                                   "process": 3, "time": -1, "x": 1.5}
        assert parse_edn("#{1 2}") == frozenset({1, 2})
        assert parse_edn('#inst "1985-04-12T23:20:50.52Z"') is not None  # a tagged value: edn_format's job

    def test_generated_json_lines_round_trip(self, tmp_path: Path) -> None:
        """A generated history written as JSON lines checks as it did in memory."""
        gen = generate(300, clients=5, keys=3, seed=2)
        path = write(tmp_path, "h.jsonl", "".join(json.dumps(r) + "\n" for r in gen.records))
        assert check_history(path, "kv").verdict == VALID


class TestBadInput:
    def test_a_value_the_model_cannot_use(self, tmp_path: Path) -> None:
        """A counter told to add a string: one line naming the file, not a traceback."""
        path = write(tmp_path, "c.jsonl", '{"process": 0, "type": "invoke", "f": "add", "value": "x"}\n'
                                          '{"process": 0, "type": "ok", "f": "add", "value": "x"}\n')
        with pytest.raises(HistoryError, match="c.jsonl: model counter cannot apply"):
            check_history(path, "counter")

    @pytest.mark.parametrize(
        "text, message",
        [
            ("", "empty history"),
            ('{"process": 0, "type": "invoke", "f": "write", "value": 1}\n{"process": 0, "ty', ":2: not valid JSON"),
            ('{"process": 0, "type": "invoke", "f": "frobnicate", "value": 1}\n', ":1: model cas-register has no operation 'frobnicate'"),
            ('{"process": 0, "type": "ok", "f": "write", "value": 1}\n', ":1: ok write by process 0 without an invoke"),
            ('{"process": 0, "type": "done", "f": "write", "value": 1}\n', ":1: type must be one of"),
            ('{"process": 0, "type": "invoke", "f": "write"}\n{"process": 0, "type": "invoke", "f": "read"}\n',
             ":2: process 0 invokes read while its write (line 1) has not completed"),
            ('{:type :invoke, :f :write :value}\n', ":1: "),
            ('{"process": [1], "type": "invoke", "f": "write", "value": 1}\n', ":1: process must be a number"),
            ('[1, 2]\n', ":1: expected a map for each operation"),
        ],
    )
    def test_one_line_naming_file_and_line(self, tmp_path: Path, text: str, message: str) -> None:
        """Each malformed history raises HistoryError with the file (and line) in its one-line message."""
        path = write(tmp_path, "bad.jsonl", text)
        with pytest.raises(HistoryError) as info:
            check_history(path, "cas-register")
        assert str(path) in str(info.value) and message in str(info.value)
        assert "\n" not in str(info.value)


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["chaoslab", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


class TestCLI:
    def test_valid_invalid_and_bad_files_exit_with_the_worst(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
        """0 for valid, 1 if one is invalid, 2 if one is unreadable; every file gets its verdict."""
        gen = generate(200, clients=4, keys=3, seed=5)
        good = write(tmp_path, "good.jsonl", "".join(json.dumps(r) + "\n" for r in gen.records))
        records, _ = stale_read(gen, 1)
        bad = write(tmp_path, "bad.jsonl", "".join(json.dumps(r) + "\n" for r in records))
        broken = write(tmp_path, "broken.jsonl", '{"process": 1, "type": "ok", "f": "get", "key": "k", "value": 1}\n')

        code, out, err = run_cli(["check", str(good), "--model", "kv"], monkeypatch, capsys)
        assert code == 0 and "valid" in out and err == ""
        code, out, _ = run_cli(["check", str(good), str(bad), "--model", "kv"], monkeypatch, capsys)
        assert code == 1 and "INVALID" in out and "<- cannot be placed" in out
        code, out, err = run_cli(["check", str(good), str(broken), str(bad)], monkeypatch, capsys)
        assert code == 2
        assert err.count("\n") == 1 and "broken.jsonl:1" in err and "Traceback" not in err
        assert "INVALID" in out  # the file after the broken one was still checked

    def test_json_one_object_a_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
        """--json prints one object a line: verdict, counts, and the failing window."""
        gen = generate(200, clients=4, keys=3, seed=6)
        records, index = stale_read(gen, 2)
        bad = write(tmp_path, "bad.jsonl", "".join(json.dumps(r) + "\n" for r in records))
        code, out, _ = run_cli(["check", str(bad), "--json"], monkeypatch, capsys)
        assert code == 1
        (line,) = out.splitlines()
        d = json.loads(line)
        assert d["verdict"] == "invalid" and d["file"] == str(bad)
        assert d["failure"]["culprit"]["lines"][1] == index + 1
        assert d["failure"]["culprit"] in d["failure"]["window"]

    def test_html_timeline(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
        """--html writes one self-contained page with the linearization and the failing operation."""
        gen = generate(100, clients=3, keys=2, seed=7)
        records, _ = stale_read(gen, 0)
        bad = write(tmp_path, "bad.jsonl", "".join(json.dumps(r) + "\n" for r in records))
        page = tmp_path / "out.html"
        code, _, _ = run_cli(["check", str(bad), "--html", str(page)], monkeypatch, capsys)
        assert code == 1
        text = page.read_text()
        assert text.startswith("<!doctype html>") and "op bad" in text and "linearized #1" in text
        assert "http" not in text  # nothing fetched from elsewhere

    def test_bad_timeout_and_model_are_one_line(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown model or a malformed --timeout: exit 2 and one line on stderr."""
        path = write(tmp_path, "h.jsonl", '{"process": 0, "type": "invoke", "f": "read", "value": null}\n')
        for args in (["--model", "queue"], ["--timeout", "soon"]):
            code, _, err = run_cli(["check", str(path), *args], monkeypatch, capsys)
            assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


class TestSimulatorHistories:
    def test_a_raft_run_with_faults_is_linearizable(self) -> None:
        """The simulator's workload history (a Raft cluster under a nemesis) checks valid with the kv model."""
        result = run_scenario("raft", seed=3, nodes=5, duration=4.0, nemesis=True, workload=4, keys=3)
        assert result.ok, result.summary()
        assert result.workload is not None
        history = result.workload.history
        assert sum(op.type == "ok" for op in history) > 50  # the run did real work
        checked = check_history(history, "kv", timeout=60)
        assert checked.verdict == VALID, checked.failure

    def test_a_tampered_raft_history_is_not(self) -> None:
        """The same history with one read answered from an older value is caught."""
        result = run_scenario("raft", seed=3, nodes=5, duration=4.0, nemesis=True, workload=4, keys=3)
        assert result.workload is not None
        records = [op.as_dict() for op in result.workload.history]
        # Find an ok get that began after put B completed, where B began after put A completed: real
        # time orders A < B < get, values are unique, so answering the get with A's value is stale.
        puts: dict[str, list[tuple[int, int, str]]] = {}  # key -> (invoke line, ok line, value)
        invoked: dict[int, int] = {}
        target = None
        for i, r in enumerate(records):
            if r["type"] == "invoke":
                invoked[r["process"]] = i
            elif r["type"] == "ok" and r["f"] == "put":
                puts.setdefault(r["key"], []).append((invoked[r["process"]], i, r["value"]))
            elif r["type"] == "ok" and r["f"] == "get":
                began = invoked[r["process"]]
                stale = [a[2] for a in puts.get(r["key"], []) for b in puts[r["key"]]
                         if a[1] < b[0] and b[1] < began and a[2] != r["value"]]
                if stale:
                    target = (i, stale[0])
                    break
        assert target is not None
        i, older = target
        records[i]["value"] = older
        checked = check_history(records, "kv", timeout=60)
        assert checked.verdict == INVALID

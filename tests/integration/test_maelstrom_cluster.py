"""Maelstrom-protocol programs as real chaoslab clusters: the program is each node's child,
its peer messages cross the fault proxy, and crash / pause / restart act on it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaoslab import Cluster, LabError
from chaoslab.testing import run_cli, run_scenario, wait_until
from chaoslab.wire.status import node_statuses

NODES = Path(__file__).resolve().parents[1] / "plugins" / "maelstrom_nodes"


def up(home: Path, program: str, *args: str, nodes: int = 3, **settings: Any) -> Cluster:
    overrides = [f"bin={NODES / program}", f"args={json.dumps(list(args))}", *(f"{k}={v}" for k, v in settings.items())]
    return Cluster.up("maelstrom", nodes=nodes, home=home, overrides=overrides, timeout=20)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, home: Path) -> Iterator[Cluster]:
    with up(home, *request.param) as c:
        yield c


def program_pid(cluster: Cluster, node: str, after: int = 0) -> int:
    """The pid the node's test program announced in its log (the latest, or the latest other than ``after``)."""
    def announced() -> int:
        pids = [int(p) for p in re.findall(r"\(pid (\d+)\)", cluster.log_path(node).read_text())]
        return pids[-1] if pids and pids[-1] != after else 0
    return wait_until(announced, timeout=10, what=f"{node}'s program announcing its pid")


def process_state(pid: int) -> str:
    """``R``/``S``/``T``... from /proc, or ``gone``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "gone"
    state = stat.rsplit(")", 1)[1].split()[0]
    return "gone" if state in ("Z", "X") else state


def echo(cluster: Cluster, node: str, text: str, timeout: float = 5.0) -> Any:
    return cluster.command(node, "client", {"body": {"type": "echo", "echo": text}}, timeout=timeout)


def kv(cluster: Cluster, node: str, timeout: float = 3.0, **body: Any) -> Any:
    return cluster.command(node, "client", {"body": body}, timeout=timeout)


def events(cluster: Cluster, kind: str) -> list[dict[str, Any]]:
    lines = cluster.run.events.read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == kind]


@pytest.mark.parametrize("cluster", [("echo.py",), ("echo.sh",)], indirect=True, ids=["python", "bash"])
def test_echo_through_every_node(cluster: Cluster) -> None:
    """The same unmodified echo node in two languages: init, then echo answered at every node."""
    for node in cluster.node_ids:
        reply = echo(cluster, node, f"hello {node}")
        assert reply["type"] == "echo_ok" and reply["echo"] == f"hello {node}" and "in_reply_to" in reply
    details = [s["maelstrom"] for s in node_statuses(cluster.status()).values()]
    assert [(d["inited"], d["errors"], d["pending_clients"]) for d in details] == [(True, 0, 0)] * 3
    assert sorted(e["source"] for e in events(cluster, "init")) == cluster.node_ids


@pytest.mark.parametrize("cluster", [("lin_kv.py",)], indirect=True)
def test_forwarded_requests_cross_the_proxy_and_a_partition_cuts_them(cluster: Cluster) -> None:
    """n2 and n3 forward to n1 through the proxy: with n3 cut off from n1 its requests time out;
    healed, they work again, and n1's store saw every write."""
    assert kv(cluster, "n2", type="write", key=1, value=10)["type"] == "write_ok"
    read = kv(cluster, "n3", type="read", key=1)
    assert (read["type"], read["value"], read["in_reply_to"]) == ("read_ok", 10, 2)  # the host's 2nd msg_id at n3: after init
    assert kv(cluster, "n3", type="read", key=9)["code"] == 20
    assert kv(cluster, "n2", type="cas", key=1, **{"from": 3, "to": 4})["code"] == 22
    cluster.partition("isolate:n3")
    with pytest.raises(LabError, match="did not answer"):
        kv(cluster, "n3", type="read", key=1, timeout=1.0)
    assert kv(cluster, "n2", type="cas", key=1, **{"from": 10, "to": 11})["type"] == "cas_ok"
    cluster.heal()
    assert kv(cluster, "n3", type="read", key=1)["value"] == 11


@pytest.mark.parametrize("cluster", [("echo.py",)], indirect=True)
def test_crash_pause_restart_act_on_the_program(cluster: Cluster) -> None:
    """pause stops the program too (SIGSTOP of the node's group); crash (SIGKILL of the host)
    leaves no orphan; restart runs a fresh program that takes init again."""
    pid = program_pid(cluster, "n2")
    cluster.pause("n2")
    wait_until(lambda: process_state(pid) == "T", timeout=5, what="the program stopped with its node")
    cluster.resume("n2")
    wait_until(lambda: process_state(pid) in ("S", "R"), timeout=5, what="the program running again")
    assert echo(cluster, "n2", "after pause")["echo"] == "after pause"

    cluster.crash("n2")
    wait_until(lambda: process_state(pid) == "gone", timeout=5, what="the program gone with its node")
    cluster.restart("n2", settle=10)
    fresh = program_pid(cluster, "n2", after=pid)
    assert fresh != pid and process_state(fresh) in ("S", "R")
    assert echo(cluster, "n2", "after restart")["echo"] == "after restart"


@pytest.mark.parametrize(("mode", "line"), [
    ("garbage", "the program wrote a line that is not JSON: 'hello, I am not JSON'"),
    ("exit", "the program exited with code 7"),
    ("unknowndest", "the program wrote to an unknown dest 'n99'"),
])
def test_a_program_breaking_the_protocol_at_init_fails_up_with_the_line(home: Path, mode: str, line: str) -> None:
    with pytest.raises(LabError) as caught:
        up(home, "faulty.py", mode, "init")
    message = str(caught.value)
    assert line in message and re.search(r"n\d: the program", message) and "\n" not in message


def test_a_program_breaking_the_protocol_while_running_is_an_event(home: Path) -> None:
    """Garbage after init: an event with the node and the line, the node keeps running; a
    program that exits: the node exits, its status error says why."""
    with up(home, "faulty.py", "garbage", "echo") as cluster:
        with pytest.raises(LabError):
            echo(cluster, "n1", "x", timeout=0.5)
        error = wait_until(lambda: events(cluster, "protocol_error"), timeout=5, what="a protocol_error event")[0]
        assert error["source"] == "n1" and error["error"] == "the program wrote a line that is not JSON: 'hello, I am not JSON'"
        assert {n.id: n.state for n in cluster.status().nodes}["n1"] == "up"
    with up(home, "faulty.py", "exit", "echo") as cluster:
        with pytest.raises(LabError):
            echo(cluster, "n2", "x", timeout=0.5)
        status = wait_until(lambda: next((n for n in cluster.status().nodes if n.id == "n2" and n.state == "crashed"), None),
                            timeout=5, what="n2 exited")
        assert "the program exited with code 7" in status.error
        assert [e["error"] for e in events(cluster, "program_exit")] == ["the program exited with code 7"]


def test_a_missing_program_fails_up_in_one_line(home: Path) -> None:
    with pytest.raises(LabError, match=r"n\d: cannot run .*/no_such_node: no such file"):
        up(home, "no_such_node")


@pytest.mark.parametrize(("program", "want"), [("lin_kv.py", "valid"), ("stale_kv.py", "invalid")])
def test_a_scripted_run_judges_a_lin_kv_program(tmp_path: Path, program: str, want: str) -> None:
    """`chaoslab run` with [cluster] algorithm = "maelstrom": lin-kv clients through every node's
    program under a partition and a crash; the forwarding node is linearizable, the one serving
    its own copy is caught (exit 1), from the same history.jsonl the checker reads for raft."""
    result = run_scenario(NODES / "lin-kv-partition.toml", seed=3, quick=False, home=tmp_path / "home",
                          settings=[f"bin={NODES / program}"])
    verdict = result.verdict("linearizable")
    assert verdict.status == want, (verdict.summary, result.replay, result.report.get("error"))
    assert result.exit_code == (0 if want == "valid" else 1)
    history = [json.loads(line) for line in (result.run_dir / "history.jsonl").read_text().splitlines()]
    done = [op for op in history if op["type"] != "invoke"]
    assert {op["node"] for op in done if op["type"] == "ok"} == {"n1", "n2", "n3"}  # every node's program served
    assert sum(op["type"] == "ok" for op in done) > len(done) / 2


def test_down_stops_the_programs_quietly(home: Path) -> None:
    """`down` stops each host, which stops its program: none is left, and no program_exit is
    recorded (the program did not fail; its node was stopped)."""
    cluster = up(home, "echo.py")
    pids = [program_pid(cluster, node) for node in cluster.node_ids]
    cluster.down(keep=True)
    assert [process_state(pid) for pid in pids] == ["gone"] * 3
    assert events(cluster, "program_exit") == []


@pytest.mark.parametrize(("scenario", "program", "check", "want"), [
    ("echo.toml", "echo.py", "echoes_match", "valid"),
    ("echo.toml", "echo_wrong.py", "echoes_match", "invalid"),
    ("broadcast-partition.toml", "broadcast.py", "all_delivered", "valid"),
    ("broadcast-partition.toml", "broadcast_once.py", "all_delivered", "invalid"),
    ("g-counter-partition.toml", "g_counter.py", "counter_sum", "valid"),
    ("g-counter-partition.toml", "g_counter_lossy.py", "counter_sum", "invalid"),
], ids=["echo", "echo-wrong", "broadcast", "broadcast-once", "g-counter", "g-counter-lossy"])
def test_a_scripted_run_judges_maelstrom_workloads(tmp_path: Path, scenario: str, program: str, check: str,
                                                   want: str) -> None:
    """`chaoslab run` of Maelstrom's echo, broadcast and g-counter workloads (`[cluster] bin/workload`):
    the correct node survives the crash, pause or partition (exit 0); the planted bug is caught (exit 1):
    a wrong echo, messages broadcast at the cut-off node lost, adds that never reach the other nodes."""
    result = run_scenario(NODES / scenario, seed=5, quick=False, home=tmp_path / "home",
                          settings=[f"bin={NODES / program}"])
    verdict = result.verdict(check)
    assert verdict.status == want, (verdict.summary, result.replay, result.report.get("error"))
    assert result.exit_code == (0 if want == "valid" else 1)
    assert [v.name for v in result.verdicts] == [check]  # the workload kind's default, nothing else
    history = [json.loads(line) for line in (result.run_dir / "history.jsonl").read_text().splitlines()]
    served = {op["node"] for op in history if op["type"] == "ok"}
    assert served == {"n1", "n2", "n3"}  # every node's program answered its clients
    if check == "all_delivered":
        latency = verdict.details["latency"]
        assert latency["count"] > 0 and 0 < latency["p50_ms"] <= latency["p95_ms"] <= latency["max_ms"]
        if want == "invalid":
            assert verdict.details["lost"]["n1"] and verdict.details["lost"]["n2"]  # n3's messages never left it
    assert (result.run_dir / "report.html").stat().st_size > 0


def test_maelstrom_test_takes_maelstroms_command_line_and_saves_a_replayable_scenario(home: Path) -> None:
    """`chaoslab maelstrom test -w lin-kv --bin ... --nemesis partition` as one would type it for
    Maelstrom: the stale node is caught (exit 1, the failing check named in the output); the
    scenario it wrote runs again with `chaoslab run`, where the forwarding node passes."""
    stale = NODES / "stale_kv.py"
    done = run_cli(home, "maelstrom", "test", "-w", "lin-kv", "--bin", str(stale), "--node-count", "3",
                   "--time-limit", "3", "--rate", "40", "--nemesis", "partition", "--seed", "2", timeout=90)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "maelstrom-lin-kv: invalid (exit 1, seed 2)" in done.stdout
    assert re.search(r"^  (linearizable|no_lost_writes): invalid: ", done.stdout, re.M), done.stdout
    saved = home / "maelstrom" / "lin-kv.toml"
    assert f"scenario: {saved}" in done.stdout
    assert saved.read_text().startswith(f"# chaoslab maelstrom test -w lin-kv --bin {stale}")
    again = run_cli(home, "run", str(saved), "--seed", "2", "--set", f"bin={NODES / 'lin_kv.py'}", timeout=90)
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert "maelstrom-lin-kv: valid (exit 0, seed 2)" in again.stdout

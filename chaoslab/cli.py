"""The `chaoslab` command. Thin: every command calls the Python API in chaoslab.lab.

Errors a user can cause come back as LabError and leave as one line on stderr
with exit code 2; nothing here prints a traceback for bad input.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chaoslab.errors import LabError

app = typer.Typer(
    name="chaoslab",
    help="A chaos lab for distributed algorithms: real processes, real gRPC, real faults.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

NameOpt = Annotated[Optional[str], typer.Option("--name", "-n", help="Cluster name (default: the only one running).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


class State:
    home: Optional[Path] = None


@app.callback()
def _global(
    home: Annotated[
        Optional[Path], typer.Option("--home", envvar="CHAOSLAB_HOME", help="Where run directories live (default ./.chaoslab).")
    ] = None,
) -> None:
    State.home = home


def _cluster(name: Optional[str]):
    from chaoslab.lab.cluster import Cluster

    return Cluster.find(name, State.home)


def _parse_duration(text: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "m": 60.0}
    for suffix in ("ms", "s", "m"):
        if text.endswith(suffix):
            try:
                value = float(text[: -len(suffix)]) * units[suffix]
            except ValueError:
                break
            if value > 0:
                return value
            break
    else:
        try:
            value = float(text)
            if value > 0:
                return value
        except ValueError:
            pass
    raise LabError(f"expected a positive duration like 30s or 500ms, got {text!r}")


# -- lifecycle -----------------------------------------------------------------


@app.command()
def up(
    algorithm: Annotated[str, typer.Argument(help="Algorithm to run: raft.")],
    nodes: Annotated[Optional[int], typer.Option("--nodes", "-N", help="Number of nodes (1-64).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Cluster name (default: the algorithm).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed for every random choice (default: random, shown).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Cluster definition (default clusters/ALGO.toml).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override a definition key, e.g. --set raft.heartbeat_ms=30.")] = None,
    base_port: Annotated[int, typer.Option("--base-port", help="First of 2N consecutive ports (default: free ports).")] = 0,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait for the cluster to be ready.")] = "30s",
    watch: Annotated[bool, typer.Option("--watch", help="Open the dashboard once the cluster is up.")] = False,
) -> None:
    """Start a cluster of real node processes; return once it serves (raft: a leader is elected)."""
    from chaoslab.lab.cluster import Cluster

    started = time.monotonic()
    cluster = Cluster.up(
        algorithm, nodes=nodes, name=name, seed=seed, home=State.home, definition=config,
        overrides=set_ or [], base_port=base_port, timeout=_parse_duration(timeout),
    )
    elapsed = time.monotonic() - started
    status = cluster.status()
    out.print(
        f"[bold green]up[/] cluster [bold]{status.cluster}[/] ({status.algorithm}, {len(status.nodes)} nodes, "
        f"seed {status.seed}) in {elapsed:.2f}s — leader {cluster.leader() or 'none'}"
    )
    out.print(f"run directory {status.run_dir}", style="dim")
    if watch:
        _run_dashboard(cluster, refresh=5.0, once=False, as_json=False)


@app.command()
def down(
    name: NameOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Every cluster in the home directory.")] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the run directory (logs, events, data).")] = False,
) -> None:
    """Stop a cluster: every node, the proxy and the supervisor. Also cleans up stale run directories."""
    from chaoslab.lab.cluster import Cluster
    from chaoslab.lab.rundir import find_run_dir, home_dir, list_run_dirs

    home = home_dir(State.home)
    if all_:
        runs = list_run_dirs(home)
        if not runs:
            out.print("no clusters here")
            return
    elif name is None and not [r for r in list_run_dirs(home) if r.running()] and len(list_run_dirs(home)) == 1:
        runs = list_run_dirs(home)  # the only (stale) cluster
    else:
        runs = [find_run_dir(home, name)]
    for run in runs:
        was = run.state()
        Cluster(run).down(keep=keep)
        out.print(f"[bold]down[/] {run.name}" + (" (was stale)" if was == "stale" else ""))


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Clusters in the home directory and whether they are running."""
    from chaoslab.lab.rundir import home_dir, list_run_dirs
    from chaoslab.lab.spec import ClusterSpec

    rows = []
    for run in list_run_dirs(home_dir(State.home)):
        spec = ClusterSpec.load(run.spec)
        rows.append({"name": run.name, "algorithm": spec.algorithm, "nodes": spec.nodes, "state": run.state(),
                     "supervisor_pid": run.supervisor_pid(), "run_dir": str(run.path)})
    if as_json:
        print(json.dumps(rows))
        return
    if not rows:
        out.print("no clusters here; start one with `chaoslab up raft`")
        return
    table = Table("name", "algorithm", "nodes", "state", "supervisor", "run dir", box=None)
    for r in rows:
        state = "[green]running[/]" if r["state"] == "running" else "[red]stale[/]"
        table.add_row(r["name"], r["algorithm"], str(r["nodes"]), state, str(r["supervisor_pid"]), r["run_dir"])
    out.print(table)


# -- looking -------------------------------------------------------------------

_ROLE_STYLE = {"leader": "bold green", "candidate": "yellow", "pre_candidate": "yellow", "coordinator": "bold green"}
_STATE_STYLE = {"up": "green", "paused": "magenta", "crashed": "bold red", "starting": "yellow"}


def _status_table(status: Any) -> Table:
    from chaoslab.lab.cluster import status_to_dict

    snap = status_to_dict(status)
    uptime = time.time() - status.started_at
    table = Table(title=f"{snap['cluster']} · {snap['algorithm']} · seed {snap['seed']} · up {uptime:.0f}s",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("node", "pid", "state", "role", "term", "leader", "commit", "apply", "last", "heard"):
        table.add_column(col, justify="right" if col in ("pid", "term", "commit", "apply", "last") else "left",
                         no_wrap=True)
    for node in snap["nodes"]:
        s = node.get("status")
        state = Text(node["state"], style=_STATE_STYLE.get(node["state"], ""))
        if not s:
            table.add_row(node["id"], str(node["pid"]), state, Text(node.get("error", ""), style="dim"), *[""] * 6)
            continue
        raft = s.get("raft", {})
        heard = float(s.get("last_heard_s", -1))
        table.add_row(
            node["id"], str(node["pid"]), state,
            Text(s["role"], style=_ROLE_STYLE.get(s["role"], "")), str(s["term"]), s.get("leader") or "-",
            str(raft.get("commit_index", "")), str(raft.get("applied_index", "")), str(raft.get("last_index", "")),
            "-" if heard < 0 else f"{heard * 1000:.0f}ms",
        )
    return table


@app.command()
def status(name: NameOpt = None, as_json: JsonOpt = False) -> None:
    """Each node's pid, state, role, term and leader."""
    from chaoslab.lab.cluster import status_to_dict

    st = _cluster(name).status()
    if as_json:
        print(json.dumps(status_to_dict(st)))
    else:
        out.print(_status_table(st))


def _follow(path: Path, follow: bool, run: Any, emit: Any) -> None:
    """Print a file's lines; with follow, keep printing until Ctrl-C or the cluster stops."""
    offset = 0
    try:
        while True:
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    data = f.read()
            except FileNotFoundError:
                data = b""
            end = data.rfind(b"\n") + 1
            for line in data[:end].decode(errors="replace").splitlines():
                emit(line)
            offset += end
            if not follow or not run.running():
                return
            time.sleep(0.2)
    except KeyboardInterrupt:
        return


@app.command()
def logs(
    node: Annotated[str, typer.Argument(help="A node id, or `lab` / `proxy`.")],
    name: NameOpt = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
) -> None:
    """A node's (or the supervisor's, or the proxy's) log."""
    from chaoslab.lab.rundir import find_run_dir, home_dir
    from chaoslab.lab.spec import ClusterSpec

    run = find_run_dir(home_dir(State.home), name)
    ids = ClusterSpec.load(run.spec).node_ids
    paths = {"lab": run.supervisor_log, "supervisor": run.supervisor_log, "proxy": run.proxy_log}
    if node in ids:
        path = run.node_log(node)
    elif node in paths:
        path = paths[node]
    else:
        raise LabError(f"unknown node {node!r} (nodes: {', '.join(ids)}, or lab, proxy)")
    _follow(path, follow, run, lambda line: print(line, flush=True))


def format_event(e: dict[str, Any]) -> str:
    stamp = datetime.fromtimestamp(e.get("time", 0)).strftime("%H:%M:%S.%f")[:-3]
    rest = " ".join(f"{k}={v}" for k, v in e.items() if k not in ("time", "source", "kind"))
    return f"{stamp}  {e.get('source', '?'):<6} {e.get('kind', '?'):<8} {rest}"


@app.command()
def events(
    name: NameOpt = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new events.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The cluster's events: elections, term changes, crashes, restarts, faults."""
    from chaoslab.lab.rundir import find_run_dir, home_dir

    run = find_run_dir(home_dir(State.home), name)

    def emit(line: str) -> None:
        if as_json:
            print(line, flush=True)
            return
        try:
            print(format_event(json.loads(line)), flush=True)
        except ValueError:
            pass

    _follow(run.events, follow, run, emit)


# -- process faults ------------------------------------------------------------

Targets = Annotated[list[str], typer.Argument(help="Node ids, `leader` or `random`.")]


def _report(verb: str, ids: list[str]) -> None:
    out.print(f"{verb} {', '.join(ids)}")


@app.command()
def crash(targets: Targets, name: NameOpt = None, seed: Annotated[int, typer.Option(help="Seed for `random`.")] = 0) -> None:
    """Kill nodes with SIGKILL (`crash leader`, `crash random`, `crash n3 n4`)."""
    _report("crashed", _cluster(name).crash(*targets, seed=seed))


@app.command()
def restart(targets: Targets, name: NameOpt = None) -> None:
    """Start crashed nodes again, same id and data directory."""
    _report("restarted", _cluster(name).restart(*targets))


@app.command()
def pause(targets: Targets, name: NameOpt = None, seed: Annotated[int, typer.Option(help="Seed for `random`.")] = 0) -> None:
    """Freeze nodes with SIGSTOP."""
    _report("paused", _cluster(name).pause(*targets, seed=seed))


@app.command()
def resume(targets: Targets, name: NameOpt = None) -> None:
    """Thaw paused nodes with SIGCONT."""
    _report("resumed", _cluster(name).resume(*targets))


def _run_dashboard(cluster: Any, refresh: float, once: bool, as_json: bool) -> int:
    raise LabError("the dashboard is not available yet")


def main() -> None:
    try:
        app()
    except LabError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)

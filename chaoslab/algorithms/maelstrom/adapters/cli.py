"""Maelstrom's verbs: ``chaoslab send NODE BODY`` (a client message to a node's program, its reply
printed) and ``chaoslab maelstrom test`` (Maelstrom's own command line, as a scripted run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from chaoslab.errors import LabError

app = typer.Typer()


@app.command()
def send(
    node: Annotated[str, typer.Argument(help="The node whose program gets the message.")],
    body: Annotated[str, typer.Argument(help='The message body as JSON, e.g. \'{"type": "echo", "echo": "hi"}\' (msg_id is ours).')],
    client: Annotated[str, typer.Option("--client", help="The client id it comes from.")] = "c1",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the reply.")] = 5.0,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Cluster name.")] = None,
) -> None:
    """Send a client message to a Maelstrom node's program and print the body of its reply."""
    from chaoslab.cli import find_cluster

    try:
        parsed = json.loads(body)
    except json.JSONDecodeError as exc:
        raise LabError(f"the body is not JSON: {exc}") from None
    cluster = find_cluster(name)
    if cluster.algorithm.name != "maelstrom":
        raise LabError(f"send needs a maelstrom cluster; {cluster.name} runs {cluster.algorithm.name}")
    reply = cluster.command(node, "client", {"body": parsed, "client": client}, timeout=timeout)
    print(json.dumps(reply))


maelstrom_app = typer.Typer(help="Maelstrom's own command line: `chaoslab maelstrom test -w broadcast --bin ./node ...`.",
                            no_args_is_help=True)
app.add_typer(maelstrom_app, name="maelstrom")


@maelstrom_app.command("test")
def test(
    workload: Annotated[str, typer.Option("-w", "--workload", help="lin-kv, echo, broadcast or g-counter.")],
    bin: Annotated[str, typer.Option("--bin", help="Your program (relative to here, as in the scenario file).")],
    arg: Annotated[Optional[list[str]], typer.Option("--arg", help="One more argument to the program (repeatable).")] = None,
    node_count: Annotated[int, typer.Option("--node-count", help="How many nodes.")] = 3,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Seconds of client operations.")] = 10.0,
    rate: Annotated[float, typer.Option("--rate", help="Client operations a second, all clients together.")] = 10.0,
    concurrency: Annotated[str, typer.Option("--concurrency", help="Clients: a count, or a multiple of the nodes like 2n.")] = "1n",
    nemesis: Annotated[str, typer.Option("--nemesis", help="Faults: partition, kill, pause (comma-separated).")] = "",
    nemesis_interval: Annotated[Optional[float], typer.Option("--nemesis-interval", help="Seconds between faults (default 10, at most a third of the time limit).")] = None,
    topology: Annotated[Optional[str], typer.Option("--topology", help="broadcast: grid, line, total, tree, tree2-4.")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed for every random choice (default: random, shown).")] = None,
    save: Annotated[Optional[Path], typer.Option("--save", help="Where to write the scenario (default HOME/maelstrom/WORKLOAD.toml).")] = None,
) -> None:
    """Maelstrom's `test` on real processes through the fault proxy. Exit 0 valid, 1 invalid, 2 unknown.

    The options become a scenario file (saved, for `chaoslab run` and your CI), which runs at once.
    """
    import shlex
    import sys

    from chaoslab.algorithms.maelstrom.adapters.testcmd import scenario_toml
    from chaoslab.cli import State, run_files
    from chaoslab.lab.rundir import home_dir, make_home

    try:
        text = scenario_toml(workload=workload, bin=bin, args=arg or (), nodes=node_count, time_limit=time_limit,
                             rate=rate, concurrency=concurrency, nemesis=nemesis, nemesis_interval=nemesis_interval,
                             topology=topology, command=shlex.join(["chaoslab", *sys.argv[1:]]))
    except ValueError as exc:
        raise LabError(str(exc)) from None
    if save is None:
        folder = home_dir(State.home) / "maelstrom"
        make_home(folder)
        save = folder / f"{workload}.toml"
    try:
        save.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LabError(f"cannot write the scenario to {save}: {exc.strerror}") from None
    print(f"scenario: {save}  (chaoslab run {shlex.quote(str(save))} runs it again)")
    run_files([save], seed=seed)

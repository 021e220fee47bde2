"""Echo's own command, added to ``chaoslab`` through its spec: ``chaoslab ping NODE``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from chaoslab.errors import LabError

app = typer.Typer()


@app.command()
def ping(
    node: Annotated[str, typer.Argument(help="The node that pings every peer now.")],
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Cluster name.")] = None,
) -> None:
    """Make an echo node ping all its peers at once."""
    from chaoslab.cli import find_cluster

    cluster = find_cluster(name)
    if cluster.algorithm.name != "echo":
        raise LabError(f"ping needs an echo cluster; {cluster.name} runs {cluster.algorithm.name}")
    result = cluster.command(node, "ping")
    print(f"{result['node']} pinged {result['peers']} peers (round {result['seq']})")

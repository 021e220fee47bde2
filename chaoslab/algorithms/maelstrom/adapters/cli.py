"""``chaoslab send NODE BODY``: a client message to a node's Maelstrom program, its reply printed."""

from __future__ import annotations

import json
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

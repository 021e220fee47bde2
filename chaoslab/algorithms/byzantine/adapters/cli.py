"""Byzantine agreement's own command, added to ``chaoslab`` through its spec: ``chaoslab order``."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from chaoslab.errors import LabError

app = typer.Typer()


@app.command()
def order(
    value: Annotated[str, typer.Argument(help="attack or retreat.")],
    commander: Annotated[str, typer.Option("--commander", "-c", help="The node that gives the order.")] = "n1",
    timeout: Annotated[Optional[float], typer.Option("--timeout", help="Seconds to wait for decisions (default: rounds + 5 s).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Cluster name.")] = None,
) -> None:
    """Run one Byzantine agreement: the commander orders, the lieutenants relay and decide.
    Prints every lieutenant's decision and whether IC1 and IC2 hold; exit 0 when both hold, 1 when not."""
    from chaoslab.algorithms.byzantine.adapters.agreement import run_agreement
    from chaoslab.cli import find_cluster

    if value not in ("attack", "retreat"):
        raise LabError(f"order must be attack or retreat, got {value!r}")
    cluster = find_cluster(name)
    if cluster.algorithm.name != "byzantine":
        raise LabError(f"order needs a byzantine cluster; {cluster.name} runs {cluster.algorithm.name}")
    if commander not in cluster.node_ids:
        raise LabError(f"unknown commander {commander!r} (nodes: {', '.join(cluster.node_ids)})")
    report = run_agreement(cluster, value, commander, timeout=timeout)
    if as_json:
        print(json.dumps(report.to_dict()))
    else:
        print(report.summary())
    raise typer.Exit(0 if report.ok else 1)

"""One Byzantine agreement run from outside: what ``chaoslab order`` does, as a Python API.

:func:`run_agreement` drives a real cluster (a :class:`chaoslab.Cluster`), :func:`run_agreement_sim`
a :class:`chaoslab.sim.Simulation`; both do the same four things:

1. give the commander the order (``order``: it answers with the agreement's id and starts sending);
2. tell every other live node the agreement began (``begin``: the synchronous model's shared
   clock, over the lab's control path, so a silent commander still leaves a deadline to decide by);
3. poll node statuses until every live loyal lieutenant decided that agreement, or a deadline;
4. :func:`evaluate` the statuses: IC1 (loyal lieutenants agree) and IC2 (with a loyal commander
   they obey it), messages sent, rounds, and who leaned on a default.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["AgreementReport", "evaluate", "run_agreement", "run_agreement_sim"]

DETAIL = "byzantine"


@dataclass
class AgreementReport:
    """The outcome of one agreement. ``ic1``/``ic2`` hold over the loyal lieutenants that were
    up; a loyal lieutenant that never decided (it heard nothing by the deadline) breaks IC1."""

    instance: str
    commander: str
    order: str
    protocol: str
    m: int
    traitors: list[str]
    decisions: dict[str, str]  # every lieutenant that decided (traitors too), by id
    ic1: bool
    ic2: bool
    messages: int
    rounds: int
    defaulted: list[str] = field(default_factory=list)  # loyal lieutenants that used RETREAT for a missing value
    undecided: list[str] = field(default_factory=list)  # loyal lieutenants up but not decided by the deadline
    down: list[str] = field(default_factory=list)  # nodes that did not answer
    elapsed_s: float = 0.0
    seed: int | None = None

    @property
    def ok(self) -> bool:
        return self.ic1 and self.ic2

    @property
    def loyal_commander(self) -> bool:
        return self.commander not in self.traitors

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        mark = {True: "holds", False: "VIOLATED"}
        lines = [
            f"agreement {self.instance}: {self.protocol.upper()}({self.m}), commander {self.commander}"
            f" ({'traitor' if not self.loyal_commander else 'loyal'}) ordered {self.order};"
            f" traitors {', '.join(self.traitors) or 'none'}",
        ]
        for node, decision in sorted(self.decisions.items(), key=lambda kv: _order_key(kv[0])):
            tags = []
            if node in self.traitors:
                tags.append("traitor")
            if node in self.defaulted:
                tags.append("used RETREAT for a missing value")
            lines.append(f"  {node}: {decision}" + (f" ({', '.join(tags)})" if tags else ""))
        for node in self.undecided:
            lines.append(f"  {node}: undecided (heard nothing of the agreement in time)")
        for node in self.down:
            lines.append(f"  {node}: down")
        ic2 = mark[self.ic2] if self.loyal_commander else "holds (vacuously: the commander is a traitor)"
        lines.append(f"IC1 (loyal lieutenants agree): {mark[self.ic1]}")
        lines.append(f"IC2 (they obey a loyal commander): {ic2}")
        lines.append(f"{self.messages} messages, {self.rounds} rounds, {self.elapsed_s * 1000:.0f} ms"
                     + (f", seed {self.seed}" if self.seed is not None else ""))
        return "\n".join(lines)


def _order_key(node: str) -> tuple[int, str]:
    digits = node.lstrip("n")
    return (int(digits), node) if digits.isdigit() else (1 << 30, node)


def evaluate(
    statuses: Mapping[str, Mapping[str, Any]], node_ids: list[str], instance: str, order: str,
    elapsed_s: float = 0.0, seed: int | None = None,
) -> AgreementReport:
    """The report for agreement ``instance`` from ``{node id: status dict}`` (nodes that answered)."""
    commander = instance.rpartition(":")[0]
    details = {n: s.get(DETAIL) or {} for n, s in statuses.items()}
    any_detail = next(iter(details.values()), {})
    traitors = list(any_detail.get("traitors", []))
    decisions: dict[str, str] = {}
    defaulted, undecided = [], []
    messages = rounds = 0
    for node in node_ids:
        d = details.get(node)
        if d is None or d.get("instance") != instance:
            if d is not None and node != commander and node not in traitors:
                undecided.append(node)
            continue
        messages += int(d.get("sent", 0))
        rounds = max(rounds, int(d.get("rounds", 0)))
        if node == commander:
            continue
        if d.get("decision"):
            decisions[node] = d["decision"]
            if d.get("defaulted") and node not in traitors:
                defaulted.append(node)
        elif node not in traitors:
            undecided.append(node)
    loyal = {n: v for n, v in decisions.items() if n not in traitors}
    ic1 = not undecided and len(set(loyal.values())) <= 1
    ic2 = commander in traitors or (not undecided and all(v == order for v in loyal.values()))
    return AgreementReport(
        instance=instance, commander=commander, order=order,
        protocol=str(any_detail.get("mode", "om")), m=int(any_detail.get("faults", 0)), traitors=traitors,
        decisions=decisions, ic1=ic1, ic2=ic2, messages=messages, rounds=rounds, defaulted=defaulted,
        undecided=undecided, down=[n for n in node_ids if n not in statuses], elapsed_s=elapsed_s, seed=seed,
    )


def _settled(statuses: Mapping[str, Mapping[str, Any]], instance: str) -> bool:
    """Every answering loyal lieutenant decided ``instance``."""
    commander = instance.rpartition(":")[0]
    for node, status in statuses.items():
        d = status.get(DETAIL) or {}
        if node == commander or d.get("traitor"):
            continue
        if d.get("instance") != instance or not d.get("decision"):
            return False
    return True


def _deadline(statuses: Mapping[str, Mapping[str, Any]], round_s: float) -> float:
    m = max((int((s.get(DETAIL) or {}).get("faults", 0)) for s in statuses.values()), default=0)
    return (m + 1) * round_s


def run_agreement(cluster: Any, order: str, commander: str = "n1", timeout: float | None = None) -> AgreementReport:
    """Run one agreement on a real cluster (:class:`chaoslab.Cluster`): ``LabError`` for an unknown
    or unreachable commander or a bad order. Waits at most ``timeout`` seconds (default: the
    protocol's rounds plus 5 s) for the loyal lieutenants to decide."""
    from chaoslab.wire.status import node_statuses

    started = time.monotonic()
    reply = cluster.command(commander, "order", {"value": order})
    instance = reply["instance"]
    node_ids = list(cluster.node_ids)
    for node in node_ids:
        if node != commander:
            try:
                cluster.command(node, "begin", {"instance": instance}, timeout=2.0)
            except Exception:  # noqa: BLE001 - a crashed or paused node simply takes no part
                pass
    config = cluster_config(cluster)
    limit = timeout if timeout is not None else (int(config.get("m", 0)) + 1) * config.get("round_ms", 200) / 1000 + 5.0
    deadline = started + limit
    while True:
        snapshot = cluster.status(timeout=2.0)
        statuses = node_statuses(snapshot)
        # A running node that missed the supervisor's status deadline (a busy machine) is asked again.
        silent = [n.id for n in snapshot.nodes if n.state == "up" and not n.HasField("status")]
        if (not silent and _settled(statuses, instance)) or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    return evaluate(statuses, node_ids, instance, order, elapsed_s=time.monotonic() - started)


def cluster_config(cluster: Any) -> Mapping[str, Any]:
    """The cluster's resolved ``[byzantine]`` section (what every node read)."""
    import json

    try:
        return json.loads(cluster.run.spec.read_text()).get("config", {})
    except (OSError, ValueError, AttributeError):
        return {}


def run_agreement_sim(sim: Any, order: str, commander: str = "n1", timeout: float | None = None) -> AgreementReport:
    """The same agreement in a :class:`chaoslab.sim.Simulation` (virtual time, seeded faults):
    ``Simulation.command`` to the commander and ``begin`` to every other live node, then run
    until the loyal lieutenants decided or ``timeout`` virtual seconds passed."""
    started = sim.now
    call = sim.command(commander, "order", {"value": order})
    sim.run_until(lambda s: call.done, 1.0)  # the reply is due now, before any message lands
    instance = call.result["instance"]
    for node in sim.up():
        if node != commander:
            sim.command(node, "begin", {"instance": instance})
    limit = timeout if timeout is not None else (int(sim.config.get("m", 0)) + 1) * sim.config.get("round_ms", 200) / 1000 + 1.0
    sim.run_until(lambda s: _settled(s.statuses(), instance), limit)
    return evaluate(sim.statuses(), list(sim.node_ids), instance, order, elapsed_s=sim.now - started, seed=sim.seed)

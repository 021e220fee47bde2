"""The Two Generals' verbs, added to ``chaoslab`` through its spec.

``chaoslab attack`` runs one attempt on a real cluster; ``chaoslab twogenerals`` runs many
seeded attempts in the simulator and tells, per loss rate, how often the generals act
together, how often one attacks alone and how often neither does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Optional

import typer

from chaoslab.algorithms.twogenerals.core import ATTACK, DEFAULTS, HOLD
from chaoslab.algorithms.twogenerals.spec import SPEC
from chaoslab.errors import LabError
from chaoslab.net.parse import parse_duration
from chaoslab.sim import NetworkConfig, Simulation

app = typer.Typer()

#: the simulator's messengers take as long to cross as the default cluster's ("delay 40ms --jitter 20ms")
SIM_DELAY = (0.020, 0.060)
#: how long after the attack time a simulated attempt keeps running (late messengers change nothing)
SETTLE = 0.2


# -- many attempts in the simulator ----------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One simulated attempt: what each general did, and how many messengers it took."""

    seed: int
    loss: float  # percent
    decisions: dict[str, str]  # node -> "attack" | "hold"
    messages: int
    trace: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """``together`` (both attack), ``neither``, or ``alone`` (exactly one attacks)."""
        attacking = [d == ATTACK for d in self.decisions.values()]
        return "together" if all(attacking) else "neither" if not any(attacking) else "alone"

    @property
    def alone(self) -> str | None:
        """The general who attacked alone, if one did."""
        if self.outcome != "alone":
            return None
        return next(n for n, d in self.decisions.items() if d == ATTACK)


def run_attempt(seed: int, loss: float, config: Mapping[str, Any] | None = None, *, trace: bool = False) -> Attempt:
    """One attempt in the simulator, from ``seed``: n1 proposes at once, both decide at the attack
    time, over a network that loses ``loss`` percent of the messengers."""
    cfg = {**DEFAULTS, **(config or {})}
    sim = Simulation(SPEC, 2, seed=seed, config=cfg, network=NetworkConfig(drop=loss / 100, delay=SIM_DELAY),
                     trace_messages=trace)
    for invariant in SPEC.sim.invariants():
        sim.add_invariant(invariant)
    proposer, other = sim.node_ids
    sim.command(proposer, ATTACK)
    sim.run_for(cfg["attack_in_ms"] / 1000 + SETTLE)
    decisions = {}
    for node in sim.node_ids:
        core = sim.nodes[node]
        heard = core is not None and core.attempt == 1  # type: ignore[attr-defined]
        decisions[node] = core.decision if heard and core.decision else HOLD  # type: ignore[union-attr]
    return Attempt(seed, loss, decisions, sim.messages_sent, sim.trace if trace else [])


@dataclass
class Tally:
    """The attempts at one loss rate."""

    loss: float
    attempts: int = 0
    together: int = 0
    alone: dict[str, int] = field(default_factory=dict)  # who attacked alone -> how often
    neither: int = 0
    messages: int = 0
    alone_seeds: list[int] = field(default_factory=list)  # the first few, to replay

    def add(self, attempt: Attempt) -> None:
        self.attempts += 1
        self.messages += attempt.messages
        if attempt.outcome == "together":
            self.together += 1
        elif attempt.outcome == "neither":
            self.neither += 1
        else:
            who = attempt.alone or "?"
            self.alone[who] = self.alone.get(who, 0) + 1
            if len(self.alone_seeds) < 5:
                self.alone_seeds.append(attempt.seed)

    def to_dict(self) -> dict[str, Any]:
        return {"loss": self.loss, "attempts": self.attempts, "together": self.together,
                "alone": sum(self.alone.values()), "alone_by": dict(sorted(self.alone.items())),
                "neither": self.neither, "messages": self.messages,
                "messages_per_attempt": round(self.messages / self.attempts, 2), "alone_seeds": self.alone_seeds}


def survey(losses: Sequence[float], rounds: int, seed: int, config: Mapping[str, Any] | None = None) -> list[Tally]:
    """``rounds`` attempts at each loss rate; attempt ``i`` runs from seed ``seed + i``."""
    tallies = []
    for loss in losses:
        tally = Tally(loss)
        for i in range(rounds):
            tally.add(run_attempt(seed + i, loss, config))
        tallies.append(tally)
    return tallies


def parse_losses(text: str) -> list[float]:
    """``"0,10,30,50"`` -> ``[0, 10, 30, 50]`` (percent); outside 0..100 or malformed -> ValueError."""
    losses = []
    for word in text.split(","):
        word = word.strip().removesuffix("%")
        try:
            value = float(word)
        except ValueError:
            raise ValueError(f"--loss takes percentages like 0,10,30,50, got {text!r}") from None
        if not 0 <= value <= 100:
            raise ValueError(f"--loss {word}: a loss rate is between 0 and 100 (percent)")
        losses.append(int(value) if value == int(value) else value)
    return losses


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%"


def _replay(loss: float, seed: int, config: Mapping[str, Any]) -> str:
    extra = "".join(f" --{key} {config[key]}" for key in ("messengers", "confirmations") if config[key] != DEFAULTS[key])
    return f"chaoslab twogenerals --loss {loss:g} --rounds 1 --seed {seed}{extra} --trace"


def _acks(n: int) -> str:
    return f"{n} acknowledgement" + ("" if n == 1 else "s")


@app.command("twogenerals")
def twogenerals(
    rounds: Annotated[int, typer.Option("--rounds", help="Attempts per loss rate (attempt i runs from seed S+i).")] = 200,
    loss: Annotated[str, typer.Option("--loss", help="Loss rates to try, in percent: 0,10,30,50.")] = "0,10,30,50",
    messengers: Annotated[Optional[int], typer.Option("--messengers", help="Messengers per link of the chain (default 3).")] = None,
    confirmations: Annotated[Optional[int], typer.Option("--confirmations", help="The rule: acknowledgements a general needs to attack (default 1).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the first attempt.")] = 1,
    trace: Annotated[bool, typer.Option("--trace", help="Print every attempt's messengers (for --rounds 1: a replay).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Run many Two Generals attempts in the simulator: per loss rate, how often the generals act
    together, one attacks alone, or neither does. More messengers make "alone" rarer, never impossible.

    n1 proposes an attack time; every messenger that arrives is acknowledged, and each
    acknowledgement needs its own. At the attack time a general attacks iff it has received
    --confirmations acknowledgements.
    """
    try:
        losses = parse_losses(loss)
    except ValueError as exc:
        raise LabError(str(exc)) from None
    if rounds < 1:
        raise LabError(f"--rounds must be 1 or more, got {rounds}")
    if seed < 0:
        raise LabError(f"--seed must be 0 or more, got {seed}")
    config = dict(DEFAULTS)
    for key, value in (("messengers", messengers), ("confirmations", confirmations)):
        if value is not None:
            config[key] = value
    try:
        SPEC.check_config(config)
    except ValueError as exc:
        raise LabError(f"--{str(exc).replace('_', '-')}") from None

    if trace:
        for level in losses:
            for i in range(rounds):
                attempt = run_attempt(seed + i, level, config, trace=True)
                print(f"# loss {level:g}%, seed {seed + i}: {attempt.outcome}"
                      + (f" ({attempt.alone} attacked alone)" if attempt.alone else ""))
                print("\n".join(attempt.trace))
        return
    tallies = survey(losses, rounds, seed, config)
    if as_json:
        print(json.dumps({"rounds": rounds, "seed": seed, "messengers": config["messengers"],
                          "confirmations": config["confirmations"], "attack_in_ms": config["attack_in_ms"],
                          "results": [t.to_dict() for t in tallies]}))
        return
    print(f"The Two Generals: {rounds} attempts per loss rate, {config['messengers']} messengers per link, "
          f"attack with {_acks(config['confirmations'])}, seeds {seed}..{seed + rounds - 1}")
    print()
    print(f"{'loss':>5}  {'together':>8}  {'alone':>6}  {'(n1/n2)':<9}  {'neither':>7}  {'messengers/attempt':>18}")
    for t in tallies:
        who = f"({t.alone.get('n1', 0)}/{t.alone.get('n2', 0)})"
        print(f"{t.loss:>4g}%  {_percent(t.together, t.attempts):>8}  {_percent(sum(t.alone.values()), t.attempts):>6}  "
              f"{who:<9}  {_percent(t.neither, t.attempts):>7}  {t.messages / t.attempts:>18.1f}")
    alone = [t for t in tallies if t.alone_seeds]
    print()
    if not alone:
        print("No general attacked alone in these attempts: the next one still might.")
    for t in alone:
        print(f"{t.loss:g}% loss: alone from seed {t.alone_seeds[0]} — replay: {_replay(t.loss, t.alone_seeds[0], config)}")


# -- one attempt on a real cluster ----------------------------------------------------


@app.command("attack")
def attack(
    in_: Annotated[Optional[str], typer.Option("--in", help="Attack this long from now (default: the cluster's attack_in_ms).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Cluster name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Two Generals: n1 proposes an attack time and sends messengers; at that time each general
    decides by its rule. Prints both decisions: together, alone or neither."""
    from chaoslab.cli import find_cluster
    from chaoslab.lab.spec import ClusterSpec

    cluster = find_cluster(name)
    if cluster.algorithm.name != SPEC.name:
        raise LabError(f"attack needs a {SPEC.name} cluster; {cluster.name} runs {cluster.algorithm.name}")
    spec = ClusterSpec.load(cluster.run.spec)
    args: dict[str, Any] = {}
    if in_ is not None:
        try:
            seconds = parse_duration(in_)
        except ValueError as exc:
            raise LabError(f"--in: {exc}") from None
        if not 0 < seconds <= 600:
            raise LabError(f"--in must be above 0 and at most 10m, got {in_}")
        args["in_ms"] = seconds * 1000
    else:
        seconds = spec.config.get("attack_in_ms", DEFAULTS["attack_in_ms"]) / 1000
    proposer, other = spec.node_ids
    mine = cluster.command(proposer, ATTACK, args, timeout=seconds + 5.0)
    views = {proposer: mine, other: _other_view(cluster, other, mine["attempt"])}
    decisions = {n: (v["decision"] if v else None) for n, v in views.items()}
    known = [d for d in decisions.values() if d is not None]
    outcome = ("unknown" if len(known) < 2 else "together" if known == [ATTACK, ATTACK]
               else "neither" if ATTACK not in known else "alone")
    if as_json:
        print(json.dumps({"attempt": mine["attempt"], "outcome": outcome, "decisions": decisions,
                          "generals": views, "faults": spec.faults}))
        return
    parts = []
    for node, view in views.items():
        if view is None:
            parts.append(f"{node} did not answer")
        elif not view["link"] and node != proposer:
            parts.append(f"{node} never got the plan: holds")
        else:
            verb = "attacks" if view["decision"] == ATTACK else "holds"
            parts.append(f"{node} {verb} ({view['acks']} of {view['needs']} acks, {view['messengers']} messengers)")
    print(f"attempt {mine['attempt']}: " + " · ".join(parts))
    if outcome == "alone":
        print(f"{next(n for n, d in decisions.items() if d == ATTACK)} attacked alone")
    elif outcome != "unknown":
        print({"together": "they attacked together", "neither": "neither attacked"}[outcome])


def _other_view(cluster: Any, node: str, attempt: int, timeout: float = 2.0) -> dict[str, Any] | None:
    """The other general's view of ``attempt`` once it decided (it decides at the same time as the
    proposer, on the same clock); one that never heard of the attempt holds."""
    from chaoslab.wire.status import node_statuses

    deadline = time.monotonic() + timeout
    detail = None
    while True:
        try:
            detail = node_statuses(cluster.status(timeout=1.0)).get(node, {}).get(SPEC.detail) or detail
        except LabError:
            pass
        if detail and detail["attempt"] == attempt and detail["decision"]:
            return detail
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if detail is None:
        return None
    return {**detail, "attempt": attempt, "decision": HOLD, "acks": 0, "messengers": 0, "link": 0}

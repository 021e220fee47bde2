"""A fault schedule written out, for runs explored on purpose rather than drawn from the seed.

One string, actions separated by ``;``, each ``TIME VERB [TARGETS]`` with TIME in virtual
seconds::

    1.0 crash n1,n2; 1.5 restart n2; 1.8 restart n1; 2 isolate leader; 3 heal; 3 drop 0.2

Verbs: ``crash`` / ``restart`` (node ids, ``leader``, ``follower``, or for restart ``all``),
``isolate`` (one node, ``leader`` or ``follower``), ``partition`` (groups split by ``|``: ``n1,n2|n3,n4,n5``), ``heal``
(every cut, and the base network back), ``drop P`` (messages sent from then on are lost with
probability P). ``leader`` is resolved when the action runs (the spec's
``current_leader``), ``follower`` too (the first running node, by id, that is not it), so
``crash leader,follower`` takes down the leader and one other; an action that cannot apply then (crash a node that is down, no leader)
is skipped with a ``skip`` line in the trace, so one schedule fits every seed. The text is
what ``python -m chaoslab.sim --schedule`` takes, so a failing run replays.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from chaoslab.sim.simulation import Simulation

VERBS = ("crash", "restart", "isolate", "partition", "heal", "drop")


@dataclass(frozen=True, slots=True)
class Action:
    time: float
    verb: str
    targets: tuple[str, ...] = ()  # node ids or "leader"/"all"; partition: groups as "a,b"; drop: the probability

    def __str__(self) -> str:
        sep = "|" if self.verb == "partition" else ","
        return f"{self.time:g} {self.verb}" + (f" {sep.join(self.targets)}" if self.targets else "")


def parse_schedule(text: str, nodes: Sequence[str]) -> list[Action]:
    """The actions of ``text``, in time order; ``ValueError`` (one line, naming the action) if malformed."""
    actions = []
    for number, part in enumerate((p.strip() for p in text.split(";")), 1):
        if not part:
            continue
        words = part.split()
        where = f"schedule action {number} {part!r}"
        try:
            time = float(words[0])
        except ValueError:
            raise ValueError(f"{where}: starts with {words[0]!r}, not a time in seconds") from None
        if not (time >= 0 and math.isfinite(time)):
            raise ValueError(f"{where}: time must be >= 0")
        if len(words) < 2 or words[1] not in VERBS:
            raise ValueError(f"{where}: expected one of {', '.join(VERBS)} after the time")
        verb, rest = words[1], words[2:]
        if verb == "heal":
            if rest:
                raise ValueError(f"{where}: heal takes nothing")
            actions.append(Action(time, verb))
            continue
        if len(rest) != 1:
            raise ValueError(f"{where}: {verb} takes one argument (no spaces inside it)")
        arg = rest[0]
        if verb == "drop":
            try:
                p = float(arg)
            except ValueError:
                p = -1.0
            if not 0 <= p < 1:
                raise ValueError(f"{where}: drop takes a probability in [0, 1)")
            actions.append(Action(time, verb, (f"{p:g}",)))
            continue
        if verb == "partition":
            groups = tuple(arg.split("|"))
            _check_nodes(where, [n for g in groups for n in g.split(",")], nodes, extra=())
            if len(groups) < 2:
                raise ValueError(f"{where}: a partition needs at least two groups split by '|'")
            actions.append(Action(time, verb, groups))
            continue
        targets = tuple(arg.split(","))
        extra = ("leader", "follower", "all") if verb == "restart" else ("leader", "follower")
        _check_nodes(where, targets, nodes, extra)
        if verb == "isolate" and len(targets) != 1:
            raise ValueError(f"{where}: isolate takes one node")
        actions.append(Action(time, verb, targets))
    return sorted(actions, key=lambda a: a.time)


def _check_nodes(where: str, targets: Sequence[str], nodes: Sequence[str], extra: Sequence[str]) -> None:
    for t in targets:
        if t not in nodes and t not in extra:
            raise ValueError(f"{where}: unknown node {t!r} (nodes: {', '.join(nodes)})")


def apply_schedule(sim: Simulation, actions: Sequence[Action]) -> None:
    """Have ``sim`` carry out ``actions`` at their times."""
    for action in actions:
        sim.at(action.time, lambda s, a=action: _run(s, a))


def _run(sim: Simulation, action: Action) -> None:
    verb = action.verb
    if verb == "heal":
        sim.restore()
    elif verb == "drop":
        sim.set_network(dataclasses.replace(sim.network, drop=float(action.targets[0])))
    elif verb == "partition":
        sim.partition([g.split(",") for g in action.targets])
    else:
        for target in action.targets:
            for node in _resolve(sim, action, target):
                if verb == "crash":
                    sim.crash(node)
                elif verb == "restart":
                    sim.restart(node)
                else:
                    sim.isolate(node)


def _resolve(sim: Simulation, action: Action, target: str) -> list[str]:
    """The nodes ``target`` names now, or none (with a trace line saying why)."""
    if target == "all":
        return sim.down()
    if target in ("leader", "follower"):
        leader = sim.spec.current_leader(sim.statuses())
        node = leader if target == "leader" else next((n for n in sim.up() if n != leader), None)
        if node is None:
            sim.note("skip", {"action": str(action), "why": f"no {target}"})
            return []
    else:
        node = target
    down = sim.nodes.get(node) is None
    if (action.verb == "restart") != down:
        sim.note("skip", {"action": str(action), "why": f"{node} is {'down' if down else 'up'}"})
        return []
    return [node]

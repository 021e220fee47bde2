"""The Byzantine generals (Lamport, Shostak, Pease 1982): OM(m) and SM(m), sans-I/O.

One agreement (an *instance*, ``"<commander>:<k>"``) starts when an operator gives the
commander an order (:meth:`ByzantineNode.command` ``order``) and the lab tells every other
node it began (``begin``: the synchronous model's shared clock; a node that hears a value
first starts then). From its start ``t0`` a node allows ``round_s`` per round: a value on a
relay path of length k (commander first, sender last) must arrive by ``t0 + k * round_s``, or
it is *missing*. A loyal lieutenant relays what it receives at once; it decides when every
value it can expect is in (OM only), or at the last round's deadline.

- **OM(m)** (oral messages): a lieutenant keeps every value by its relay path and decides by
  the paper's recursion over the path tree, ``v(p) = majority(value on p, v(p + j) for every
  lieutenant j not on p)`` down to paths of length m+1, with RETREAT for a missing value and
  for a tie. Not a flat vote over everything received.
- **SM(m)** (signed messages): the commander signs, every relayer appends its Ed25519 signature
  over (instance, value, chain so far). A chain that is forged, broken (a bad or missing
  signature, wrong signers, a signer twice) or already seen is discarded; each new value joins
  the set V and is relayed while the chain is shorter than m+1; the decision is V's only
  value, or RETREAT.

Traitors (``traitor_ids``) follow their strategy (:mod:`.strategies`) whenever they send.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.byzantine.config import ATTACK, RETREAT, VALUES, ByzantineConfig, parse_config
from chaoslab.algorithms.byzantine.messages import ByzantineValue
from chaoslab.algorithms.byzantine.strategies import Traitor

if TYPE_CHECKING:
    import random

__all__ = ["COMMANDER", "LIEUTENANT", "Agreement", "ByzantineNode", "majority"]

COMMANDER = "commander"
LIEUTENANT = "lieutenant"
_KEEP = 8  # agreements remembered (status shows the last)
_SHOWN_PATH = 2  # status lists values on paths this short: the commander's and each relay of it


def majority(values: list[str]) -> str:
    """The strict majority of ``values``, RETREAT when there is none (Lamport's ``majority``)."""
    attack = sum(1 for v in values if v == ATTACK)
    return ATTACK if attack * 2 > len(values) else RETREAT


def commander_of(instance: str) -> str:
    commander, sep, k = instance.rpartition(":")
    if not sep or not commander or not k.isdigit():
        raise ValueError(f"agreement id {instance!r} is not '<commander>:<k>'")
    return commander


@dataclass(slots=True, eq=False)
class Agreement:
    """One node's view of one agreement."""

    instance: str
    commander: str
    t0: float  # when this node started it (its round deadlines count from here)
    order: str = ""  # the commander's own order (commander only)
    received: dict[tuple[str, ...], str] = field(default_factory=dict)  # relay path -> value (first wins)
    accepted: list[str] = field(default_factory=list)  # SM: the set V, in arrival order
    sent: int = 0
    discarded: int = 0  # forged, broken, duplicated, late or malformed
    rounds: int = 0  # the longest relay path received
    decision: str = ""
    decided_at: float | None = None
    missing: int = 0  # OM: expected values that never came; SM: 1 when nothing valid came
    defaulted: bool = False  # the decision leaned on a default (a missing value, or no single SM value)


class ByzantineNode:
    """One general. Built by the spec's factory from a resolved config section."""

    def __init__(self, node_id: str, nodes: list[str], config: Mapping[str, Any], rng: random.Random, durable: Any) -> None:
        self.node_id = node_id
        self.nodes = list(nodes)
        self.config: ByzantineConfig = parse_config(config)
        self.m = self.config.m
        self.round_s = self.config.round_s
        self.protocol = self.config.protocol
        self.traitor = Traitor.for_node(node_id, nodes, self.config, rng)
        self.seq = int((durable or {}).get("seq", 0))  # agreements this node commanded (durable: ids stay unique)
        self.agreements: OrderedDict[str, Agreement] = OrderedDict()
        self.count = 0  # agreements taken part in since start: the status "term"
        self.last_heard: float | None = None
        self.signer = None
        if self.protocol == "sm":
            from chaoslab.algorithms.byzantine.signing import Signer

            self.signer = Signer(node_id, self.config.keys)

    # ------------------------------------------------------------------ inputs

    def start(self, now: float) -> Output:
        return Output()

    def tick(self, now: float) -> Output:
        out = Output()
        for agreement in self.agreements.values():
            if not agreement.decision and agreement.commander != self.node_id and now >= self._final_deadline(agreement):
                self._decide(agreement, now, out)
        return out

    def next_deadline(self) -> float:
        pending = [self._final_deadline(a) for a in self.agreements.values() if not a.decision and a.commander != self.node_id]
        return min(pending, default=float("inf"))

    def command(self, request_id: int, name: str, args: dict[str, Any], now: float) -> Output:
        """``order`` {value}: command an agreement now; ``begin`` {instance}: one started."""
        out = Output()
        if name == "order":
            value = args.get("value")
            if value not in VALUES:
                raise ValueError(f"order must be attack or retreat, got {value!r}")
            self.seq += 1
            out.persist = {"seq": self.seq}
            agreement = self._open(f"{self.node_id}:{self.seq}", now, out)
            agreement.order = value
            self._send_order(agreement, value, out)
            out.reply(request_id, {
                "instance": agreement.instance, "commander": self.node_id, "order": value,
                "traitor": self.traitor is not None, "sent": agreement.sent,
            })
        elif name == "begin":
            instance = str(args.get("instance", ""))
            commander = commander_of(instance)
            if commander not in self.nodes:
                raise ValueError(f"agreement {instance!r}: unknown commander {commander!r}")
            known = instance in self.agreements
            if not known:
                self._open(instance, now, out)
            out.reply(request_id, {"instance": instance, "known": known})
        else:
            raise ValueError(f"unknown command {name!r} (byzantine takes: order, begin)")
        return out

    def step(self, src: str, message: Any, now: float) -> Output:
        out = Output()
        if not isinstance(message, ByzantineValue):
            return out
        self.last_heard = now
        try:
            commander = commander_of(message.instance)
        except ValueError:
            return out
        if commander not in self.nodes or commander == self.node_id:
            return out
        agreement = self.agreements.get(message.instance)
        if agreement is None:
            agreement = self._open(message.instance, now, out)
        path = tuple(message.path)
        if not self._well_formed(src, message, path, commander) or agreement.decision:
            agreement.discarded += 1
            return out
        if now > agreement.t0 + len(path) * self.round_s:  # missed its round's deadline: missing
            agreement.discarded += 1
            return out
        if self.protocol == "sm":
            self._step_sm(agreement, message, path, out)
        else:
            self._step_om(agreement, message, path, out)
        if self.protocol == "om" and len(agreement.received) == self._expected(agreement):
            self._decide(agreement, now, out)  # everything that can come came: no need to wait
        return out

    # ------------------------------------------------------------------ OM(m)

    def _step_om(self, agreement: Agreement, message: ByzantineValue, path: tuple[str, ...], out: Output) -> None:
        if path in agreement.received:
            agreement.discarded += 1  # a duplicate: the first value on a path stands
            return
        agreement.received[path] = message.value
        agreement.rounds = max(agreement.rounds, len(path))
        if len(path) <= self.m:  # OM(m - len(path) + 1) with this node as the commander
            self._relay(agreement, message.value, path, [], out)

    def _expected(self, agreement: Agreement) -> int:
        """How many paths can reach this lieutenant: commander first, then up to m distinct
        other lieutenants (not this node)."""
        others = len(self.nodes) - 2
        total, paths = 0, 1
        for k in range(self.m + 1):
            total += paths
            paths *= others - k
        return total

    def _om_value(self, agreement: Agreement, path: tuple[str, ...]) -> str:
        """The recursive majority over the relay-path tree below ``path``."""
        value = agreement.received.get(path, RETREAT)
        if len(path) == self.m + 1:
            return value
        votes = [value]
        for j in self.nodes:
            if j != self.node_id and j not in path:
                votes.append(self._om_value(agreement, (*path, j)))
        return majority(votes)

    # ------------------------------------------------------------------ SM(m)

    def _step_sm(self, agreement: Agreement, message: ByzantineValue, path: tuple[str, ...], out: Output) -> None:
        assert self.signer is not None
        if path in agreement.received or not self.signer.verify_chain(
            message.instance, message.value, message.path, message.signatures
        ):
            agreement.discarded += 1  # duplicated, forged or broken
            return
        agreement.received[path] = message.value
        agreement.rounds = max(agreement.rounds, len(path))
        if message.value in agreement.accepted:
            return
        agreement.accepted.append(message.value)
        if len(path) <= self.m:
            self._relay(agreement, message.value, path, list(message.signatures), out)

    # ------------------------------------------------------------------ sending

    def _send_order(self, agreement: Agreement, value: str, out: Output) -> None:
        lieutenants = [n for n in self.nodes if n != self.node_id]
        if self.traitor is not None:
            plan = self.traitor.as_commander(value, lieutenants)
        else:
            plan = [(d, value) for d in lieutenants]
        path = [self.node_id]
        for dst, v in plan:
            signatures = [self.signer.sign(agreement.instance, v, path)] if self.signer else []
            self._send(agreement, dst, ByzantineValue(agreement.instance, 0, v, path, signatures), out)

    def _relay(self, agreement: Agreement, value: str, path: tuple[str, ...], signatures: list[bytes], out: Output) -> None:
        new_path = [*path, self.node_id]
        dests = [n for n in self.nodes if n not in new_path]
        if self.traitor is not None:
            plan = self.traitor.as_relayer(value, agreement.commander, agreement.received.get((agreement.commander,)), dests)
        else:
            plan = [(d, value) for d in dests]
        for dst, v in plan:
            sigs = []
            if self.signer is not None:
                if v != value and self.traitor is not None and not self.traitor.forges:
                    continue  # a colluder does not send a chain it knows will be caught
                # A changed value keeps the old signatures: a forgery, which loyal nodes catch.
                sigs = [*signatures, self.signer.sign(agreement.instance, v, new_path)]
            self._send(agreement, dst, ByzantineValue(agreement.instance, len(path), v, new_path, sigs), out)

    def _send(self, agreement: Agreement, dst: str, message: ByzantineValue, out: Output) -> None:
        agreement.sent += 1
        out.send(dst, message)

    # ------------------------------------------------------------------ bookkeeping

    def _open(self, instance: str, now: float, out: Output) -> Agreement:
        agreement = Agreement(instance, commander_of(instance), now)
        self.agreements[instance] = agreement
        while len(self.agreements) > _KEEP:
            self.agreements.popitem(last=False)
        self.count += 1
        out.event("agreement", instance=instance, commander=agreement.commander)
        return agreement

    def _well_formed(self, src: str, message: ByzantineValue, path: tuple[str, ...], commander: str) -> bool:
        return (
            0 < len(path) <= self.m + 1
            and path[0] == commander
            and path[-1] == src
            and message.round == len(path) - 1
            and self.node_id not in path
            and len(set(path)) == len(path)
            and all(p in self.nodes for p in path)
            and message.value in VALUES
        )

    def _final_deadline(self, agreement: Agreement) -> float:
        return agreement.t0 + (self.m + 1) * self.round_s

    def _decide(self, agreement: Agreement, now: float, out: Output) -> None:
        if self.protocol == "sm":
            agreement.decision = agreement.accepted[0] if len(agreement.accepted) == 1 else RETREAT
            agreement.missing = 0 if agreement.accepted else 1
            agreement.defaulted = len(agreement.accepted) != 1
        else:
            agreement.decision = self._om_value(agreement, (agreement.commander,))
            agreement.missing = self._expected(agreement) - len(agreement.received)
            agreement.defaulted = agreement.missing > 0
        agreement.decided_at = now
        out.event("decide", instance=agreement.instance, value=agreement.decision, missing=agreement.missing)

    # ------------------------------------------------------------------ status

    @property
    def current(self) -> Agreement | None:
        return next(reversed(self.agreements.values()), None)

    def status(self, now: float, log_tail: int = 0) -> dict[str, Any]:
        a = self.current
        detail: dict[str, Any] = {
            "mode": self.protocol,
            "faults": self.m,
            "traitor": self.traitor is not None,
            "strategy": self.traitor.strategy if self.traitor else "",
            "traitors": list(self.config.traitor_ids),
            "agreements": self.count,
        }
        if a is not None:
            detail.update({
                "instance": a.instance,
                "commander": a.commander,
                "order": a.order,
                "received": [{"path": list(p), "value": v} for p, v in a.received.items() if len(p) <= _SHOWN_PATH],
                "received_total": len(a.received),
                "decision": a.decision,
                "missing": a.missing,
                "defaulted": a.defaulted,
                "sent": a.sent,
                "discarded": a.discarded,
                "rounds": a.rounds,
                "decided_after_s": (a.decided_at - a.t0) if a.decided_at is not None else 0.0,
            })
        commander = a.commander if a else ""
        return {
            "role": COMMANDER if commander == self.node_id else LIEUTENANT,
            "term": self.count,
            "leader": commander,
            "last_heard_s": -1.0 if self.last_heard is None else now - self.last_heard,
            "byzantine": detail,
        }

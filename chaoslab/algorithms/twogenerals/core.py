"""A general of the Two Generals: sans-I/O, like every chaoslab algorithm.

The chain of messengers, for one attempt (``n1`` proposes, ``n2`` is the other general)::

    link 1  n1 -> n2   "attack at T"                           (the proposal)
    link 2  n2 -> n1   "I got link 1"                          (n1's 1st acknowledgement)
    link 3  n1 -> n2   "I got link 2"                          (n2's 1st acknowledgement)
    link 4  n2 -> n1   "I got link 3"                          (n1's 2nd acknowledgement)
    ...

Every link that arrives is acknowledged by the next one; nothing ever acknowledges the last.
A general sends each of its links with up to ``messengers`` messengers: one at once, then one
every ``resend_ms`` until the next link arrives. The chain runs until the attack time.

**The rule** (``confirmations``, default 1): at the attack time a general attacks iff it knows
the plan and has received at least that many acknowledgements of its own links. Having
received link ``k`` means ``k // 2`` acknowledgements, for either general. With 0, ``n1``
attacks whatever happens and ``n2`` as soon as the proposal reached it. Whatever the number,
the chain can break right after one general's last needed link: that one attacks alone.

Times are the driver's clock (``now``); the attack time travels as a time on that clock, so
both generals' watches agree (one machine's monotonic clock, or the simulator's virtual time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Output

if TYPE_CHECKING:
    import random

#: the config keys and their defaults (clusters/twogenerals.toml)
DEFAULTS: dict[str, Any] = {
    "attack_in_ms": 1000,  # how far ahead of the proposal the attack time lies: the deadline
    "messengers": 3,  # messengers per link, at most
    "resend_ms": 100,  # between two messengers of one link
    "confirmations": 1,  # acknowledgements a general needs to attack (the rule)
}

ATTACK, HOLD = "attack", "hold"


@dataclass(slots=True)
class Messenger:
    """One messenger carrying link ``link`` of attempt ``attempt``'s chain."""

    attempt: int
    attack_at: float  # the proposed attack time, on the generals' shared clock
    link: int  # 1: the proposal (n1 -> n2); 2: n2's acknowledgement of it; 3: n1's of that; ...


MESSAGE_TYPES = (Messenger,)


class General:
    """One of the two generals; ``nodes[0]`` proposes."""

    def __init__(self, node_id: str, nodes: list[str], config: Mapping[str, Any], rng: random.Random, durable: Any) -> None:
        if len(nodes) != 2 or node_id not in nodes:
            raise ValueError(f"the Two Generals are two nodes, got {len(nodes)}")
        self.node_id = node_id
        self.proposer = nodes[0]
        self.peer = nodes[1] if node_id == nodes[0] else nodes[0]
        cfg = {**DEFAULTS, **config}
        self.attack_in = cfg["attack_in_ms"] / 1000
        self.messengers = int(cfg["messengers"])
        self.resend = cfg["resend_ms"] / 1000
        self.needs = int(cfg["confirmations"])
        # Only the proposer's attempt counter is durable: a restarted n1 never reuses a number.
        self.attempt = int((durable or {}).get("attempt", 0))
        self.attacked = 0  # attempts this general attacked in (since it started)
        self.held = 0
        self.last_heard = -math.inf
        self._reset(None)

    def _reset(self, attack_at: float | None) -> None:
        self.attack_at = attack_at  # None: no plan known
        self.decision = ""  # "", ATTACK or HOLD
        self.highest = 0  # the highest link received
        self.link = 0  # the link this general is sending
        self.copies = 0  # messengers sent for it
        self.sent = 0  # messengers sent this attempt
        self.next_send = math.inf
        self.waiting: int | None = None  # the operator command answered at the decision

    @property
    def proposes(self) -> bool:
        return self.node_id == self.proposer

    @property
    def acks(self) -> int:
        """Acknowledgements of this general's own links received so far."""
        return self.highest // 2

    # -- inputs ---------------------------------------------------------------

    def start(self, now: float) -> Output:
        return Output()

    def command(self, request_id: int, name: str, args: dict[str, Any], now: float) -> Output:
        """``attack`` (``{"in_ms": N}`` optional): propose attacking N ms from now (default
        ``attack_in_ms``). The result comes at the attack time: this general's decision."""
        if name != ATTACK:
            raise ValueError(f"unknown command {name!r} (the generals take: attack)")
        if not self.proposes:
            raise ValueError(f"{self.node_id} does not propose; {self.proposer} does")
        if self.attack_at is not None and not self.decision:
            raise ValueError(f"attempt {self.attempt} is still under way")
        in_ms = args.get("in_ms", self.attack_in * 1000)
        if not isinstance(in_ms, (int, float)) or isinstance(in_ms, bool) or not 0 < in_ms <= 600_000:
            raise ValueError(f"in_ms must be a time above 0 ms (at most 10 minutes), got {in_ms!r}")
        self.attempt += 1
        self._reset(now + in_ms / 1000)
        self.waiting = request_id
        out = Output(persist={"attempt": self.attempt})
        out.event("propose", attempt=self.attempt, attack_in_s=in_ms / 1000, term=self.attempt)
        self._send_link(1, now, out)
        return out

    def tick(self, now: float) -> Output:
        out = Output()
        if self._due(now, out):
            return out
        if now >= self.next_send:
            self._messenger(now, out)
        return out

    def step(self, src: str, message: Any, now: float) -> Output:
        out = Output()
        if not isinstance(message, Messenger) or src != self.peer:
            return out
        self.last_heard = now
        if message.attempt > self.attempt and not self.proposes:
            if now >= message.attack_at:
                return out  # a plan that arrives after its attack time is no plan to act on
            self.attempt = message.attempt  # a new proposal: the last attempt, if undecided, is void
            self._reset(message.attack_at)
        if message.attempt != self.attempt or self._due(now, out) or self.decision:
            return out  # an old attempt's messenger, or one that came after the attack time
        if message.link <= self.highest or message.link != self.link + 1:
            return out  # a later messenger of a link already acknowledged (our current link does)
        self.highest = message.link
        self._send_link(message.link + 1, now, out)
        return out

    def next_deadline(self) -> float:
        if self.attack_at is None or self.decision:
            return math.inf
        return min(self.next_send, self.attack_at)

    # -- the chain and the rule ----------------------------------------------------

    def _send_link(self, link: int, now: float, out: Output) -> None:
        self.link, self.copies = link, 0
        self._messenger(now, out)

    def _messenger(self, now: float, out: Output) -> None:
        assert self.attack_at is not None
        out.send(self.peer, Messenger(self.attempt, self.attack_at, self.link))
        self.copies += 1
        self.sent += 1
        self.next_send = now + self.resend if self.copies < self.messengers else math.inf

    def _due(self, now: float, out: Output) -> bool:
        """At the attack time, decide by the rule (once); True when decided now or before."""
        if self.attack_at is None or now < self.attack_at:
            return False
        if self.decision:
            return True
        attack = self.acks >= self.needs
        self.decision = ATTACK if attack else HOLD
        self.next_send = math.inf
        if attack:
            self.attacked += 1
        else:
            self.held += 1
        out.event("decide", attempt=self.attempt, decision=self.decision, acks=self.acks, needs=self.needs,
                  messengers=self.sent, link=self.highest)
        if self.waiting is not None:
            out.reply(self.waiting, self.result())
            self.waiting = None
        return True

    # -- looking ---------------------------------------------------------------

    @property
    def state(self) -> str:
        if self.attack_at is None:
            return "idle"
        return {"": "waiting", ATTACK: "attacking", HOLD: "holding"}[self.decision]

    def result(self) -> dict[str, Any]:
        """This general's view of the current attempt (the ``attack`` command's result)."""
        return {"node": self.node_id, "attempt": self.attempt, "decision": self.decision, "acks": self.acks,
                "needs": self.needs, "messengers": self.sent, "link": self.highest}

    def status(self, now: float, log_tail: int = 0) -> dict[str, Any]:
        waiting = self.attack_at is not None and not self.decision
        return {
            "role": "proposer" if self.proposes else "general",
            "term": self.attempt,
            "leader": self.proposer,
            "last_heard_s": -1.0 if self.last_heard == -math.inf else now - self.last_heard,
            "twogenerals": {
                **self.result(),
                "state": self.state,
                "attack_in_s": round(self.attack_at - now, 3) if waiting else 0.0,  # type: ignore[operator]
                "attacked": self.attacked,
                "held": self.held,
            },
        }

"""The echo core: sans-I/O, like every chaoslab algorithm."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Output

if TYPE_CHECKING:
    import random


@dataclass(slots=True)
class Ping:
    boot: int  # the sender's boot counter: its term, as far as the lab is concerned
    seq: int


@dataclass(slots=True)
class Echo:
    boot: int
    seq: int


MESSAGE_TYPES = (Ping, Echo)


def _id_number(node: str) -> int:
    return int(node.lstrip("n") or 0)


class EchoNode:
    def __init__(self, node_id: str, nodes: list[str], config: Mapping[str, Any], rng: random.Random, durable: Any) -> None:
        self.node_id = node_id
        self.peers = [n for n in nodes if n != node_id]
        self.interval = config.get("interval_ms", 50) / 1000
        self.timeout = config.get("timeout_ms", 300) / 1000
        self.boot = (durable or {}).get("boot", 0) + 1
        self.seq = 0
        self.expires: dict[str, float] = {}  # peer -> when it stops counting as alive
        self.echoes: dict[str, int] = {p: 0 for p in self.peers}
        self.lead = ""
        # A random phase, so nodes do not all ping in the same instant.
        self.next_ping = rng.uniform(0, self.interval)

    def start(self, now: float) -> Output:
        out = Output(persist={"boot": self.boot})
        self.next_ping += now
        self._follow(now, out)
        return out

    def tick(self, now: float) -> Output:
        out = Output()
        if now >= self.next_ping:
            self.seq += 1
            for peer in self.peers:
                out.send(peer, Ping(self.boot, self.seq))
            self.next_ping = now + self.interval
        self._follow(now, out)
        return out

    def step(self, src: str, message: Any, now: float) -> Output:
        out = Output()
        self.expires[src] = now + self.timeout
        if isinstance(message, Ping):
            out.send(src, Echo(self.boot, message.seq))
        elif isinstance(message, Echo):
            self.echoes[src] = self.echoes.get(src, 0) + 1
        self._follow(now, out)
        return out

    def command(self, request_id: int, name: str, args: dict[str, Any], now: float) -> Output:
        """``ping``: ping every peer now (an operator's nudge); the result says which round."""
        if name != "ping":
            raise ValueError(f"unknown command {name!r} (echo takes: ping)")
        out = self.tick(max(now, self.next_ping))
        out.reply(request_id, {"node": self.node_id, "seq": self.seq, "peers": len(self.peers)})
        return out

    def next_deadline(self) -> float:
        # Wake at the next ping, and when the first peer would time out.
        return min([self.next_ping, *self.expires.values()])

    def alive(self, now: float) -> list[str]:
        return sorted((p for p, t in self.expires.items() if now < t), key=_id_number)

    def _follow(self, now: float, out: Output) -> None:
        # Forget peers gone silent, so their expiry stops being a deadline.
        self.expires = {p: t for p, t in self.expires.items() if now < t}
        lead = min([self.node_id, *self.alive(now)], key=_id_number)
        if lead != self.lead:
            self.lead = lead
            out.event("role", role=self.role, leader=lead, term=self.boot)

    @property
    def role(self) -> str:
        return "lowest" if self.lead == self.node_id else "member"

    def status(self, now: float, log_tail: int = 0) -> dict[str, Any]:
        expires = self.expires.get(self.lead)
        return {
            "role": self.role,
            "term": self.boot,
            "leader": self.lead,
            "last_heard_s": -1.0 if expires is None else now - (expires - self.timeout),
            "echo": {"alive": self.alive(now), "echoes": dict(self.echoes), "pings": self.seq},
        }

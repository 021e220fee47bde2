"""The Bully algorithm (Garcia-Molina, "Elections in a Distributed Computing System", 1982), sans-I/O.

Priorities are the order of the node ids the cluster was started with: the last id
(``n5`` of five) has the highest priority. The highest-priority live node is the
coordinator; everyone else follows it.

One step function per role, as in etcd/raft:

- **electing** (a campaign): the node sends ELECTION to every higher node and waits
  ``answer_timeout`` for an ANSWER. None came: nobody above is alive, so it takes over
  (:meth:`BullyNode._take_over`). An ANSWER came: a higher node took over the election; if
  its COORDINATOR does not follow within ``coordinator_wait``, the node starts again.
- **coordinator**: announces itself with COORDINATOR, then sends HEARTBEAT every
  ``heartbeat_ms``; a node below it that receives either follows it.
- **member**: follows its coordinator, answers every ELECTION from below (and then holds
  its own election, as in the paper), and starts an election when its coordinator has been
  silent for ``coordinator_timeout``. A node that starts (or restarts) always holds an
  election, so a node that comes back with a higher id than the coordinator takes over: it
  bullies its way back.

**Epochs.** Each coordinatorship has an epoch, a number that only grows. ``epoch`` and
``accepted`` (whom the node accepted as coordinator of that epoch; itself when it announced
it) are the durable state, persisted before any message that depends on them leaves, so a
restarted node never announces an epoch twice. Every message carries its sender's epoch;
``seen`` is the highest a node has met. A node taking over announces ``max(epoch, seen) + 1``.
A node follows a claim (COORDINATOR or HEARTBEAT) of epoch ``e`` from ``c`` only when ``c``
has a higher priority than its own and ``e > epoch``, or ``e == epoch`` and it already
accepted ``c`` in ``e``: so it accepts at most one coordinator per epoch. Otherwise it says
no (a HEARTBEAT_REPLY with ``ok`` false and its own epoch), and a coordinator that learns of
an epoch above its own holds a fresh election, which, when it is still the highest, announces
a newer epoch at once. After a partition heals, this is how the two coordinators of a split
brain become one: the higher one re-announces above both epochs and the lower one follows.

**Split brain.** Plain Bully has no quorum: on each side of a partition the highest node
there becomes coordinator. That is the algorithm, not a bug, and the lab shows it.

**Quorum variant** (``quorum = true``): taking over is a request for votes. The candidate
accepts itself for its new epoch (one vote), sends COORDINATOR, and counts each
HEARTBEAT_REPLY ``ok`` for that epoch from a distinct node as one vote (a node replies ``ok``
only after durably accepting the candidate for that epoch, and it accepts one coordinator
per epoch). It becomes coordinator with votes from a majority of the whole cluster
(``len(nodes) // 2 + 1``, itself included, crashed nodes counted as not voting); without them
within ``coordinator_wait`` it starts again at a higher epoch. A coordinator that has not had
a heartbeat acknowledged by a majority (itself included) within ``coordinator_timeout`` steps
down. Two majorities share a node, so two coordinators never hold the same epoch; on a
minority side nobody leads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chaoslab.algorithms.base import Output
from chaoslab.algorithms.bully.config import BullyConfig, parse_config
from chaoslab.algorithms.bully.messages import (
    BullyAnswer,
    BullyCoordinator,
    BullyElection,
    BullyHeartbeat,
    BullyHeartbeatReply,
)

if TYPE_CHECKING:
    import random

__all__ = ["COORDINATOR", "ELECTING", "MEMBER", "BullyNode"]

COORDINATOR = "coordinator"
ELECTING = "electing"
MEMBER = "member"

# What an electing node is waiting for.
WAIT_ANSWER = "answer"  # an ANSWER from a higher node
WAIT_COORDINATOR = "coordinator"  # a COORDINATOR, after an ANSWER
WAIT_VOTES = "votes"  # quorum variant: a majority of votes for its own epoch

_INF = float("inf")


class BullyNode:
    """One node's Bully state machine (see the module docstring)."""

    def __init__(
        self,
        node_id: str,
        nodes: list[str],
        config: Mapping[str, Any] | BullyConfig,
        rng: random.Random,
        durable: Any,
    ) -> None:
        if node_id not in nodes:
            raise ValueError(f"{node_id} is not one of {nodes}")
        self.node_id = node_id
        self.cfg = config if isinstance(config, BullyConfig) else parse_config(config)
        self.rng = rng
        self.nodes = list(nodes)
        self.peers = [n for n in nodes if n != node_id]
        self.rank = {n: i + 1 for i, n in enumerate(nodes)}  # priority: later ids are higher
        self.priority = self.rank[node_id]
        self.higher = [n for n in nodes if self.rank[n] > self.priority]
        self.majority = len(nodes) // 2 + 1

        durable = durable or {}
        self.epoch: int = int(durable.get("epoch", 0))
        self.accepted: str = str(durable.get("accepted", ""))
        self.seen = self.epoch

        self.role = ELECTING
        self.coordinator = ""
        self.waiting = ""  # WAIT_* while electing
        self.deadline = _INF  # when what it is waiting for is late
        self.last_heard: float | None = None  # from its coordinator
        self.next_heartbeat = _INF
        self.coordinator_since = 0.0
        self.acks: dict[str, float] = {}  # coordinator: peer -> last ok reply in this epoch
        self.votes: set[str] = set()  # quorum candidate: who accepted it in this epoch
        self.elections_started = 0

    # ------------------------------------------------------------------ the contract

    def start(self, now: float) -> Output:
        out = Output()
        self._elect(now, "boot", out)
        return out

    def tick(self, now: float) -> Output:
        out = Output()
        if self.role == COORDINATOR:
            self._tick_coordinator(now, out)
        elif self.role == MEMBER:
            self._tick_member(now, out)
        else:
            self._tick_electing(now, out)
        return out

    def step(self, src: str, message: Any, now: float) -> Output:
        out = Output()
        if src not in self.rank or src == self.node_id:
            return out
        self.seen = max(self.seen, message.epoch)
        if self.role == COORDINATOR:
            self._step_coordinator(src, message, now, out)
        elif self.role == MEMBER:
            self._step_member(src, message, now, out)
        else:
            self._step_electing(src, message, now, out)
        # Whoever announced an epoch and then meets a higher one asks again who leads.
        if (self.role == COORDINATOR or self.waiting == WAIT_VOTES) and self.seen > self.epoch:
            self._elect(now, f"epoch {self.seen} seen", out)
        return out

    def next_deadline(self) -> float:
        if self.role == COORDINATOR:
            return self.next_heartbeat
        if self.role == MEMBER:
            return _INF if self.last_heard is None else self.last_heard + self.cfg.coordinator_timeout
        return self.deadline

    def status(self, now: float, log_tail: int = 0) -> dict[str, Any]:
        if self.role == COORDINATOR:
            heard = 0.0
        elif self.last_heard is None or not self.coordinator:
            heard = -1.0
        else:
            heard = max(0.0, now - self.last_heard)
        return {
            "role": self.role,
            "term": self.epoch,
            "leader": self.coordinator,
            "last_heard_s": heard,
            "bully": {
                "coordinator": self.coordinator,
                "priority": self.priority,
                "electing": self.role == ELECTING,
                "elections_started": self.elections_started,
                "waiting": self.waiting,
                "votes": len(self.votes) if self.waiting == WAIT_VOTES else 0,
                "quorum": self.cfg.quorum,
            },
        }

    # ------------------------------------------------------------------ coordinator

    def _tick_coordinator(self, now: float, out: Output) -> None:
        if now < self.next_heartbeat:
            return
        if self.cfg.quorum and now - self.coordinator_since >= self.cfg.coordinator_timeout:
            recent = [p for p, t in self.acks.items() if now - t < self.cfg.coordinator_timeout]
            if len(recent) + 1 < self.majority:
                out.event("lost_quorum", term=self.epoch, heard=len(recent) + 1, majority=self.majority)
                self._elect(now, "lost its majority", out)
                return
        for peer in self.peers:
            out.send(peer, BullyHeartbeat(self.epoch))
        self.next_heartbeat = now + self.cfg.heartbeat

    def _step_coordinator(self, src: str, message: Any, now: float, out: Output) -> None:
        if isinstance(message, BullyElection):
            out.send(src, BullyAnswer(self.epoch))
            out.send(src, BullyCoordinator(self.epoch, self.node_id))  # it lost us: here we are
        elif isinstance(message, (BullyCoordinator, BullyHeartbeat)):
            self._claim(src, message, now, out)
        elif isinstance(message, BullyHeartbeatReply):
            if message.ok and message.epoch == self.epoch:
                self.acks[src] = now
            elif not message.ok and message.epoch == self.epoch and self.rank[src] < self.priority:
                # A node below follows someone else in our very epoch (two sides of a partition
                # picked the same number): only a newer epoch can settle it.
                self.seen = max(self.seen, self.epoch + 1)

    # ------------------------------------------------------------------ member

    def _tick_member(self, now: float, out: Output) -> None:
        if self.last_heard is not None and now >= self.last_heard + self.cfg.coordinator_timeout:
            self._elect(now, f"coordinator {self.coordinator} silent", out)

    def _step_member(self, src: str, message: Any, now: float, out: Output) -> None:
        if isinstance(message, BullyElection):
            if self.rank[src] < self.priority:
                out.send(src, BullyAnswer(self.epoch))
                self._elect(now, f"election from {src}", out)
        elif isinstance(message, (BullyCoordinator, BullyHeartbeat)):
            self._claim(src, message, now, out)

    # ------------------------------------------------------------------ electing

    def _tick_electing(self, now: float, out: Output) -> None:
        if now < self.deadline:
            return
        if self.waiting == WAIT_ANSWER:
            self._take_over(now, out)
        elif self.waiting == WAIT_COORDINATOR:
            self._elect(now, "answer but no coordinator", out)
        elif self.waiting == WAIT_VOTES:
            self._elect(now, f"no majority in epoch {self.epoch}", out)

    def _step_electing(self, src: str, message: Any, now: float, out: Output) -> None:
        if isinstance(message, BullyElection):
            if self.rank[src] < self.priority:
                out.send(src, BullyAnswer(self.epoch))  # already holding our own election
        elif isinstance(message, BullyAnswer):
            if self.rank[src] > self.priority and self.waiting in (WAIT_ANSWER, WAIT_VOTES):
                self.waiting = WAIT_COORDINATOR
                self.votes = set()
                self.deadline = now + self.cfg.coordinator_wait
        elif isinstance(message, (BullyCoordinator, BullyHeartbeat)):
            self._claim(src, message, now, out)
        elif isinstance(message, BullyHeartbeatReply):
            if self.waiting == WAIT_VOTES and message.ok and message.epoch == self.epoch:
                self.votes.add(src)
                out.event("vote", term=self.epoch, voter=src, votes=len(self.votes))
                if len(self.votes) >= self.majority:
                    self._lead(now, out)

    # ------------------------------------------------------------------ shared rules

    def _claim(self, src: str, message: BullyCoordinator | BullyHeartbeat, now: float, out: Output) -> None:
        """``src`` says it coordinates ``message.epoch``: follow it, or say no."""
        epoch = message.epoch
        if isinstance(message, BullyCoordinator) and message.coordinator != src:
            return
        if self.rank[src] < self.priority:
            out.send(src, BullyHeartbeatReply(self.epoch, False))
            if self.role == COORDINATOR:
                if self.epoch > epoch:
                    out.send(src, BullyCoordinator(self.epoch, self.node_id))  # it will follow us
                else:
                    self._elect(now, f"claim of epoch {epoch} from lower {src}", out)
            # A member follows a node above itself, which hears the same claim and settles it.
            return
        if epoch > self.epoch or (epoch == self.epoch and self.accepted == src):
            self._follow(src, epoch, now, out)
            out.send(src, BullyHeartbeatReply(epoch, True))
        else:
            out.send(src, BullyHeartbeatReply(self.epoch, False))

    def _follow(self, coordinator: str, epoch: int, now: float, out: Output) -> None:
        if (epoch, coordinator) != (self.epoch, self.accepted):
            if epoch != self.epoch:
                out.event("term", term=epoch)
            self.epoch, self.accepted = epoch, coordinator
            out.persist = self._durable()
        self.last_heard = now
        self.waiting, self.deadline, self.votes, self.acks = "", _INF, set(), {}
        self.next_heartbeat = _INF
        self._set_role(MEMBER, out)
        self._set_coordinator(coordinator, out)

    def _elect(self, now: float, reason: str, out: Output) -> None:
        """Hold an election: ELECTION to every higher node, or take over if there is none."""
        self.elections_started += 1
        self.votes, self.acks = set(), {}
        self.next_heartbeat = _INF
        self._set_role(ELECTING, out)
        self._set_coordinator("", out)
        out.event("election", reason=reason, term=self.epoch)
        if not self.higher:
            self._take_over(now, out)
            return
        for node in self.higher:
            out.send(node, BullyElection(self.epoch))
        self.waiting = WAIT_ANSWER
        self.deadline = now + self.cfg.answer_timeout

    def _take_over(self, now: float, out: Output) -> None:
        """Nobody above answered: announce a new epoch (with quorum: ask for votes in it)."""
        self.epoch = max(self.epoch, self.seen) + 1
        self.seen = self.epoch
        self.accepted = self.node_id
        out.persist = self._durable()  # before the announcement leaves: an epoch is never reused
        out.event("term", term=self.epoch)
        for peer in self.peers:
            out.send(peer, BullyCoordinator(self.epoch, self.node_id))
        if not self.cfg.quorum:
            self._lead(now, out)
            return
        self.waiting = WAIT_VOTES
        self.votes = {self.node_id}
        # A little jitter, so candidates that keep failing on one side do not retry in step.
        self.deadline = now + self.cfg.coordinator_wait * (1.0 + 0.25 * self.rng.random())
        if len(self.votes) >= self.majority:
            self._lead(now, out)

    def _lead(self, now: float, out: Output) -> None:
        self.waiting, self.deadline, self.votes, self.acks = "", _INF, set(), {}
        self.coordinator_since = now
        self.last_heard = now
        self.next_heartbeat = now + self.cfg.heartbeat
        self._set_role(COORDINATOR, out)
        self._set_coordinator(self.node_id, out)

    def _set_role(self, role: str, out: Output) -> None:
        if role != self.role:
            self.role = role
            out.event("role", role=role, term=self.epoch)

    def _set_coordinator(self, coordinator: str, out: Output) -> None:
        if coordinator != self.coordinator:
            self.coordinator = coordinator
            out.event("leader", leader=coordinator, term=self.epoch)

    def _durable(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "accepted": self.accepted}

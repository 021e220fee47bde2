"""A run's timeline: actions due at absolute times after t0, run in order on one thread.

Every action is due at a time fixed in advance (a step's ``at``, an undo's
``until``, the nemesis's k-th tick), never "so long after the previous one",
so a slow action makes what follows late but the lateness does not add up.
Steps form their own lane, which a ``wait_for`` gate holds back until its
condition holds; undos and the nemesis keep their times meanwhile (a step
waiting for a leader must not keep a partition from healing).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Clock", "GateTimeout", "MonotonicClock", "Timeline"]

POLL = 0.1  # how often a gate's condition is asked
TICK = 0.2  # the longest sleep between two progress reports


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the run's t0."""

    def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """Real time: seconds since t0 on the monotonic clock; ``t0_ns`` is the wall time then (``time_ns``)."""

    def __init__(self) -> None:
        self.t0_ns = time.time_ns()
        self._start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._start

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    @property
    def started_at(self) -> float:
        """t0 in unix seconds (report.json's ``started_at``)."""
        return self.t0_ns / 1e9


class GateTimeout(Exception):
    """A ``wait_for`` condition did not hold in time: the run cannot go on as written."""


@dataclass(order=True)
class _Entry:
    when: float
    seq: int
    label: str = field(compare=False)
    action: Callable[[], None] = field(compare=False)
    is_step: bool = field(default=False, compare=False)


@dataclass
class _Gate:
    what: str
    holds: Callable[[], bool]
    timeout: float
    deadline: float
    next_poll: float = 0.0


class Timeline:
    """Actions due at times since t0 (see the module docstring)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._steps: list[_Entry] = []
        self._others: list[_Entry] = []
        self._seq = itertools.count()
        self._gate: _Gate | None = None
        self.current = ""  # the label of the last step run, for progress
        self.skipped: list[str] = []  # labels of steps still waiting when the run ended

    def step(self, when: float, label: str, action: Callable[[], None]) -> None:
        """A step: held back while a gate is closed."""
        heapq.heappush(self._steps, _Entry(when, next(self._seq), label, action, is_step=True))

    def at(self, when: float, label: str, action: Callable[[], None]) -> None:
        """An undo or a nemesis tick: runs at its time whatever the gate."""
        heapq.heappush(self._others, _Entry(when, next(self._seq), label, action))

    def gate(self, what: str, holds: Callable[[], bool], timeout: float) -> None:
        """Hold the steps back until ``holds()``; :class:`GateTimeout` after ``timeout`` seconds."""
        self._gate = _Gate(what, holds, timeout, self.clock.now() + timeout)

    @property
    def waiting_for(self) -> str:
        return self._gate.what if self._gate else ""

    def _check_gate(self, now: float) -> None:
        gate = self._gate
        if gate is None or now < gate.next_poll:
            return
        if gate.holds():
            self._gate = None
        elif now >= gate.deadline:
            raise GateTimeout(f"wait_for {gate.what}: not within {gate.timeout:g}s")
        else:
            gate.next_poll = now + POLL

    def _due(self, now: float) -> _Entry | None:
        """The next action due now: undos and ticks before steps at the same time."""
        if self._others and self._others[0].when <= now:
            if not self._steps or self._gate or self._others[0].when <= self._steps[0].when:
                return heapq.heappop(self._others)
        if self._steps and self._steps[0].when <= now and self._gate is None:
            return heapq.heappop(self._steps)
        return None

    def run_until(self, end: float, on_tick: Callable[[], None] | None = None) -> None:
        """Run what falls due until ``end``; what is still pending then is dropped (steps are
        remembered in :attr:`skipped`). A gate still closed at ``end`` is waited for (until it
        opens, and the steps it held run, or its timeout). ``on_tick`` is called between actions
        and at least every :data:`TICK` seconds."""
        while True:
            now = self.clock.now()
            self._check_gate(now)
            entry = self._due(min(now, end))  # past the end (a slow action overran it), only what was due by then
            if entry is not None:
                if entry.is_step:
                    self.current = entry.label
                entry.action()
                if on_tick:
                    on_tick()
                continue
            if now >= end and self._gate is None:  # a wait_for still waiting holds the end back too
                break
            # Past the end (a gate holding it) nothing pending is runnable but the gate's steps.
            wake = [now + TICK, end, self._gate.next_poll if self._gate else end]
            if self._others:
                wake.append(self._others[0].when)
            if self._steps and self._gate is None:
                wake.append(self._steps[0].when)
            self.clock.sleep(min((w for w in wake if w > now), default=now + TICK) - now)
            if on_tick:
                on_tick()
        self.skipped = [e.label for e in sorted(self._steps)]
        self._steps.clear()
        self._others.clear()

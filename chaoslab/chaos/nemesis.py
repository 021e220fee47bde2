"""A scripted run's random nemesis: one fault from ``[nemesis] kinds`` every ``interval``, held for ``hold``.

The choice is the simulator's (:mod:`chaoslab.net.nemesis`, drawn from
``derive_rng(seed, "nemesis")``); acting on it goes through the run's
:class:`~chaoslab.chaos.steps.Faults`, so nemesis faults are recorded (source
``"nemesis"``) and undone like a step's. At most a minority of the nodes is
down (crashed or paused, by the nemesis or a step) at any time, so the
nemesis alone never takes a majority-based cluster's quorum away for good.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from chaoslab.chaos.scenario import NemesisSection
from chaoslab.chaos.schedule import Timeline
from chaoslab.chaos.steps import Applied, Faults, StepFailed
from chaoslab.net.nemesis import choose, random_groups
from chaoslab.net.parse import format_duration, format_percent
from chaoslab.seeds import derive_rng

__all__ = ["Nemesis", "minority"]


def minority(n: int) -> int:
    """The most nodes that may be down at once and leave a majority up."""
    return (n - 1) // 2


class Nemesis:
    """Schedules random faults on a :class:`Timeline` (see the module docstring)."""

    def __init__(self, faults: Faults, section: NemesisSection, seed: int,
                 on_error: Callable[[str, str], None] | None = None) -> None:
        self.faults = faults
        self.section = section
        self.rng = derive_rng(section.seed if section.seed is not None else seed, "nemesis")
        self.max_down = minority(len(faults.node_ids))
        self.on_error = on_error or (lambda label, error: None)
        self.actions = 0

    def schedule(self, timeline: Timeline, end: float) -> None:
        """Tick at ``start``, ``start + interval``, ... before ``stop`` (or ``end``)."""
        stop = end if self.section.stop is None else min(self.section.stop, end)
        self._tick(timeline, 0, stop)

    def _tick(self, timeline: Timeline, k: int, stop: float) -> None:
        when = self.section.start + k * self.section.interval
        if when >= stop:
            return

        def act() -> None:
            self.act(timeline)
            self._tick(timeline, k + 1, stop)

        timeline.at(when, f"nemesis #{k + 1}", act)

    def act(self, timeline: Timeline | None = None) -> Applied | None:
        """Pick a fault and start it; its undo goes on ``timeline`` ``hold`` seconds later."""
        nodes = self.faults.node_ids
        kind = choose(self.rng, self.section.kinds, nodes, self.faults.down_nodes(), self.max_down)
        if kind is None:
            return None
        label, start = self._start(kind)
        try:
            applied = start()
        except StepFailed as exc:
            self.on_error(label, str(exc))
            return None
        self.actions += 1
        if timeline is not None:
            timeline.at(self.faults.clock() + self.section.hold, f"undo {label}", lambda: self._undo(applied))
        return applied

    def _undo(self, applied: Applied) -> None:
        try:
            self.faults.undo(applied)
        except StepFailed as exc:
            self.on_error(f"undo {applied.record.label}", str(exc))

    def _start(self, kind: str) -> tuple[str, Callable[[], Applied]]:
        """The label of the fault ``kind`` drawn now, and how to start it (draws happen here, in
        a fixed order, so a seed replays the same choices whatever the cluster answers)."""
        f, rng, nodes = self.faults, self.rng, self.faults.node_ids
        common: dict[str, Any] = {"source": "nemesis"}
        if kind == "partition":
            spec = " ".join(",".join(g) for g in random_groups(rng, nodes))
            label = f"partition {spec}"
            return label, lambda: f.partition(spec, label=label, **common)
        if kind == "isolate":
            spec = f"isolate:{rng.choice(nodes)}"
            label = f"partition {spec}"
            return label, lambda: f.partition(spec, label=label, **common)
        if kind in ("crash", "pause"):
            pick = random.Random(rng.getrandbits(64))  # its own stream: which nodes are up is the cluster's say

            def take_down() -> Applied:
                applied = getattr(f, kind)("random", rng=pick, label=kind, **common)
                applied.record.label = f"{kind} {' '.join(applied.record.nodes)}"
                return applied

            return f"{kind} random", take_down
        if kind == "delay":
            seconds = round(0.02 + 0.18 * rng.random(), 3)
            label = f"delay {format_duration(seconds)}"
            return label, lambda: f.link("delay", seconds, {"jitter": round(seconds / 4, 3)}, label=label, **common)
        p = round(0.1 + 0.4 * rng.random(), 2)  # drop, duplicate, reorder: 10-50% of messages
        label = f"{kind} {format_percent(p)}"
        return label, lambda: f.link(kind, p, label=label, **common)

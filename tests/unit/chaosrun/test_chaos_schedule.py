"""The run's timeline: absolute due times, steps held by a wait_for gate, undos never held."""

from __future__ import annotations

import pytest

from chaoslab.chaos.schedule import TICK, GateTimeout, Timeline


def recorder(clock, log, name, cost=0.0):
    def action():
        log.append((name, round(clock.now(), 6)))
        clock.advance(cost)
    return action


def plan(clock, log, *entries):
    """A timeline of ("step"|"at", when, name[, cost]) entries, each logging (name, time) when run."""
    tl = Timeline(clock)
    for lane, when, name, *cost in entries:
        getattr(tl, lane)(when, name, recorder(clock, log, name, *cost))
    return tl


class TestTimeline:
    def test_actions_run_at_their_times_in_order(self, clock):
        """Steps added out of order run in time order, each at its own time."""
        log = []
        plan(clock, log, ("step", 3.0, "c"), ("step", 1.0, "a"), ("step", 2.0, "b")).run_until(5.0)
        assert log == [("a", 1.0), ("b", 2.0), ("c", 3.0)]
        assert clock.now() == pytest.approx(5.0)

    def test_a_slow_action_does_not_shift_later_ones(self, clock):
        """Due times are absolute: a step that takes 1.5s makes the next late, not every one after."""
        log = []
        plan(clock, log, ("step", 1.0, "slow", 1.5), ("step", 2.0, "late"), ("step", 4.0, "on time")).run_until(5.0)
        assert log == [("slow", 1.0), ("late", 2.5), ("on time", 4.0)]

    def test_undo_before_a_step_due_at_the_same_time(self, clock):
        """An undo due at t runs before a step at t (a step then starts on a healed cluster)."""
        log = []
        plan(clock, log, ("step", 2.0, "step"), ("at", 2.0, "undo")).run_until(3.0)
        assert [name for name, _ in log] == ["undo", "step"]

    def test_actions_may_schedule_more(self, clock):
        """An action scheduling another (a step its undo) sees it run at its time."""
        log = []
        tl = Timeline(clock)
        tl.step(1.0, "crash", lambda: (log.append(("crash", clock.now())), tl.at(3.0, "restart", recorder(clock, log, "restart"))))
        tl.run_until(4.0)
        assert log == [("crash", 1.0), ("restart", 3.0)]

    def test_pending_steps_after_the_end_are_skipped(self, clock):
        """What is due after the end is dropped; the steps among it are remembered."""
        log = []
        tl = plan(clock, log, ("step", 1.0, "in"), ("step", 9.0, "out"), ("at", 8.0, "undo"))
        tl.run_until(5.0)
        assert log == [("in", 1.0)]
        assert tl.skipped == ["out"]
        assert tl.current == "in"

    def test_an_action_overrunning_the_end_runs_only_what_was_due_by_then(self, clock):
        """A step that runs past the end: what was due by the end still runs, nothing due after it."""
        log = []
        tl = plan(clock, log, ("step", 1.0, "slow", 5.0), ("at", 2.0, "due"), ("step", 4.0, "after the end"))
        tl.run_until(3.0)
        assert log == [("slow", 1.0), ("due", 6.0)] and tl.skipped == ["after the end"]

    def test_ticks_at_least_every_tick(self, clock):
        """Progress is reported between actions and at least every TICK seconds."""
        ticks = []
        tl = Timeline(clock)
        tl.run_until(2.0, on_tick=lambda: ticks.append(clock.now()))
        assert max(clock.sleeps) <= TICK + 1e-9
        assert len(ticks) >= 2.0 / TICK


def gated(clock, ready_at, timeout):
    """A timeline whose step at 1.0 waits (up to ``timeout``) for a condition that comes true at ``ready_at``."""
    ready = []
    tl = Timeline(clock)
    tl.step(1.0, "wait", lambda: tl.gate("leader", lambda: bool(ready), timeout=timeout))
    clock.hooks.append((ready_at, lambda: ready.append(True)))
    return tl


class TestGate:
    def test_a_gate_holds_steps_but_not_undos(self, clock):
        """While wait_for waits, later steps wait too; undos and nemesis ticks keep their times."""
        log = []
        tl = gated(clock, ready_at=4.0, timeout=10.0)
        tl.step(2.0, "next step", recorder(clock, log, "next step"))
        tl.at(3.0, "undo", recorder(clock, log, "undo"))
        tl.run_until(6.0)
        assert log[0] == ("undo", 3.0)
        assert log[1][0] == "next step" and 4.0 <= log[1][1] <= 4.2  # polled every 0.1s
        assert tl.waiting_for == ""

    def test_a_gate_that_never_opens_ends_the_run(self, clock):
        """wait_for past its timeout raises GateTimeout, naming what it waited for."""
        tl = gated(clock, ready_at=99.0, timeout=2.0)
        tl.step(2.0, "never", lambda: pytest.fail("a held step ran"))
        with pytest.raises(GateTimeout, match="leader.*2s"):
            tl.run_until(10.0)
        assert 3.0 <= clock.now() <= 3.2

    def test_an_open_gate_does_not_hold(self, clock):
        """A condition that already holds lets the next step run at its own time."""
        log = []
        tl = Timeline(clock)
        tl.step(1.0, "wait", lambda: tl.gate("leader", lambda: True, timeout=1.0))
        tl.step(1.5, "next", recorder(clock, log, "next"))
        tl.run_until(2.0)
        assert log == [("next", 1.5)]

    def test_a_gate_closed_at_the_end_is_waited_for(self, clock):
        """The last step a wait_for: the end waits for it, and steps it held (due before the end) then run."""
        log = []
        tl = gated(clock, ready_at=3.0, timeout=5.0)
        tl.step(1.5, "held", recorder(clock, log, "held"))
        tl.run_until(2.0)
        assert [name for name, _ in log] == ["held"] and 3.0 <= log[0][1] <= 3.2

"""The run's timeline: absolute due times, steps held by a wait_for gate, undos never held."""

from __future__ import annotations

import pytest

from chaoslab.chaos.schedule import TICK, GateTimeout, Timeline


def recorder(clock, log, name, cost=0.0):
    def action():
        log.append((name, round(clock.now(), 6)))
        clock.advance(cost)
    return action


class TestTimeline:
    def test_actions_run_at_their_times_in_order(self, clock):
        """Steps added out of order run in time order, each at its own time."""
        log = []
        tl = Timeline(clock)
        tl.step(3.0, "c", recorder(clock, log, "c"))
        tl.step(1.0, "a", recorder(clock, log, "a"))
        tl.step(2.0, "b", recorder(clock, log, "b"))
        tl.run_until(5.0)
        assert log == [("a", 1.0), ("b", 2.0), ("c", 3.0)]
        assert clock.now() == pytest.approx(5.0)

    def test_a_slow_action_does_not_shift_later_ones(self, clock):
        """Due times are absolute: a step that takes 1.5s makes the next late, not every one after."""
        log = []
        tl = Timeline(clock)
        tl.step(1.0, "slow", recorder(clock, log, "slow", cost=1.5))
        tl.step(2.0, "late", recorder(clock, log, "late"))
        tl.step(4.0, "on time", recorder(clock, log, "on time"))
        tl.run_until(5.0)
        assert log == [("slow", 1.0), ("late", 2.5), ("on time", 4.0)]

    def test_undo_before_a_step_due_at_the_same_time(self, clock):
        """An undo due at t runs before a step at t (a step then starts on a healed cluster)."""
        log = []
        tl = Timeline(clock)
        tl.step(2.0, "step", recorder(clock, log, "step"))
        tl.at(2.0, "undo", recorder(clock, log, "undo"))
        tl.run_until(3.0)
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
        tl = Timeline(clock)
        tl.step(1.0, "in", recorder(clock, log, "in"))
        tl.step(9.0, "out", recorder(clock, log, "out"))
        tl.at(8.0, "undo", recorder(clock, log, "undo"))
        tl.run_until(5.0)
        assert log == [("in", 1.0)]
        assert tl.skipped == ["out"]
        assert tl.current == "in"

    def test_ticks_at_least_every_tick(self, clock):
        """Progress is reported between actions and at least every TICK seconds."""
        ticks = []
        tl = Timeline(clock)
        tl.run_until(2.0, on_tick=lambda: ticks.append(clock.now()))
        assert max(clock.sleeps) <= TICK + 1e-9
        assert len(ticks) >= 2.0 / TICK


class TestGate:
    def test_a_gate_holds_steps_but_not_undos(self, clock):
        """While wait_for waits, later steps wait too; undos and nemesis ticks keep their times."""
        log = []
        ready = []
        tl = Timeline(clock)
        tl.step(1.0, "wait", lambda: tl.gate("leader", lambda: bool(ready), timeout=10.0))
        tl.step(2.0, "next step", recorder(clock, log, "next step"))
        tl.at(3.0, "undo", recorder(clock, log, "undo"))
        clock.hooks.append((4.0, lambda: ready.append(True)))
        tl.run_until(6.0)
        assert log[0] == ("undo", 3.0)
        assert log[1][0] == "next step" and 4.0 <= log[1][1] <= 4.2  # polled every 0.1s
        assert tl.waiting_for == ""

    def test_a_gate_that_never_opens_ends_the_run(self, clock):
        """wait_for past its timeout raises GateTimeout, naming what it waited for."""
        tl = Timeline(clock)
        tl.step(1.0, "wait", lambda: tl.gate("leader", lambda: False, timeout=2.0))
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

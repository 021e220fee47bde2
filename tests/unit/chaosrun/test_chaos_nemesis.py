"""The run's nemesis on a fake cluster: seeded, held then undone, never a majority down."""

from __future__ import annotations

import pytest

from chaoslab.chaos.nemesis import Nemesis, minority
from chaoslab.chaos.scenario import NEMESIS_KINDS, NemesisSection
from chaoslab.chaos.schedule import Timeline
from chaoslab.chaos.steps import Faults


def run_nemesis(cluster, clock, section, seed=3, end=30.0, watch=None):
    faults = Faults(cluster, clock.now)
    nemesis = Nemesis(faults, section, seed)
    timeline = Timeline(clock)
    nemesis.schedule(timeline, end)
    timeline.run_until(end, on_tick=watch)
    return faults, nemesis


class TestNemesis:
    @pytest.mark.parametrize("n", [3, 4, 5, 7])
    def test_never_more_than_a_minority_down(self, make_cluster, clock, n):
        """Crashes and pauses held longer than the interval overlap, yet at most (n-1)//2 nodes are ever down."""
        cluster = make_cluster(n=n)
        seen = []

        def watch():
            seen.append(sum(s != "up" for s in cluster.states.values()))

        faults, nemesis = run_nemesis(cluster, clock, NemesisSection(kinds=("crash", "pause"), interval=0.5, hold=3.0),
                                      watch=watch)
        assert max(seen) == minority(n)
        assert nemesis.actions >= 10  # it keeps acting as nodes come back

    def test_counts_nodes_a_step_took_down(self, make_cluster, clock):
        """A node down by a step's fault counts against the cap too."""
        cluster = make_cluster(n=3)
        faults = Faults(cluster, clock.now)
        faults.crash("n1", source="step", label="crash n1")
        nemesis = Nemesis(faults, NemesisSection(kinds=("crash", "pause")), seed=1)
        assert nemesis.act() is None and cluster.states == {"n1": "crashed", "n2": "up", "n3": "up"}

    def test_held_for_hold_then_undone(self, cluster, clock):
        """Each fault starts on an interval tick, ends `hold` later, and is recorded as the nemesis's."""
        faults, nemesis = run_nemesis(cluster, clock, NemesisSection(kinds=NEMESIS_KINDS, interval=2.0, hold=1.0,
                                                                    start=1.0), end=11.5)
        assert len(faults.records) == nemesis.actions == 6
        assert [r.start for r in faults.records] == [1.0, 3.0, 5.0, 7.0, 9.0, 11.0]
        for r in faults.records[:-1]:
            assert r.source == "nemesis" and r.end - r.start == pytest.approx(1.0, abs=0.21)
        assert faults.records[-1].end is None  # its undo was due after the end: the final heal lifts it
        assert cluster.rule_kinds() == [] or faults.records[-1].kind not in ("crash", "pause")

    def test_same_seed_same_faults(self, make_cluster, clock):
        """The seed names the schedule: same seed, same labels and nodes; another seed, another schedule."""
        section = NemesisSection(kinds=NEMESIS_KINDS, interval=1.0, hold=0.5)

        def schedule(seed):
            from chaoslab.chaos.schedule import Timeline as TL
            c = make_cluster()
            clk = type(clock)()
            faults = Faults(c, clk.now)
            nemesis = Nemesis(faults, section, seed)
            tl = TL(clk)
            nemesis.schedule(tl, 20.0)
            tl.run_until(20.0)
            return [(r.label, tuple(r.nodes)) for r in faults.records]

        assert schedule(5) == schedule(5)
        assert schedule(5) != schedule(6)
        assert {label.split()[0] for label, _ in schedule(5)} >= {"partition", "crash"}

    def test_section_seed_overrides_the_run_seed(self, cluster, clock):
        a = Nemesis(Faults(cluster, clock.now), NemesisSection(kinds=("crash",), seed=4), seed=1)
        b = Nemesis(Faults(cluster, clock.now), NemesisSection(kinds=("crash",), seed=4), seed=2)
        assert a.rng.random() == b.rng.random()

    def test_stop_ends_the_ticks(self, cluster, clock):
        faults, nemesis = run_nemesis(cluster, clock, NemesisSection(kinds=("drop",), interval=1.0, hold=0.5, stop=3.0),
                                      end=10.0)
        assert [r.start for r in faults.records] == [0.0, 1.0, 2.0]

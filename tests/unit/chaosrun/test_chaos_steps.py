"""Steps on a live cluster (a fake one here): targets resolved when the step runs, faults
recorded, and each undone exactly (its own rules, its own nodes)."""

from __future__ import annotations

import pytest

from chaoslab.chaos.scenario import Step
from chaoslab.chaos.steps import Faults, StepFailed, apply_step, step_label


@pytest.fixture
def faults(cluster, clock):
    return Faults(cluster, clock.now)


def rec(applied):
    return applied.record.to_dict()


class TestProcessFaults:
    def test_crash_leader_resolves_at_run_time_and_until_restarts_it(self, cluster, clock, faults):
        """`crash leader` crashes whoever leads when it runs; its undo restarts that node only."""
        cluster.leader_id = "n3"
        clock.advance(2.0)
        applied = apply_step(Step(at=2.0, action="crash", target="leader", until=4.0), 0, faults, seed=1)
        assert cluster.states["n3"] == "crashed"
        assert rec(applied) == {"label": "crash leader", "kind": "crash", "start": 2.0, "end": None,
                                "nodes": ["n3"], "source": "step", "name": ""}
        cluster.crash("n5")  # someone else's crash: the undo must leave it alone
        clock.advance(2.0)
        faults.undo(applied)
        assert cluster.states["n3"] == "up" and cluster.states["n5"] == "crashed"
        assert applied.record.end == 4.0

    def test_no_leader_fails_the_step_clearly(self, make_cluster, clock):
        """Without a leader in time, a `leader` target fails the step (and nothing is recorded)."""
        faults = Faults(make_cluster(leader=None), clock.now)
        with pytest.raises(StepFailed, match="no leader within 5s"):
            apply_step(Step(at=0, action="crash", target="leader"), 0, faults, seed=1)
        assert faults.records == []

    def test_a_node_already_down_fails_the_step(self, cluster, faults):
        """Crashing a crashed node is a StepFailed with the cluster's reason, not a crash of the run."""
        cluster.crash("n2")
        with pytest.raises(StepFailed, match="n2 is crashed"):
            apply_step(Step(at=0, action="crash", target="n2"), 0, faults, seed=1)
        assert faults.records == []

    def test_random_is_seeded_and_picks_among_nodes_up(self, make_cluster, clock):
        """`crash random` picks from the nodes that are up, the same one for the same seed and step."""
        picks = set()
        for _ in range(3):
            c = make_cluster()
            c.crash("n1", "n2")
            applied = apply_step(Step(at=0, action="crash", target="random"), 4, Faults(c, clock.now), seed=9)
            picks.add(tuple(applied.record.nodes))
        assert len(picks) == 1 and picks.pop()[0] in ("n3", "n4", "n5")
        others = {tuple(apply_step(Step(at=0, action="crash", target="random"), i, Faults(make_cluster(), clock.now),
                                   seed=9).record.nodes) for i in range(12)}
        assert len(others) > 1  # another step index, another draw

    def test_several_targets_and_all(self, cluster, faults):
        """`pause n1,n2` pauses both in one record; `resume all` thaws every paused node and ends it."""
        applied = apply_step(Step(at=0, action="pause", target="n1,n2"), 0, faults, seed=1)
        assert applied.record.nodes == ["n1", "n2"] and faults.down_nodes() == {"n1", "n2"}
        apply_step(Step(at=1, action="resume", target="all"), 1, faults, seed=1)
        assert set(cluster.states.values()) == {"up"} and applied.record.end is not None
        assert faults.down_nodes() == set()

    def test_a_crash_record_ends_when_its_last_node_is_back(self, cluster, clock, faults):
        """A restart step for part of a crash leaves its record open until the rest is back."""
        applied = apply_step(Step(at=0, action="crash", target=["n4", "n5"]), 0, faults, seed=1)
        clock.advance(1)
        apply_step(Step(at=1, action="restart", target="n4"), 1, faults, seed=1)
        assert applied.record.end is None and faults.down_nodes() == {"n5"}
        clock.advance(1)
        faults.undo(applied)
        assert cluster.calls[-1] == ("restart", ("n5",)) and applied.record.end == 2.0

    def test_unknown_node(self, faults):
        with pytest.raises(StepFailed, match="unknown node 'n9'"):
            apply_step(Step(at=0, action="crash", target="n9"), 0, faults, seed=1)


class TestNetworkFaults:
    def test_link_faults_compose_and_undo_by_id(self, cluster, faults):
        """A drop and a delay from two steps: undoing the drop leaves the delay in force."""
        drop = apply_step(Step(at=0, action="drop", target=0.3, options={"src": "n1"}), 0, faults, seed=1)
        delay = apply_step(Step(at=0, action="delay", target="50ms", options={"jitter": "10ms"}), 1, faults, seed=1)
        assert cluster.rule_kinds() == ["drop", "delay"]
        assert drop.record.nodes == ["n1"] and drop.record.kind == "drop"
        faults.undo(drop)
        assert cluster.rule_kinds() == ["delay"]
        assert drop.record.end is not None and delay.record.end is None
        assert cluster.table.rules()[0].jitter_ms == pytest.approx(10.0)

    def test_isolate_leader_records_the_node_and_undo_removes_only_its_rules(self, cluster, faults):
        """`partition isolate:leader` cuts the leader of the moment off; its undo leaves a drop alone."""
        cluster.leader_id = "n2"
        apply_step(Step(at=0, action="drop", target="10%"), 0, faults, seed=1)
        applied = apply_step(Step(at=0, action="partition", target="isolate:leader"), 1, faults, seed=1)
        assert ("partition", ("isolate:n2",)) in cluster.calls
        assert applied.record.nodes == ["n2"] and applied.record.label == "partition isolate:leader"
        faults.undo(applied)
        assert cluster.rule_kinds() == ["drop"]

    def test_groups_record_the_minority_side(self, faults):
        applied = apply_step(Step(at=0, action="partition", target="n1,n2 n3,n4,n5"), 0, faults, seed=1)
        assert applied.record.nodes == ["n1", "n2"]

    def test_a_new_partition_replaces_and_ends_the_old_one(self, cluster, clock, faults):
        """Partitions replace each other (as in the lab): the first record ends when the second starts,
        and undoing the first later does not touch the second."""
        first = apply_step(Step(at=0, action="partition", target="isolate:n1"), 0, faults, seed=1)
        clock.advance(1)
        second = apply_step(Step(at=1, action="partition", target="ring"), 1, faults, seed=1)
        assert first.record.end == 1.0 and second.record.end is None
        rules = len(cluster.table.rules())
        faults.undo(first)
        assert len(cluster.table.rules()) == rules and second.record.end is None

    def test_heal_ends_partitions_clear_ends_all(self, cluster, faults):
        part = apply_step(Step(at=0, action="partition", target="isolate:n1"), 0, faults, seed=1)
        drop = apply_step(Step(at=0, action="drop", target=0.5), 1, faults, seed=1)
        apply_step(Step(at=1, action="heal"), 2, faults, seed=1)
        assert part.record.end is not None and drop.record.end is None and cluster.rule_kinds() == ["drop"]
        apply_step(Step(at=2, action="clear"), 3, faults, seed=1)
        assert drop.record.end is not None and cluster.rule_kinds() == []
        faults.undo(drop)  # already lifted: nothing to do, no error
        assert ("remove_faults", (drop.rule_ids[0],)) not in cluster.calls

    def test_bad_partition_spec(self, faults):
        with pytest.raises(StepFailed, match="n9"):
            apply_step(Step(at=0, action="partition", target="n1 n9"), 0, faults, seed=1)


class TestEndOfRun:
    def test_undo_all_lifts_everything_and_closes_every_record(self, cluster, clock, faults):
        """The final heal clears the network, resumes the paused and restarts the crashed, whoever did it."""
        apply_step(Step(at=0, action="partition", target="isolate:n1"), 0, faults, seed=1)
        apply_step(Step(at=0, action="delay", target=0.05), 1, faults, seed=1)
        apply_step(Step(at=0, action="crash", target="n2"), 2, faults, seed=1)
        apply_step(Step(at=0, action="pause", target="n3"), 3, faults, seed=1)
        cluster.crash("n4")  # by hand, outside the run
        clock.advance(5)
        assert faults.undo_all() == []
        assert set(cluster.states.values()) == {"up"} and cluster.table.rules() == []
        assert all(r.end == 5.0 for r in faults.records)

    def test_command_goes_to_the_leader(self, cluster, faults):
        apply_step(Step(at=0, action="command", target="order", options={}, args={"value": "attack"}), 0, faults, seed=1)
        assert cluster.commands == [("n1", "order", {"value": "attack"})]

    def test_labels(self):
        assert step_label(Step(at=3, action="partition", target="isolate:leader", until=8)) == "partition isolate:leader"
        assert step_label(Step(at=3, action="heal", target=True)) == "heal"

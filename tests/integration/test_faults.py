"""Network faults through the real proxy, on real raft processes."""

from __future__ import annotations

import time

import pytest

from chaoslab.errors import LabError
from chaoslab.events import read_events
from chaoslab.lab.cluster import Cluster
from chaoslab.testing import holds_for, wait_until


def view(cluster: Cluster) -> dict[str, tuple[str, int, str]]:
    """node -> (role, term, leader) for the nodes that answer."""
    return {n.id: (n.status.role, n.status.term, n.status.leader) for n in cluster.status().nodes if n.HasField("status")}


def leader_among(cluster: Cluster, group: set[str]) -> str | None:
    v = view(cluster)
    leaders = [(t, n) for n, (r, t, _) in v.items() if n in group and r == "leader"]
    return max(leaders)[1] if leaders else None


def links(cluster: Cluster) -> dict[tuple[str, str], object]:
    """(src, dst) -> the proxy's counters for that link."""
    return {(l.src, l.dst): l for l in cluster.faults().links}


class TestPartitions:
    def test_majority_minority_then_heal(self, chaoslab_clusters):
        """Leader on the minority side: the majority elects a leader, the minority has none; heal converges."""
        c = chaoslab_clusters.up("raft", nodes=5, seed=11)
        old = c.wait_for_leader()
        state = c.partition("majority")
        minority = {g for g in state.partition_groups if old in g.split(",")}
        assert len(minority) == 1
        minority_nodes = set(next(iter(minority)).split(","))
        majority_nodes = set(c.node_ids) - minority_nodes
        assert old in minority_nodes and len(majority_nodes) == 3
        new = c.wait_for(lambda s: leader_among(c, majority_nodes), timeout=10, what="majority leader")
        assert new in majority_nodes
        # The old leader hears no majority: check-quorum or not, no minority node may be
        # a leader in a term the majority has moved past, and none is elected there.
        assert holds_for(lambda: all(
            r != "leader" or t < view(c)[new][1] for n, (r, t, _) in view(c).items() if n in minority_nodes), 1.0)
        c.heal()

        def converged(s):
            v = view(c)
            leaders = {n for n, (r, _, _) in v.items() if r == "leader"}
            terms = {t for _, t, _ in v.values()}
            followers_agree = {l for _, _, l in v.values()}
            return len(v) == 5 and len(leaders) == 1 and len(terms) == 1 and followers_agree == leaders
        c.wait_for(converged, timeout=10, what="one leader and one term after heal")

    def test_isolated_node_cannot_win(self, chaoslab_clusters):
        """An isolated follower never becomes leader while cut off."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=2)
        leader = c.wait_for_leader()
        victim = next(n for n in c.node_ids if n != leader)
        c.partition(f"isolate:{victim}")
        assert holds_for(lambda: view(c)[victim][0] != "leader", 1.5)
        assert leader_among(c, {leader}) == leader

    def test_one_way_partition_is_one_way(self, chaoslab_clusters):
        """`partition L->F`: F stops hearing the leader L while L still hears F (and, thanks to
        pre-vote, stays leader)."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=4)
        leader = c.wait_for_leader()
        follower = next(n for n in c.node_ids if n != leader)
        _, start = read_events(c.run.events)
        c.partition(f"{leader}->{follower}")

        def asking_for_votes() -> bool:  # F notices the silence and starts asking for (pre-)votes
            events, _ = read_events(c.run.events, start)
            return any(e.get("source") == follower and e["kind"] == "role"
                       and e.get("role") in ("pre_candidate", "candidate") for e in events)
        wait_until(asking_for_votes, timeout=10, what=f"{follower} asking for votes")
        before = links(c)
        cut, back = (leader, follower), (follower, leader)
        # A second of the cut link delivering nothing, while both directions carry traffic.
        assert holds_for(lambda: links(c)[cut].delivered == before[cut].delivered, 1.0)
        after = wait_until(lambda: (a := links(c))[cut].dropped > before[cut].dropped
                           and a[back].delivered > before[back].delivered and a, timeout=10,
                           what="traffic both ways")
        assert after[cut].delivered == before[cut].delivered
        assert after[cut].dropped > before[cut].dropped
        assert after[back].delivered > before[back].delivered
        assert view(c)[leader][0] == "leader"

    def test_drop_all_equals_partition(self, chaoslab_clusters):
        """`drop 100%` on every link of the leader isolates it just like a partition."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=5)
        leader = c.wait_for_leader()
        c.drop(1.0, src=leader)
        c.drop(1.0, dst=leader)
        others = set(c.node_ids) - {leader}
        new = c.wait_for(lambda s: leader_among(c, others), timeout=10, what="leader among the others")
        assert new != leader
        links1 = links(c)
        assert holds_for(lambda: all(links(c)[(leader, o)].delivered == links1[(leader, o)].delivered
                                     for o in others), 0.3)
        # ... and the old leader did try every other node meanwhile (and was dropped).
        links2 = wait_until(lambda: (l2 := links(c)) and all(
            l2[(leader, o)].dropped > links1[(leader, o)].dropped for o in others) and l2, timeout=10,
            what="the old leader's messages dropped")
        for other in others:
            assert links2[(leader, other)].delivered == links1[(leader, other)].delivered


class TestLossyNetwork:
    def test_lossy_slow_duplicating_reordering_network_still_elects(self, chaoslab_clusters):
        """drop 30% + delay 20±10 ms + duplicate 10% + reorder 10%: a leader still emerges and holds,
        and at most one leader per term is ever seen."""
        c = chaoslab_clusters.up("raft", nodes=5, seed=6)
        c.drop(0.3)
        c.delay(0.020, jitter_s=0.010)
        c.duplicate(0.1)
        c.reorder(0.1)
        seen: dict[int, set[str]] = {}
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            for node, (role, term, _) in view(c).items():
                if role == "leader":
                    seen.setdefault(term, set()).add(node)
            time.sleep(0.05)
        assert seen, "no leader under a lossy network"
        assert all(len(nodes) == 1 for nodes in seen.values()), seen
        links = c.faults().links
        assert sum(l.duplicated for l in links) > 0
        assert sum(l.delayed for l in links) > 0
        assert sum(l.reordered for l in links) > 0
        assert sum(l.dropped for l in links) > 0

    def test_counters_add_up(self, chaoslab_clusters):
        """Per link: sent + duplicated = delivered + dropped, once nothing is in flight."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=7)
        leader = c.wait_for_leader()
        c.drop(0.2)
        c.duplicate(0.2)
        # Traffic until every link from the leader has both dropped and duplicated something.
        wait_until(lambda: all(l.dropped and l.duplicated for l in c.faults().links if l.src == leader),
                   timeout=10, what="drops and duplicates on the leader's links")
        c.clear()
        c.partition("n1", "n2", "n3")  # stop traffic so the counters settle

        def unbalanced() -> list[str]:
            return [f"{l.src}->{l.dst} sent {l.sent} dup {l.duplicated} delivered {l.delivered} dropped {l.dropped}"
                    for l in c.faults().links if l.sent + l.duplicated != l.delivered + l.dropped]

        try:
            wait_until(lambda: not unbalanced(), timeout=5, what="nothing in flight")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}: {unbalanced()}") from None
        for link in c.faults().links:
            assert link.sent + link.duplicated == link.delivered + link.dropped, link

    def test_fault_for_duration_reverts(self, chaoslab_clusters):
        """A fault given --for 1s disappears on its own about a second later, with an event."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=8)
        c.wait_for_leader()
        started = time.monotonic()
        state = c.drop(0.5, for_s=1.0)
        assert [r.kind for r in state.rules] == ["drop"]
        c.wait_for(lambda s: not c.faults().rules, timeout=5, what="the fault to expire")
        assert 0.9 <= time.monotonic() - started <= 3.0
        events, _ = read_events(c.run.events)
        assert any(e["kind"] == "fault" and e.get("action") == "expire" for e in events)


class TestBadFaults:
    def test_bad_faults_change_nothing(self, chaoslab_clusters):
        """Malformed or impossible faults are refused with a clear message, and the rules stay as they were."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=9)
        c.delay(0.005)
        before = [r.label for r in c.faults().rules]
        for bad in (
            lambda: c.partition("n1,n1"),
            lambda: c.partition("n1,n9"),
            lambda: c.partition("n1,n2", "n2,n3"),
            lambda: c.drop(1.2),
            lambda: c.delay(-0.005),
            lambda: c.drop(0.1, for_s=0),
            lambda: c.drop(0.1, src="n7"),
            lambda: c.remove_faults("f99"),
        ):
            with pytest.raises(LabError):
                bad()
        assert [r.label for r in c.faults().rules] == before

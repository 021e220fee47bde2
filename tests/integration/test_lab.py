"""Real processes: the supervisor, the proxy and raft nodes on loopback."""

from __future__ import annotations

import os
import signal


import pytest

from chaoslab.errors import LabError
from chaoslab.lab.cluster import Cluster
from chaoslab.testing import processes_of, wait_until_gone


def leaders(cluster: Cluster) -> list[tuple[str, int]]:
    return [(n.id, n.status.term) for n in cluster.status().nodes if n.HasField("status") and n.status.role == "leader"]


class TestUpDown:
    def test_up_returns_serving_with_one_leader(self, chaoslab_clusters):
        """`up` returns only when every node answers and exactly one leader is known, followed by all."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=1)
        status = c.status()
        assert [n.id for n in status.nodes] == ["n1", "n2", "n3"]
        assert all(n.state == "up" and n.HasField("status") for n in status.nodes)
        leader = c.wait_for(
            lambda s: len({n.status.leader for n in s.nodes}) == 1 and s.nodes[0].status.leader, timeout=5,
            what="all nodes following one leader",
        )
        assert [lid for lid, _ in leaders(c)] == [leader]
        with pytest.raises(LabError, match="n1: raft nodes take no commands"):
            c.command("n1", "order")  # Node.Command is there for algorithms that take commands

    def test_down_stops_everything_and_removes_run_dir(self, chaoslab_clusters):
        """After `down` no process of the cluster is alive and its run directory is gone."""
        c = chaoslab_clusters.up("raft", nodes=3)
        pids = [n.pid for n in c.status().nodes]
        assert processes_of(chaoslab_clusters.home)
        c.down()
        assert wait_until_gone(chaoslab_clusters.home, timeout=2) == []
        assert not any(_alive(p) for p in pids)
        assert not c.run.path.exists()

    def test_killed_supervisor_takes_children_with_it(self, chaoslab_clusters):
        """SIGKILL of the supervisor leaves no node or proxy alive within 2 s."""
        c = chaoslab_clusters.up("raft", nodes=3)
        os.kill(c.run.supervisor_pid(), signal.SIGKILL)
        assert wait_until_gone(chaoslab_clusters.home, timeout=2) == []
        assert c.run.state() == "stale"

    def test_a_deleted_run_directory_stops_its_cluster(self, chaoslab_clusters):
        """`rm -rf` of a running cluster's directory takes its control socket with it: the
        supervisor notices and stops everything rather than run on unreachable."""
        import shutil

        c = chaoslab_clusters.up("raft", nodes=3)
        assert processes_of(chaoslab_clusters.home)
        shutil.rmtree(c.run.path)
        assert wait_until_gone(chaoslab_clusters.home, timeout=5) == []

    def test_two_clusters_side_by_side(self, chaoslab_clusters):
        """Two clusters in one home run independently; stopping one leaves the other serving."""
        a = chaoslab_clusters.up("raft", nodes=3, name="a")
        b = chaoslab_clusters.up("raft", nodes=3, name="b")
        ports_a = {n.port for n in a.status().nodes} | {n.proxy_port for n in a.status().nodes}
        ports_b = {n.port for n in b.status().nodes} | {n.proxy_port for n in b.status().nodes}
        assert not ports_a & ports_b
        a.down()
        assert b.wait_for_leader(timeout=5)
        assert all(n.state == "up" for n in b.status().nodes)


class TestFailover:
    def test_leader_killed_outside_the_lab_is_replaced(self, chaoslab_clusters):
        """kill -9 of the leader's process: the others elect a new leader in a higher term."""
        c = chaoslab_clusters.up("raft", nodes=5)
        old = c.wait_for_leader()
        old_term = max(t for _, t in leaders(c))
        pid = next(n.pid for n in c.status().nodes if n.id == old)
        os.kill(pid, signal.SIGKILL)
        new = c.wait_for_leader(timeout=10, exclude=(old,))
        assert new != old
        assert max(t for lid, t in leaders(c) if lid == new) > old_term
        c.wait_for(lambda s: next(n for n in s.nodes if n.id == old).state == "crashed", timeout=2, what="crash noticed")

    def test_crash_and_restart_keep_identity_and_term(self, chaoslab_clusters):
        """A restarted node keeps its id and durable term, and rejoins as a follower of the leader."""
        c = chaoslab_clusters.up("raft", nodes=3)
        leader = c.wait_for_leader()
        victim = next(n for n in ("n1", "n2", "n3") if n != leader)
        term_before = next(n.status.term for n in c.status().nodes if n.id == victim)
        assert c.crash(victim) == [victim]
        assert next(n.state for n in c.status().nodes if n.id == victim) == "crashed"
        assert c.restart(victim) == [victim]

        def rejoined(s):
            n = next(n for n in s.nodes if n.id == victim)
            return n.HasField("status") and n.status.role == "follower" and n.status.leader
        c.wait_for(rejoined, timeout=10, what="restarted node following a leader")
        node = next(n for n in c.status().nodes if n.id == victim)
        assert node.restarts == 1 and node.status.term >= term_before

    def test_crash_leader_target(self, chaoslab_clusters):
        """`crash leader` resolves the current leader at call time."""
        c = chaoslab_clusters.up("raft", nodes=3)
        leader = c.wait_for_leader()
        assert c.crash("leader") == [leader]
        assert c.wait_for_leader(timeout=10, exclude=(leader,)) != leader

    def test_pause_then_resume(self, chaoslab_clusters):
        """A paused leader is replaced; resumed, it steps down to follow the new leader."""
        c = chaoslab_clusters.up("raft", nodes=3)
        leader = c.wait_for_leader()
        c.pause(leader)
        new = c.wait_for_leader(timeout=10, exclude=(leader,))
        c.resume(leader)

        def follows(s):
            n = next(n for n in s.nodes if n.id == leader)
            return n.HasField("status") and n.status.role == "follower" and n.status.leader == new
        c.wait_for(follows, timeout=10, what="old leader following the new one")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

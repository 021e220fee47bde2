"""Raft's key-value store on real processes: durability, catch-up, quorum."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from chaoslab.client import KVClient, NotAcknowledged
from chaoslab.events import read_events
from chaoslab.process.spec import HOST, ClusterSpec
from chaoslab.v1 import kv_pb2, kv_pb2_grpc
from chaoslab.wire.auth import secret_metadata


def write_many(cluster, count: int, prefix: str, clients: int = 8) -> dict[str, str]:
    """``count`` acknowledged puts spread over ``clients`` client sessions; returns the last value
    of each key (each client writes its own keys, so "last" is well defined)."""
    written: dict[str, str] = {}

    def work(worker: int) -> dict[str, str]:
        mine = {}
        with KVClient.for_cluster(cluster, timeout=10) as kv:
            for i in range(worker, count, clients):
                key, value = f"{prefix}{worker}.{(i // clients) % 13}", f"{worker}-{i}"
                assert kv.put(key, value).ok
                mine[key] = value
        return mine

    with ThreadPoolExecutor(clients) as pool:
        for mine in pool.map(work, range(clients)):
            written.update(mine)
    return written


class TestBasics:
    def test_operations(self, chaoslab_clusters):
        """get/put/cas/append/delete behave as a register map, through any node."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=21)
        with KVClient.for_cluster(c) as kv:
            assert kv.get("k").code_name == "not_found"
            assert kv.put("k", "1").ok
            assert kv.get("k").value == "1"
            assert kv.cas("k", "2", "3").code_name == "cas_mismatch"
            assert kv.cas("k", "1", "2").ok
            assert kv.cas("new", None, "x").ok and not kv.cas("new", None, "y").ok
            assert kv.append("k", "+").ok and kv.get("k").value == "2+"
            assert kv.delete("k").ok and kv.get("k").code_name == "not_found"
            assert kv.delete("k").code_name == "not_found"

    def test_status_shows_replication(self, chaoslab_clusters):
        """After writes, every node reports the same commit index and the leader its followers' progress."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=22)
        with KVClient.for_cluster(c) as kv:
            for i in range(20):
                assert kv.put(f"k{i}", str(i)).ok
            last = kv.put("last", "x").index

        def caught_up(s):
            return all(n.status.raft.applied_index >= last for n in s.nodes)
        c.wait_for(caught_up, timeout=5, what="all nodes applying the last write")
        leader = next(n for n in c.status(log_tail=5).nodes if n.status.role == "leader")
        assert {p.peer for p in leader.status.raft.progress} == set(c.node_ids) - {leader.id}
        assert all(p.match_index >= last for p in leader.status.raft.progress)
        assert len(leader.status.raft.log_tail) == 5


    def test_stream_answers_every_request_of_every_batch(self, chaoslab_clusters):
        """KV.Stream: batches in, every request answered once (matched by client id and seq), a bad
        request refused on its own; the reply stream ends once the client is done and all are answered."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=23)
        leader = c.wait_for_leader()
        spec = ClusterSpec.load(c.run.cluster)
        puts = [kv_pb2.KVRequest(client_id=f"s{i % 7}", seq=i // 7 + 1, op=kv_pb2.KV_OP_PUT, key=f"k{i}", value=str(i))
                for i in range(120)]
        bad = kv_pb2.KVRequest(client_id="bad", seq=1, op=kv_pb2.KV_OP_PUT, key="")
        gets = [kv_pb2.KVRequest(client_id="r", seq=i + 1, op=kv_pb2.KV_OP_GET, key=f"k{i}") for i in range(0, 120, 10)]
        batches = [kv_pb2.KVBatch(requests=puts[:60]), kv_pb2.KVBatch(requests=[*puts[60:], bad])]
        with grpc.insecure_channel(f"{HOST}:{spec.address(leader).port}") as channel:
            stub = kv_pb2_grpc.KVStub(channel)
            secret = secret_metadata(c.run.secret())
            writes = [r for b in stub.Stream(iter(batches), timeout=10, metadata=secret) for r in b.replies]
            reads = [r for b in stub.Stream(iter([kv_pb2.KVBatch(requests=gets)]), timeout=10, metadata=secret)
                     for r in b.replies]
        by_id = {(r.client_id, r.seq): r for r in writes}
        assert len(writes) == len(by_id) == 121
        assert by_id[("bad", 1)].code == kv_pb2.KV_CODE_BAD_REQUEST
        assert all(by_id[(q.client_id, q.seq)].code == kv_pb2.KV_CODE_OK for q in puts)
        indexes = [by_id[(q.client_id, q.seq)].index for q in puts]
        assert indexes == sorted(indexes) and indexes[0] > 0  # a burst's writes share entries, in order
        assert sorted((r.seq, r.value) for r in reads) == [(i + 1, str(i)) for i in range(0, 120, 10)]


class TestSessions:
    def test_more_clients_than_sessions_apply_each_write_once(self, chaoslab_clusters):
        """With room for one session, two clients writing in turn evict each other's session before
        every write: each write is refused SESSION_EXPIRED on its only try, so the client registers
        again and sends it anew. Every write applies exactly once."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=26, overrides=["raft.max_sessions=1"])
        with KVClient.for_cluster(c, timeout=10) as a, KVClient.for_cluster(c, timeout=10) as b:
            for i in range(5):
                assert a.append("log", f"a{i};").ok
                assert b.append("log", f"b{i};").ok
            sessions = {a.session, b.session}
            assert a.get("log").value == "".join(f"a{i};b{i};" for i in range(5))
        assert len(sessions) == 2 and min(sessions) >= 9  # each write after the first registered anew


class TestDurability:
    def test_acknowledged_writes_survive_leader_kill_and_restart(self, chaoslab_clusters):
        """SIGKILL the leader mid-workload and restart it: every acknowledged write is still there."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=23)
        written = write_many(c, 300, "a", clients=4)
        old = c.wait_for_leader()
        c.crash(old)
        written.update(write_many(c, 100, "b", clients=4))
        c.restart(old)
        with KVClient.for_cluster(c, timeout=10) as kv:
            for key, value in written.items():
                assert kv.get(key).value == value, key
        # and the restarted node itself holds them once it catches up
        last = max(n.status.raft.commit_index for n in c.status().nodes if n.HasField("status"))
        c.wait_for(lambda s: next(n for n in s.nodes if n.id == old).status.raft.applied_index >= last,
                   timeout=10, what="restarted node catching up")

    def test_follower_away_catches_up_by_snapshot(self, chaoslab_clusters):
        """A follower down for 2,000 commands gets an InstallSnapshot and converges."""
        c = chaoslab_clusters.up("raft", nodes=3, seed=24, overrides=["raft.snapshot_threshold=500"])
        leader = c.wait_for_leader()
        away = next(n for n in c.node_ids if n != leader)
        c.crash(away)
        written = write_many(c, 2000, "s")
        c.restart(away)
        target = max(n.status.raft.commit_index for n in c.status().nodes if n.HasField("status"))

        def caught_up(s):
            n = next(n for n in s.nodes if n.id == away)
            return n.HasField("status") and n.status.raft.applied_index >= target
        c.wait_for(caught_up, timeout=20, what="the follower catching up")
        events, _ = read_events(c.run.events)
        installed = [e for e in events if e["source"] == away and e["kind"] == "snapshot" and e.get("how") == "installed"]
        assert installed, "the follower never installed a snapshot"
        with KVClient.for_cluster(c) as kv:
            for key, value in list(written.items())[:10]:
                assert kv.get(key).value == value


class TestQuorum:
    def test_five_nodes_commit_with_two_down_and_not_with_three(self, chaoslab_clusters):
        """Two of five down: writes commit. Three down: no write is acknowledged."""
        c = chaoslab_clusters.up("raft", nodes=5, seed=25)
        leader = c.wait_for_leader()
        followers = [n for n in c.node_ids if n != leader]
        c.crash(*followers[:2])
        with KVClient.for_cluster(c, timeout=10) as kv:
            assert kv.put("two-down", "yes").ok
            c.crash(followers[2])
            with pytest.raises(NotAcknowledged) as caught:
                kv.put("three-down", "no", timeout=2)
            assert caught.value.unknown  # sent to the leader, which may yet commit it
        with KVClient.for_cluster(c, timeout=2) as fresh:
            with pytest.raises(NotAcknowledged, match="registering a session") as caught:
                fresh.put("three-down", "no")
            assert not caught.value.unknown  # its session could not be registered: the write was never sent
        c.restart(*followers[:3])
        with KVClient.for_cluster(c, timeout=10) as kv:
            assert kv.get("two-down").value == "yes"

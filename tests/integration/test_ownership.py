"""Only the owner can touch a cluster (issue 13): a second local user, a garbage sender and a
flood on every port the cluster listens on change nothing."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaoslab.lab.cluster import Cluster
from chaoslab.testing import wait_until_gone

INTRUDER = Path(__file__).with_name("intruder.py")


@pytest.fixture
def second_user() -> Iterator[tuple[int, int]]:
    """A throwaway local user (uid, gid), removed afterwards. Needs root."""
    if os.geteuid() != 0:
        pytest.skip("creating a second local user needs root")
    name = f"chaoslab{secrets.token_hex(3)}"
    created = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                             capture_output=True, text=True)
    if created.returncode != 0:
        pytest.skip(f"useradd failed: {created.stderr.strip()}")
    try:
        import pwd

        entry = pwd.getpwnam(name)
        yield entry.pw_uid, entry.pw_gid
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    home = tmp_path / ".chaoslab"
    with Cluster.up("raft", nodes=3, home=home, seed=3) as c:
        yield c
    assert wait_until_gone(home) == []


def terms(cluster: Cluster) -> dict[str, int]:
    return {n.id: n.status.term for n in cluster.status().nodes if n.HasField("status")}


class TestSecondUser:
    def test_another_local_user_cannot_drive_the_cluster(self, cluster: Cluster, second_user: tuple[int, int]) -> None:
        """As a second user: the secret cannot be read; a KV write on node ports, ChangeFaults on a
        proxy port and a forged peer message "from n1" (term 1002) are all refused; the owner's
        sockets cannot be reached; and the cluster's data, faults and term are untouched."""
        from chaoslab.client import KVClient

        before = terms(cluster)
        uid, gid = second_user
        result = subprocess.run([sys.executable, str(INTRUDER), str(cluster.run.path), str(uid), str(gid)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        tried = json.loads(result.stdout)
        assert tried == {
            "read_secret": "PermissionError",
            "kv_write": "UNAUTHENTICATED",
            "change_faults_on_proxy_port": "UNIMPLEMENTED",  # the control service is not on TCP at all
            "forged_peer_message_to_node": "UNAUTHENTICATED",
            "forged_peer_message_to_proxy": "UNAUTHENTICATED",
            "control_socket": "UNAVAILABLE",  # the 0700 run directory: permission denied
        }, tried
        with KVClient.for_cluster(cluster) as kv:
            assert kv.get("owned").code_name == "not_found"
        assert cluster.faults().rules == ()
        after = terms(cluster)
        assert max(after.values()) < 1002 and max(after.values()) - max(before.values()) <= 1

    def test_the_owner_still_gets_in(self, cluster: Cluster) -> None:
        """KVClient.for_cluster reads the secret; a raw client given secret= works; without it, refused."""
        from chaoslab.client import KVClient
        from chaoslab.errors import LabError

        with KVClient.for_cluster(cluster) as kv:
            assert kv.put("k", "v").ok
        addresses = {a.id: f"127.0.0.1:{a.port}" for a in __import__("chaoslab.process.spec", fromlist=["ClusterSpec"])
                     .ClusterSpec.load(cluster.run.cluster).addresses}
        with KVClient(addresses, secret=cluster.run.secret()) as kv:
            assert kv.get("k").value == "v"
        with KVClient(addresses, timeout=2) as kv, pytest.raises(LabError, match="not applied.*secret"):
            kv.put("k", "w")


def listening_ports(cluster: Cluster) -> list[int]:
    """Every TCP port the cluster listens on: each node's and each proxy port."""
    from chaoslab.process.spec import ClusterSpec

    spec = ClusterSpec.load(cluster.run.cluster)
    return [p for a in spec.addresses for p in (a.port, a.proxy_port)]


async def garbage_and_flood(ports: list[int], sockets: list[Path], seed: int) -> dict[str, int]:
    """Bounded abuse of every port and socket, loopback only: random bytes, an HTTP/2 preface
    followed by junk frames, held-open idle connections, and a burst of well-formed calls
    without the secret."""
    import asyncio
    import random

    import grpc

    from chaoslab.v1 import kv_pb2, kv_pb2_grpc, peer_pb2, peer_pb2_grpc

    rng = random.Random(seed)
    counts = {"garbage": 0, "idle": 0, "refused_calls": 0, "served_calls": 0}
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    async def junk(open_conn) -> None:  # type: ignore[no-untyped-def]
        try:
            reader, writer = await asyncio.wait_for(open_conn(), 2)
        except (OSError, asyncio.TimeoutError):
            return
        try:
            head = preface if rng.random() < 0.5 else b""
            writer.write(head + rng.randbytes(rng.randrange(1, 4096)))
            await asyncio.wait_for(writer.drain(), 2)
            counts["garbage"] += 1
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            writer.close()

    targets = [lambda p=p: asyncio.open_connection("127.0.0.1", p) for p in ports]
    targets += [lambda s=s: asyncio.open_unix_connection(str(s)) for s in sockets]
    # 1. garbage: 40 connections a target, 20 at a time
    for _ in range(2):
        await asyncio.gather(*(junk(t) for t in targets for _ in range(20)))
    # 2. idle connections held open: up to 400 at once
    held = []
    for i in range(400):
        try:
            held.append(await asyncio.wait_for(targets[i % len(targets)](), 2))
        except (OSError, asyncio.TimeoutError):
            break
    counts["idle"] = len(held)
    await asyncio.sleep(1.0)  # held open for a while: the flood itself, not a wait for anything
    for _, writer in held:
        writer.close()
    # 3. well-formed calls without the secret: KV writes and forged peer batches on every port
    async def call(port: int) -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                if rng.random() < 0.5:
                    await kv_pb2_grpc.KVStub(channel).Execute(
                        kv_pb2.KVRequest(client_id="flood", seq=1, op=kv_pb2.KV_OP_PUT, key="x", value="flood"), timeout=2)
                else:
                    env = peer_pb2.Envelope(src="n1", dst="n2", term=10_000)
                    await peer_pb2_grpc.PeerStub(channel).Send(iter([peer_pb2.EnvelopeBatch(envelopes=[env] * 10)]),
                                                               timeout=2)
            except grpc.aio.AioRpcError as exc:
                if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNIMPLEMENTED):
                    counts["refused_calls"] += 1
                return  # (on a busy machine a few may time out instead: not served either)
            counts["served_calls"] += 1

    await asyncio.gather(*(call(p) for p in ports for _ in range(25)))
    return counts


class TestGarbageAndFlood:
    def test_every_port_survives_garbage_and_a_flood(self, cluster: Cluster) -> None:
        """Random bytes, junk HTTP/2, 400 idle connections and calls without the secret on every
        port and socket: the cluster keeps its leader and its data, and still takes writes."""
        import asyncio

        from chaoslab.client import KVClient

        leader = cluster.wait_for_leader()
        with KVClient.for_cluster(cluster) as kv:
            for i in range(20):
                assert kv.put(f"k{i}", str(i)).ok
        term = terms(cluster)[leader]
        sockets = [cluster.run.socket_path("control.sock"), cluster.run.socket_path("proxy.sock")]
        counts = asyncio.run(asyncio.wait_for(garbage_and_flood(listening_ports(cluster), sockets, seed=13), 60))
        assert counts["garbage"] > 100 and counts["idle"] >= 100 and counts["served_calls"] == 0, counts
        assert counts["refused_calls"] >= 0.9 * 25 * 6, counts
        assert cluster.leader() == leader and terms(cluster)[leader] == term
        with KVClient.for_cluster(cluster) as kv:
            assert [kv.get(f"k{i}").value for i in range(20)] == [str(i) for i in range(20)]
            assert kv.get("x").code_name == "not_found"
            assert kv.put("after", "flood").ok

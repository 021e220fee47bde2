"""Maelstrom lin-kv replies as the kv workload's results: definite errors fail, indefinite ones are unknown."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chaoslab.algorithms import get_algorithm
from chaoslab.algorithms.maelstrom.adapters.kvclient import MaelstromKVClient
from chaoslab.chaos.workload import outcome
from chaoslab.client import CAS_MISMATCH, NOT_FOUND, OK, NotAcknowledged
from chaoslab.errors import LabError, NotDelivered


class FakeCluster:
    """Answers every client command with the next of ``replies`` (an exception is raised)."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.node_ids = ["n1", "n2", "n3"]
        self.algorithm = get_algorithm("maelstrom")
        self.name = "fake"

    def command(self, node: str, name: str, args: dict[str, Any], timeout: float) -> Any:
        assert name == "client"
        self.sent.append((node, args))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def test_operations_are_lin_kv_client_messages_to_the_home_node() -> None:
    cluster = FakeCluster({"type": "write_ok"}, {"type": "read_ok", "value": "v"}, {"type": "cas_ok"})
    client = MaelstromKVClient.for_cluster(cluster, timeout=1.0, home="n2")
    assert client.put("k", "v").code == OK
    read = client.get("k")
    assert (read.code, read.value, read.node) == (OK, "v", "n2")
    assert client.cas("k", "v", "w").code == OK
    assert [body["body"] for _, body in cluster.sent] == [
        {"type": "write", "key": "k", "value": "v"}, {"type": "read", "key": "k"},
        {"type": "cas", "key": "k", "from": "v", "to": "w"}]
    assert {node for node, _ in cluster.sent} == {"n2"} and len({b["client"] for _, b in cluster.sent}) == 1


@pytest.mark.parametrize(("f", "reply", "want"), [
    ("read", {"type": "error", "code": 20}, "ok"),  # key-does-not-exist: the key is absent
    ("cas", {"type": "error", "code": 20}, "fail"),
    ("cas", {"type": "error", "code": 22}, "fail"),  # precondition-failed
    ("write", {"type": "error", "code": 11}, "fail"),  # temporarily-unavailable is definite in Maelstrom's docs
    ("write", {"type": "error", "code": 14}, "fail"),  # abort
    ("write", {"type": "error", "code": 0}, "info"),  # timeout: indefinite
    ("cas", {"type": "error", "code": 13}, "info"),  # crash: indefinite
    ("write", {"type": "error", "code": 999}, "info"),  # unknown: better unknown than wrong
    ("write", LabError("n1 did not answer 'client'"), "info"),
    ("write", NotDelivered("n1 did not answer 'client' (connection refused)"), "fail"),  # never reached it
    ("cas", NotDelivered("n1 did not answer 'client' (connection refused)"), "fail"),
    ("read", LabError("n1 did not answer 'client'"), "fail"),  # a read changes nothing
    ("write", {"type": "echo_ok"}, "info"),
])
def test_replies_become_history_outcomes(f: str, reply: Any, want: str) -> None:
    client = MaelstromKVClient(FakeCluster(reply, *[LabError("down")] * 50), timeout=0.01)
    send = {"read": lambda: client.get("k"), "write": lambda: client.put("k", "v"), "cas": lambda: client.cas("k", "a", "b")}[f]
    try:
        done = outcome(f, send())
    except NotAcknowledged as exc:
        done = outcome(f, None, exc)
    assert done[0] == want, done


def test_mismatch_and_missing_codes_map_to_the_workload_codes() -> None:
    client = MaelstromKVClient(FakeCluster({"type": "error", "code": 22}, {"type": "error", "code": 20}))
    assert client.cas("k", "a", "b").code == CAS_MISMATCH and client.cas("k", "a", "b").code == NOT_FOUND


def test_a_read_without_reply_tries_the_next_node() -> None:
    cluster = FakeCluster(LabError("n1 did not answer"), {"type": "read_ok", "value": 1})
    assert MaelstromKVClient(cluster, timeout=5.0).get("k").node == "n2"


def test_only_for_maelstrom_clusters() -> None:
    with pytest.raises(LabError, match="not Maelstrom"):
        MaelstromKVClient.for_cluster(SimpleNamespace(algorithm=get_algorithm("raft"), name="r", node_ids=["n1"]))

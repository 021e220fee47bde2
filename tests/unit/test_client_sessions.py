"""KVClient's sessions against a fake node whose state machine is the real KVStore: it registers
lazily, once, before its first write; a retry reuses (session, seq); a SESSION_EXPIRED write is
sent again in a new session when no earlier try may have been applied, and reported as an unknown
outcome when one may have been."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest

from chaoslab.algorithms.kv import KVStore
from chaoslab.client import OK, KVClient, NotAcknowledged
from chaoslab.v1 import kv_pb2


class Lost(grpc.RpcError):
    """The call's reply never came (the request may have been applied)."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.DEADLINE_EXCEEDED

    def details(self) -> str:
        return "deadline exceeded"


class FakeNode:
    """One leader applying every request to a real KVStore at the next log index. ``before(request)``
    runs ahead of each request (a test's way to let other clients act); ``lose(request)`` says
    whether the reply to an applied request is lost."""

    def __init__(self, max_sessions: int = 100) -> None:
        self.store = KVStore(max_sessions=max_sessions)
        self.index = 0
        self.requests: list[kv_pb2.KVRequest] = []
        self.before: Callable[[kv_pb2.KVRequest], None] = lambda request: None
        self.lose: Callable[[kv_pb2.KVRequest], bool] = lambda request: False

    def apply(self, request: kv_pb2.KVRequest) -> kv_pb2.KVReply:
        self.index += 1
        result = self.store.apply_command(self.index, request)
        return kv_pb2.KVReply(code=result.code, value=result.value, index=result.index, error=result.error,
                              session=result.session, client_id=request.client_id, seq=request.seq)

    def register_another(self) -> int:
        return self.apply(kv_pb2.KVRequest(op=kv_pb2.KV_OP_REGISTER)).session

    def Execute(self, request: kv_pb2.KVRequest, timeout: float, metadata: Any) -> kv_pb2.KVReply:
        sent = kv_pb2.KVRequest()
        sent.CopyFrom(request)  # the client may reuse its message for the next try
        self.requests.append(sent)
        self.before(sent)
        if sent.op == kv_pb2.KV_OP_GET:
            return kv_pb2.KVReply(code=self.store.get(sent.key).code, value=self.store.get(sent.key).value)
        reply = self.apply(sent)
        if self.lose(sent):
            raise Lost()
        return reply


@pytest.fixture
def node(monkeypatch: pytest.MonkeyPatch) -> FakeNode:
    fake = FakeNode()
    monkeypatch.setattr(KVClient, "_stub", lambda self, name: fake)
    monkeypatch.setattr("chaoslab.client.time.sleep", lambda s: None)  # the retry backoff
    return fake


def ops(node: FakeNode) -> list[tuple[str, int, int]]:
    """(op, session, seq) of every request the node got."""
    return [(kv_pb2.KVOp.Name(r.op).removeprefix("KV_OP_").lower(), r.session, r.seq) for r in node.requests]


class TestRegistration:
    def test_the_first_write_registers_once_and_reads_never_do(self, node: FakeNode) -> None:
        """One registration a client lifetime, before its first write; writes carry the session and
        growing seqs; reads carry none."""
        kv = KVClient({"n1": "x"})
        assert kv.get("k").code == kv_pb2.KV_CODE_NOT_FOUND and kv.session == 0
        assert kv.put("k", "1").ok and kv.append("k", "2").ok
        sid = kv.session
        assert sid == 1 and ops(node) == [("get", 0, 0), ("register", 0, 0), ("put", sid, 1), ("append", sid, 2)]
        assert node.store.get("k").value == "12"

    def test_register_opens_a_new_session(self, node: FakeNode) -> None:
        """register() is there for a caller that wants a fresh session now."""
        kv = KVClient({"n1": "x"})
        assert kv.register() == 1 and kv.register() == 2 == kv.session

    def test_a_registration_not_acknowledged_fails_the_write_as_not_applied(self, node: FakeNode) -> None:
        """If no node answers the registration by the deadline, the write was never sent: not applied."""
        node.lose = lambda request: True
        kv = KVClient({"n1": "x"}, timeout=0.05)
        with pytest.raises(NotAcknowledged, match="registering a session") as caught:
            kv.put("k", "1")
        assert not caught.value.unknown and node.store.data == {}
        assert {op for op, _, _ in ops(node)} == {"register"}


class TestRetries:
    def test_a_lost_reply_is_retried_in_the_same_session_and_applied_once(self, node: FakeNode) -> None:
        """The first try was applied and its reply lost: the retry (same session and seq) is answered
        from the session's memory, not applied again."""
        node.lose = lambda request: request.op == kv_pb2.KV_OP_APPEND and len(node.requests) == 2
        kv = KVClient({"n1": "x"})
        result = kv.append("k", "x")
        assert result.ok and result.index == 2 and node.store.get("k").value == "x"
        assert ops(node) == [("register", 0, 0), ("append", 1, 1), ("append", 1, 1)]


class TestExpiredSessions:
    def test_an_expired_session_is_replaced_and_the_write_sent_again_when_surely_not_applied(
            self, node: FakeNode) -> None:
        """Evicted between two writes (one session for two clients): the next write is refused
        SESSION_EXPIRED on its only try, so it surely was not applied; the client registers again
        and sends it in the new session. Applied once."""
        node.store.max_sessions = 1
        kv = KVClient({"n1": "x"})
        assert kv.put("k", "1").ok
        node.register_another()  # evicts kv's session
        assert kv.append("k", "2").ok and node.store.get("k").value == "12"
        assert ops(node) == [("register", 0, 0), ("put", 1, 1), ("append", 1, 2), ("register", 0, 0),
                             ("append", 3, 3)]
        assert kv.session == 3

    def test_an_expired_session_after_a_lost_reply_is_an_unknown_outcome(self, node: FakeNode) -> None:
        """The write was applied, its reply lost, and the session evicted before the retry: the
        store refuses the retry (it no longer knows), so the client cannot know either. It reports
        the outcome as unknown, does not send the write again (it was applied once), and its next
        write opens a new session."""
        node.store.max_sessions = 1
        kv = KVClient({"n1": "x"})

        def appends() -> int:
            return [r.op for r in node.requests].count(kv_pb2.KV_OP_APPEND)
        node.lose = lambda request: request.op == kv_pb2.KV_OP_APPEND and appends() == 1
        node.before = lambda request: appends() == 2 and request.op == kv_pb2.KV_OP_APPEND and node.register_another()
        with pytest.raises(NotAcknowledged, match="session expired") as caught:
            kv.append("k", "x")
        assert caught.value.unknown and kv.session == 0
        assert node.store.get("k").value == "x"  # applied by the first try, not by the refused retry
        assert kv.put("j", "1").ok and kv.session == 3
        assert ops(node) == [("register", 0, 0), ("append", 1, 1), ("append", 1, 1), ("register", 0, 0),
                             ("put", 3, 2)]

    def test_reply_code_names_the_new_code(self) -> None:
        """SESSION_EXPIRED is a code of its own in the wire contract."""
        from chaoslab.client import SESSION_EXPIRED, Result

        assert SESSION_EXPIRED != OK
        assert Result(SESSION_EXPIRED, "", 0, "n1").code_name == "session_expired"

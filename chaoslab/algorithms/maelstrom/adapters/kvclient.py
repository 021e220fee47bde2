"""A key-value client that speaks Maelstrom's lin-kv to the nodes' programs, shaped like
:class:`chaoslab.client.KVClient` so scripted runs' kv workload records the same history.

Each operation is one ``read`` / ``write`` / ``cas`` client message
(:class:`~chaoslab.algorithms.maelstrom.adapters.client.MaelstromClient`). Maelstrom's error
codes decide the outcome: 20 key-does-not-exist and 22 precondition-failed are answers (a
missing key, a cas that did not match); the other *definite* codes mean "not done" (the
history's ``fail``); 0 timeout, 13 crash, an unknown code or no reply mean "maybe done"
(``info`` for a write); a refused connection (the node is down) means the message never
reached the program (``fail``).
"""

from __future__ import annotations

from typing import Any

from chaoslab.algorithms.maelstrom.adapters.client import DEFINITE, INDEFINITE, MaelstromClient, error_name, expect_ok
from chaoslab.client import CAS_MISMATCH, NOT_FOUND, OK, Result

__all__ = ["DEFINITE", "INDEFINITE", "KEY_DOES_NOT_EXIST", "PRECONDITION_FAILED", "MaelstromKVClient", "error_name"]

KEY_DOES_NOT_EXIST = 20
PRECONDITION_FAILED = 22


class MaelstromKVClient(MaelstromClient):
    """``get`` / ``put`` / ``cas`` against the programs of ``cluster``. A read that got no reply
    tries the next node while its deadline lasts (reads change nothing), a write or cas is
    sent once (a resend could apply it twice)."""

    def get(self, key: str, timeout: float | None = None) -> Result:
        return self._call({"type": "read", "key": key}, timeout)

    def put(self, key: str, value: str, timeout: float | None = None) -> Result:
        return self._call({"type": "write", "key": key, "value": value}, timeout)

    def cas(self, key: str, expected: str | None, value: str, timeout: float | None = None) -> Result:
        return self._call({"type": "cas", "key": key, "from": expected, "to": value}, timeout)

    def _call(self, body: dict[str, Any], timeout: float | None) -> Result:
        reads = body["type"] == "read"
        reply, node = self.request(body, timeout=timeout, retry=reads, changes=not reads)
        return _result(body["type"], reply, node)


def _result(kind: str, reply: Any, node: str) -> Result:
    """A program's reply as the workload reads a result (or the exception it takes for "not done")."""
    if isinstance(reply, dict) and reply.get("type") == "error":
        code = reply.get("code")
        if code == KEY_DOES_NOT_EXIST and kind in ("read", "cas"):
            return Result(NOT_FOUND, "", 0, node)
        if code == PRECONDITION_FAILED and kind == "cas":
            return Result(CAS_MISMATCH, None, 0, node)  # type: ignore[arg-type]  # what the key held: not said
    ok = expect_ok(kind, reply, node, changes=kind != "read")
    return Result(OK, ok.get("value") if kind == "read" else None, 0, node)  # type: ignore[arg-type]

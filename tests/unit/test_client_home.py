"""KVClient's home node: asked first on every call, once a call, and left out for a while after
it did not answer (a paused home must not cost every call its timeout)."""

from __future__ import annotations

import pytest

from chaoslab.client import KVClient
from chaoslab.errors import LabError

ADDRESSES = {"n1": "127.0.0.1:1", "n2": "127.0.0.1:2", "n3": "127.0.0.1:3"}


def test_home_then_leader_then_the_rest_on_the_first_round():
    c = KVClient(ADDRESSES, home="n3")
    c._leader = "n2"
    assert c._candidates(first_round=True) == ["n3", "n2", "n1"]
    assert c._candidates(first_round=False) == ["n2", "n1", "n3"]  # after a redirect: the leader


def test_home_that_leads_is_asked_once():
    c = KVClient(ADDRESSES, home="n2")
    c._leader = "n2"
    assert c._candidates(first_round=True) == ["n2", "n1", "n3"]


def test_without_home_the_leader_first():
    c = KVClient(ADDRESSES)
    c._leader = "n3"
    assert c._candidates(first_round=True) == ["n3", "n1", "n2"]


def test_a_home_that_did_not_answer_is_skipped_for_a_while(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("chaoslab.client.time.monotonic", lambda: now[0])
    c = KVClient(ADDRESSES, home="n3")
    c._home_quiet_until = 101.0
    assert c._candidates(first_round=True)[0] == "n1"
    now[0] = 101.5
    assert c._candidates(first_round=True)[0] == "n3"


def test_an_unknown_home_is_refused():
    with pytest.raises(LabError, match="home node 'n9'"):
        KVClient(ADDRESSES, home="n9")

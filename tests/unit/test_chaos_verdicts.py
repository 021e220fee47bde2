"""Verdicts of a chaos run, on hand-written evidence: each property holds on a good run and is caught on a bad one.

Histories are written as compact timelines, one event a line, in real-time order
(``p0 invoke write k1 a`` / ``p0 ok write k1 a`` / ``p2 ok read k1 nil``); a cas
value is ``old,new``. Events are one JSON line each in ``history.jsonl``, times
100 ms apart unless a line ends in ``@<seconds>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chaoslab.algorithms.byzantine.adapters.agreement import AgreementReport
from chaoslab.algorithms.registry import get_algorithm
from chaoslab.chaos.verdicts import (
    Verdict,
    agreement,
    availability,
    election_safety,
    leader_within,
    linearizable,
    no_lost_writes,
    one_coordinator,
    overall,
)
from chaoslab.check.generate import generate, stale_read
from chaoslab.errors import LabError

RAFT = get_algorithm("raft")
BULLY = get_algorithm("bully")


def _value(raw: str) -> Any:
    if "," in raw:
        return [_value(v) for v in raw.split(",")]
    return None if raw == "nil" else raw


def history(tmp_path: Path, text: str) -> Path:
    """Write a timeline (see the module docstring) as history.jsonl; returns its path."""
    lines = []
    for i, line in enumerate(text.strip().splitlines()):
        words = line.split()
        at = i * 0.1
        if words[-1].startswith("@"):
            at = float(words.pop()[1:])
        process, kind, f, key, *rest = words
        record = {"process": int(process[1:]), "type": kind, "f": f, "key": key,
                  "value": _value(rest[0]) if rest else None, "time": int(at * 1e9)}
        lines.append(json.dumps(record))
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD = """
    p0 invoke write k1 a
    p0 ok write k1 a
    p1 invoke read k1
    p1 ok read k1 a
    p0 invoke cas k1 a,b
    p1 invoke write k2 c
    p0 ok cas k1 a,b
    p1 info write k2 c
    p2 invoke read k1
    p2 ok read k1 b
    p3 invoke read k2
    p3 ok read k2 c
"""


class TestLinearizable:
    def test_a_good_history_is_valid(self, tmp_path: Path) -> None:
        """Writes, a cas, an unknown write that took effect, reads that see them: linearizable."""
        v = linearizable(history(tmp_path, GOOD))
        assert v.status == "valid", v.summary
        assert v.ops == []
        assert "6 operations (1 unknown), 2 keys" in v.summary

    def test_a_stale_read_is_invalid_and_points_at_its_lines(self, tmp_path: Path) -> None:
        """A read that begins after b replaced a returns a: invalid, and ops holds the lines of the window."""
        path = history(tmp_path, """
            p0 invoke write k1 a
            p0 ok write k1 a
            p0 invoke write k1 b
            p0 ok write k1 b
            p1 invoke read k1
            p1 ok read k1 a
        """)
        v = linearizable(path)
        assert v.status == "invalid"
        assert "p1 read \"k1\" -> \"a\"" in v.summary and "line 5" in v.summary
        assert 5 in v.ops and set(v.ops) <= {1, 3, 5}
        assert v.details["failure"]["key"] == "k1"
        json.dumps(v.to_dict())  # report.json must be able to hold it

    def test_a_planted_stale_read_in_a_long_history(self, tmp_path: Path) -> None:
        """3,000 generated operations with one stale read: caught, at that read, with bounded details."""
        records, index = stale_read(generate(3000, clients=5, keys=2, seed=3), seed=3)
        path = tmp_path / "history.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        v = linearizable(path)
        assert v.status == "invalid"
        assert v.details["failure"]["culprit"]["lines"][1] == index + 1
        assert len(v.details["failure"]["partial"]) <= 20
        assert len(json.dumps(v.to_dict())) < 20_000

    def test_unknown_when_the_history_cannot_be_read(self, tmp_path: Path) -> None:
        """A history that is not one (empty) is unknown, not valid."""
        path = tmp_path / "history.jsonl"
        path.write_text("")
        assert linearizable(path).status == "unknown"

    def test_unknown_when_the_search_times_out(self, tmp_path: Path) -> None:
        """Past its timeout the check says unknown rather than guess."""
        gen = generate(1700, clients=50, keys=1, seed=1)  # ~45 in flight on one register: exponential
        path = tmp_path / "history.jsonl"
        path.write_text("".join(json.dumps({**r, "key": "k1"}) + "\n" for r in gen.records))
        v = linearizable(path, timeout=0.3)
        assert v.status == "unknown" and "timed out" in v.summary


class TestNoLostWrites:
    def test_all_acknowledged_writes_survive(self, tmp_path: Path) -> None:
        """The final reads see the last acknowledged write of each key (the unknown one counts too)."""
        v = no_lost_writes(history(tmp_path, GOOD))
        assert v.status == "valid", v.summary
        assert v.details["final"] == {"k1": "b", "k2": "c"}
        assert v.details["acknowledged"] == 2

    def test_final_read_of_an_older_value_loses_the_later_write(self, tmp_path: Path) -> None:
        """The final read returns a, whose write ended before the acknowledged b began: b was lost."""
        v = no_lost_writes(history(tmp_path, """
            p0 invoke write k1 a
            p0 ok write k1 a
            p1 invoke write k1 b
            p1 ok write k1 b
            p9 invoke read k1
            p9 ok read k1 a
        """))
        assert v.status == "invalid"
        assert [item["value"] for item in v.details["lost"]] == ["b"]
        assert v.ops == [3, 5]
        assert "p1 write \"k1\" \"b\" ok" in v.summary

    @pytest.mark.parametrize("timeline", [
        # a and b overlapped, so a may have been applied after b
        "p0 invoke write k1 a / p1 invoke write k1 b / p1 ok write k1 b / p0 ok write k1 a",
        # an unacknowledged write invoked after b ended may have landed last
        "p1 invoke write k1 b / p1 ok write k1 b / p0 invoke write k1 a / p0 info write k1 a",
    ], ids=["concurrent", "unknown-later"])
    def test_a_write_that_may_come_later_supersedes(self, tmp_path: Path, timeline: str) -> None:
        """The final read returns a, whose write may be ordered after the acknowledged b: nothing lost."""
        text = "\n".join([*timeline.split(" / "), "p9 invoke read k1", "p9 ok read k1 a"])
        v = no_lost_writes(history(tmp_path, text))
        assert v.status == "valid", v.summary

    def test_absent_after_an_acknowledged_write_is_a_loss(self, tmp_path: Path) -> None:
        """The key reads as absent although a write to it was acknowledged."""
        v = no_lost_writes(history(tmp_path, """
            p0 invoke write k1 a
            p0 ok write k1 a
            p9 invoke read k1
            p9 ok read k1 nil
        """))
        assert v.status == "invalid"
        assert v.details["lost"][0]["why"] == "the key is absent"

    def test_acknowledged_cas_counts_and_failed_ones_do_not(self, tmp_path: Path) -> None:
        """A successful cas is an acknowledged write; a failed cas of the value read is no excuse for it."""
        v = no_lost_writes(history(tmp_path, """
            p0 invoke write k1 a
            p0 ok write k1 a
            p1 invoke cas k1 a,b
            p1 ok cas k1 a,b
            p2 invoke cas k1 x,a
            p2 fail cas k1 x,a
            p9 invoke read k1
            p9 ok read k1 a
        """))
        assert v.status == "invalid"
        assert [item["value"] for item in v.details["lost"]] == ["b"]

    def test_a_key_never_read_back_is_unknown(self, tmp_path: Path) -> None:
        """Acknowledged writes with no final read cannot be vouched for."""
        v = no_lost_writes(history(tmp_path, """
            p0 invoke write k1 a
            p0 ok write k1 a
            p9 invoke read k1
            p9 fail read k1
        """))
        assert v.status == "unknown"
        assert v.details["unread"] == ["k1"]

    def test_a_read_overlapping_a_write_is_not_final(self, tmp_path: Path) -> None:
        """The last read began before a write ended: it is not a final read, so the verdict is unknown."""
        v = no_lost_writes(history(tmp_path, """
            p0 invoke write k1 a
            p9 invoke read k1
            p9 ok read k1 nil
            p0 ok write k1 a
        """))
        assert v.status == "unknown"


class TestAvailability:
    TIMELINE = """
        p0 invoke write k1 a @0.5
        p0 ok write k1 a @0.6
        p0 invoke write k1 b @1.5
        p0 info write k1 b @2.5
        p0 invoke read k1 @2.6
        p0 fail read k1 @3.6
        p0 invoke read k1 @3.7
        p0 ok read k1 b @3.8
    """

    def test_ratio_per_window(self, tmp_path: Path) -> None:
        """Operations invoked in a window count there: 1 of 1 before the fault, 0 of 2 during, 1 of 1 after."""
        path = history(tmp_path, self.TIMELINE)
        v = availability(path, [("before", 0.0, 1.0, 0.9), ("after", 3.0, 4.0, 0.9)])
        assert v.status == "valid", v.summary
        v = availability(path, [("before", 0.0, 1.0, 0.9), ("partition", 1.0, 3.0, 0.5)])
        assert v.status == "invalid"
        assert "partition: 0% of 2 ops ok" in v.summary
        assert v.ops == [3, 5]
        assert [w["ratio"] for w in v.details["windows"]] == [1.0, 0.0]

    def test_an_empty_window_is_unknown(self, tmp_path: Path) -> None:
        path = history(tmp_path, self.TIMELINE)
        assert availability(path, [("later", 10.0, 11.0, 0.5)]).status == "unknown"


def role(t: float, node: str, role_name: str, term: int) -> dict[str, Any]:
    return {"time": t, "source": node, "kind": "role", "role": role_name, "term": term}


ELECTIONS = [
    role(100.0, "n1", "candidate", 1), role(100.1, "n1", "leader", 1), role(100.1, "n2", "follower", 1),
    {"time": 103.0, "source": "lab", "kind": "crash", "node": "n1"},
    role(103.4, "n2", "candidate", 2), role(103.5, "n2", "leader", 2),
]


class TestElectionSafety:
    def test_one_leader_per_term(self) -> None:
        v = election_safety(ELECTIONS, RAFT)
        assert v.status == "valid", v.summary
        assert v.details["terms"] == {"1": ["n1"], "2": ["n2"]}

    def test_two_leaders_in_one_term(self) -> None:
        """n3 also became leader in term 2: a split brain, named with its term and nodes."""
        v = election_safety([*ELECTIONS, role(103.6, "n3", "leader", 2)], RAFT)
        assert v.status == "invalid"
        assert v.summary == "2 nodes led in term 2: n2, n3"
        assert v.details["violations"] == [{"term": 2, "nodes": ["n2", "n3"]}]

    def test_the_same_node_twice_is_fine_and_roles_come_from_the_spec(self) -> None:
        """A restarted leader re-announcing its term is one node; bully's coordinator is what leads there."""
        again = [role(1.0, "n5", "coordinator", 3), role(2.0, "n5", "coordinator", 3), role(2.5, "n4", "member", 3)]
        assert election_safety(again, BULLY).status == "valid"
        split = [*again, role(3.0, "n4", "coordinator", 3)]
        v = election_safety(split, BULLY)
        assert v.status == "invalid" and "epoch 3" in v.summary


class TestLeaderWithin:
    def test_a_new_leader_in_time(self) -> None:
        v = leader_within(ELECTIONS, RAFT, since=103.0, bound=1.0)
        assert v.status == "valid", v.summary
        assert v.details["node"] == "n2" and v.details["delay"] == pytest.approx(0.5)

    def test_a_new_leader_too_late(self) -> None:
        v = leader_within(ELECTIONS, RAFT, since=103.0, bound=0.3)
        assert v.status == "invalid"
        assert "0.50 s" in v.summary

    def test_a_leader_that_never_stopped_counts(self) -> None:
        """After a heal that did not disturb the leader, it still leads: delay 0."""
        v = leader_within(ELECTIONS, RAFT, since=104.0, bound=1.0)
        assert v.status == "valid" and v.details["node"] == "n2" and v.details["delay"] == 0.0

    def test_a_later_election_does_not_hide_a_leader_that_was_there(self) -> None:
        """n2 led through the window; an election long after it does not make the window leaderless."""
        later = [*ELECTIONS, role(110.0, "n2", "follower", 3), role(110.2, "n3", "leader", 3)]
        v = leader_within(later, RAFT, since=104.0, bound=1.0)
        assert v.status == "valid" and v.details["node"] == "n2"

    def test_a_crashed_or_demoted_leader_does_not(self) -> None:
        """n1 led, then crashed; nobody leads within the bound after the mark."""
        v = leader_within(ELECTIONS[:4], RAFT, since=103.2, bound=1.0)
        assert v.status == "invalid"
        demoted = [*ELECTIONS, role(105.0, "n2", "follower", 3)]
        assert leader_within(demoted, RAFT, since=104.0, bound=2.0).status == "invalid"


def bully_status(role_name: str, leader: str) -> dict[str, Any]:
    return {"role": role_name, "term": 4, "leader": leader, "bully": {"coordinator": leader}}


class TestOneCoordinator:
    def test_one_coordinator_all_agree(self) -> None:
        statuses = {"n1": bully_status("member", "n3"), "n2": bully_status("member", "n3"),
                    "n3": bully_status("coordinator", "n3")}
        v = one_coordinator(statuses, BULLY)
        assert v.status == "valid", v.summary

    def test_two_coordinators(self) -> None:
        statuses = {"n1": bully_status("coordinator", "n1"), "n3": bully_status("coordinator", "n3")}
        v = one_coordinator(statuses, BULLY)
        assert v.status == "invalid" and v.summary == "2 coordinators among the live nodes: n1, n3"

    def test_a_node_following_someone_else(self) -> None:
        statuses = {"n1": bully_status("member", "n2"), "n3": bully_status("coordinator", "n3")}
        v = one_coordinator(statuses, BULLY)
        assert v.status == "invalid" and "n1 follows n2" in v.summary

    def test_cluster_to_dict_entries_and_crashed_nodes(self) -> None:
        """Nodes shaped as in ``status --json``: a crashed node is not live and need not agree."""
        nodes = {"n1": {"state": "crashed", "status": None},
                 "n2": {"state": "up", "status": bully_status("member", "n3")},
                 "n3": {"state": "up", "status": bully_status("coordinator", "n3")}}
        v = one_coordinator(nodes, BULLY)
        assert v.status == "valid", v.summary
        assert v.details["live"] == ["n2", "n3"]
        nodes["n3"] = {"state": "crashed", "status": None}
        assert one_coordinator(nodes, BULLY).status == "invalid"


def report(instance: str, decisions: dict[str, str], order: str = "attack", traitors: tuple[str, ...] = ()) -> AgreementReport:
    loyal = {n: v for n, v in decisions.items() if n not in traitors}
    commander = instance.partition(":")[0]
    return AgreementReport(instance=instance, commander=commander, order=order, protocol="om", m=1,
                           traitors=list(traitors), decisions=decisions, ic1=len(set(loyal.values())) <= 1,
                           ic2=commander in traitors or all(v == order for v in loyal.values()), messages=9, rounds=2)


class TestAgreement:
    def test_every_order_agreed(self) -> None:
        reports = [report("n1:1", {"n2": "attack", "n3": "attack", "n4": "retreat"}, traitors=("n4",))]
        v = agreement(reports)
        assert v.status == "valid", v.summary
        assert v.details["orders"][0]["instance"] == "n1:1"

    def test_a_broken_agreement(self) -> None:
        reports = [report("n1:1", {"n2": "attack", "n3": "attack"}),
                   report("n1:2", {"n2": "attack", "n3": "retreat"}, order="retreat")]
        v = agreement(reports)
        assert v.status == "invalid"
        assert v.summary.startswith("IC1 and IC2 violated in n1:2")

    def test_no_orders_is_unknown(self) -> None:
        assert agreement([]).status == "unknown"


def V(status: str) -> Verdict:
    return Verdict("x", status, status)


class TestOverall:
    @pytest.mark.parametrize(("statuses", "expect", "want"), [
        (["valid", "valid", "skipped"], "valid", ("valid", 0)),
        (["valid", "invalid", "unknown"], "valid", ("invalid", 1)),
        (["valid", "unknown"], "valid", ("unknown", 2)),
        (["skipped"], "valid", ("unknown", 2)),
        (["valid", "invalid"], "violation", ("invalid", 0)),
        (["valid", "valid"], "violation", ("valid", 1)),
        (["valid", "unknown"], "violation", ("unknown", 2)),
    ])
    def test_status_and_exit_code(self, statuses: list[str], expect: str, want: tuple[str, int]) -> None:
        assert overall([V(s) for s in statuses], expect) == want

    def test_bad_expect_and_bad_status(self) -> None:
        with pytest.raises(LabError):
            overall([], "maybe")
        with pytest.raises(ValueError):
            V("fine")

"""The checks of Maelstrom's echo, broadcast and g-counter workloads, on hand-written histories.

A history is a timeline, one event a line in real-time order: ``p0 invoke broadcast _ 1`` /
``p0 ok broadcast _ 1`` / ``p3 ok read n1 [1, 2]``: process, type, f, key (``_`` for none),
then the value as JSON. Times are 100 ms apart unless a line ends in ``@<seconds>``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaoslab.chaos.verdicts import all_delivered, counter_sum, echoes_match


def history(tmp_path: Path, text: str) -> Path:
    lines = []
    for i, line in enumerate(text.strip().splitlines()):
        at = i * 0.1
        line = line.strip()
        if " @" in line:
            line, _, when = line.rpartition(" @")
            at = float(when)
        process, kind, f, key, *rest = line.split(maxsplit=4)
        record = {"process": int(process[1:]), "type": kind, "f": f, "key": None if key == "_" else key,
                  "value": json.loads(rest[0]) if rest else None, "time": int(at * 1e9)}
        lines.append(json.dumps(record))
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


class TestEchoesMatch:
    def test_echoes_that_came_back_as_sent(self, tmp_path: Path) -> None:
        """Every answered echo matches; an unanswered one (a node down) is counted, not judged."""
        v = echoes_match(history(tmp_path, """
            p0 invoke echo _ "a-1"
            p1 invoke echo _ "b-1"
            p0 ok echo _ "a-1"
            p1 fail echo _ null
            p1 invoke echo _ "b-2"
            p1 ok echo _ "b-2"
        """))
        assert v.status == "valid", v.summary
        assert v.summary == "all 2 answered echoes came back as sent (1 unanswered)"
        assert (v.details["answered"], v.details["unanswered"]) == (2, 1)

    def test_a_wrong_echo_is_caught(self, tmp_path: Path) -> None:
        """An echo that came back changed, or with no echo at all: invalid, with the invoke lines."""
        v = echoes_match(history(tmp_path, """
            p0 invoke echo _ "a-1"
            p0 ok echo _ "a-1"
            p0 invoke echo _ "a-2"
            p0 ok echo _ "a-"
            p1 invoke echo _ "b-1"
            p1 ok echo _ null
        """))
        assert v.status == "invalid"
        assert v.summary == '2 of 3 answered echoes came back wrong: sent "a-2", got "a-" (line 3) (and 1 more)'
        assert v.ops == [3, 5]
        assert [(w["sent"], w["returned"]) for w in v.details["wrong"]] == [("a-2", "a-"), ("b-1", None)]

    def test_nothing_answered_is_unknown(self, tmp_path: Path) -> None:
        v = echoes_match(history(tmp_path, 'p0 invoke echo _ "a"\np0 fail echo _ null\n'))
        assert (v.status, v.summary) == ("unknown", "no echo was answered (1 sent)")

    def test_an_unreadable_history_is_unknown(self, tmp_path: Path) -> None:
        path = tmp_path / "history.jsonl"
        path.write_text("")
        assert echoes_match(path).status == "unknown"


# n1 and n2 hold every acknowledged message in the end; 3 is unknown (info) and reaches n1 only.
DELIVERED = """
    p0 invoke broadcast _ 1 @0.0
    p0 ok broadcast _ 1 @0.1
    p1 invoke read n2 @0.2
    p1 ok read n2 [] @0.3
    p0 invoke read n1 @0.4
    p0 ok read n1 [1] @0.5
    p1 invoke read n2 @0.5
    p1 ok read n2 [1] @0.6
    p0 invoke broadcast _ 2 @1.0
    p1 invoke read n2 @1.05
    p0 ok broadcast _ 2 @1.1
    p1 ok read n2 [] @1.2
    p0 invoke broadcast _ 3 @1.3
    p0 info broadcast _ 3 @1.4
    p2 invoke read n1 @2.0
    p2 ok read n1 [1, 2, 3] @2.1
    p3 invoke read n2 @2.2
    p3 ok read n2 [1, 2] @2.5
"""


class TestAllDelivered:
    def test_every_acknowledged_message_on_every_node(self, tmp_path: Path) -> None:
        """Both final reads hold 1 and 2; 3's outcome is unknown, so n2 may lack it."""
        v = all_delivered(history(tmp_path, DELIVERED))
        assert v.status == "valid", v.summary
        assert (v.details["acknowledged"], v.details["unknown"], v.details["final"]) == (2, 1, {"n1": 3, "n2": 2})
        assert v.summary.startswith("all 2 acknowledged messages reached all 2 nodes; delivery latency")

    def test_latency_counts_from_the_broadcast_to_the_read_after_which_it_stays(self, tmp_path: Path) -> None:
        """Message 1: n1 holds it from its read ending at 0.5 s; n2 read it at 0.6 s but lost it at 1.2 s,
        so it holds it for good only from the read ending at 2.5 s: 2.5 s, the larger. Message 2 (sent at
        1.0 s): n1 from 2.1 s, n2 from 2.5 s: 1.5 s."""
        v = all_delivered(history(tmp_path, DELIVERED))
        assert v.details["latency"] == {"count": 2, "p50_ms": 1500.0, "p95_ms": 2500.0, "max_ms": 2500.0}
        assert v.summary.endswith("delivery latency p50 1.50 s, p95 2.50 s, max 2.50 s over 2 messages")

    def test_a_lost_message_is_listed_per_node(self, tmp_path: Path) -> None:
        """n2's final read lacks the acknowledged 2: invalid, naming the node, the broadcast and the read."""
        text = DELIVERED.replace("p3 ok read n2 [1, 2] @2.5", "p3 ok read n2 [1] @2.5")
        v = all_delivered(history(tmp_path, text))
        assert v.status == "invalid"
        assert v.details["lost"] == {"n2": [2]} and v.details["lost_count"] == 1
        assert v.summary == ("1 acknowledged message lost (n2 lacks 1; e.g. 2, broadcast on line 9, "
                             "not in n2's final read on line 17)")
        assert v.ops == [9, 17]
        # the latency of what did arrive everywhere: message 1 only
        assert v.details["latency"] == {"count": 1, "p50_ms": 2500.0, "p95_ms": 2500.0, "max_ms": 2500.0}

    def test_a_message_nobody_broadcast_is_a_phantom(self, tmp_path: Path) -> None:
        v = all_delivered(history(tmp_path, DELIVERED.replace("[1, 2, 3] @2.1", "[1, 2, 3, 99] @2.1")))
        assert v.status == "invalid"
        assert v.details["phantom"] == [{"node": "n1", "line": 15, "message": 99, "why": "never broadcast"}]

    def test_a_read_before_the_broadcast_began_is_a_phantom(self, tmp_path: Path) -> None:
        """n2 returned 2 in a read that ended before 2's broadcast was invoked."""
        v = all_delivered(history(tmp_path, DELIVERED.replace("p1 ok read n2 [] @0.3", "p1 ok read n2 [2] @0.3")))
        assert v.status == "invalid"
        assert v.details["phantom"][0]["why"] == "read before its broadcast began (line 9)"
        assert "phantom" in v.summary and 3 in v.ops

    def test_a_read_that_is_no_list_is_invalid(self, tmp_path: Path) -> None:
        v = all_delivered(history(tmp_path, DELIVERED.replace("p1 ok read n2 [1] @0.6", 'p1 ok read n2 "1" @0.6')))
        assert v.status == "invalid" and v.details["malformed"] == [{"node": "n2", "line": 7, "returned": "1"}]

    def test_a_node_without_a_final_read_is_unknown(self, tmp_path: Path) -> None:
        """n2's last read began before the broadcast of 2 ended (and its final read failed): unchecked."""
        text = DELIVERED.replace("p3 ok read n2 [1, 2] @2.5", "p3 fail read n2 null @2.5")
        v = all_delivered(history(tmp_path, text))
        assert (v.status, v.summary) == ("unknown", "no final read of n2: its delivery is unchecked")
        assert v.details["unread"] == ["n2"]


# Adds of 1 and 2 acknowledged, 4 unknown, 8 failed: final reads must be in [3, 7].
COUNTER = """
    p0 invoke add _ 1 @0.0
    p0 ok add _ 1 @0.1
    p1 invoke read n1 @0.1
    p1 ok read n1 1 @0.2
    p0 invoke add _ 2 @0.3
    p0 ok add _ 2 @0.4
    p1 invoke add _ 4 @0.5
    p1 info add _ 4 @0.6
    p0 invoke add _ 8 @0.7
    p0 fail add _ 8 @0.8
    p2 invoke read n1 @1.0
    p2 ok read n1 3 @1.1
    p3 invoke read n2 @1.2
    p3 ok read n2 7 @1.3
"""


class TestCounterSum:
    def test_final_reads_within_the_adds(self, tmp_path: Path) -> None:
        """n1 missed the unknown add, n2 saw it: both allowed; the failed 8 counts for nothing."""
        v = counter_sum(history(tmp_path, COUNTER))
        assert v.status == "valid", v.summary
        assert v.details["bounds"] == [3, 7] and v.details["final"] == {"n1": 3, "n2": 7}
        assert v.details["agree"] is False and v.details["failed_adds"] == 1
        assert v.summary == ("final reads n1 3, n2 7, within [3, 7] (the acknowledged adds' sum, plus the unknown "
                             "adds') (4 adds); no read above the adds before it")

    def test_agreeing_on_the_acknowledged_sum(self, tmp_path: Path) -> None:
        text = COUNTER.replace("p1 info add _ 4 @0.6", "p1 fail add _ 4 @0.6").replace("read n2 7", "read n2 3")
        v = counter_sum(history(tmp_path, text))
        assert v.summary == "all 2 nodes read 3, the acknowledged adds' sum (4 adds); no read above the adds before it"

    @pytest.mark.parametrize("final", [2, 8, 11])
    def test_a_final_read_outside_the_bounds(self, tmp_path: Path, final: int) -> None:
        """Below the acknowledged sum (an add lost), or above what the adds allow (one applied twice,
        or the failed one applied)."""
        v = counter_sum(history(tmp_path, COUNTER.replace("read n2 7", f"read n2 {final}")))
        assert v.status == "invalid"
        assert v.details["outside"] == [{"node": "n2", "line": 13, "value": final}]
        assert v.summary.startswith(f"final reads not within [3, 7] (the acknowledged adds' sum, plus the unknown "
                                    f"adds'): n2 read {final}")

    def test_a_read_above_every_add_before_it(self, tmp_path: Path) -> None:
        """Read 3 before the add of 2 was invoked: only 1 had been added by then (a node making counts up)."""
        v = counter_sum(history(tmp_path, COUNTER.replace("p1 ok read n1 1 @0.2", "p1 ok read n1 3 @0.2")))
        assert v.status == "invalid"
        assert v.details["too_high"] == [{"node": "n1", "line": 3, "value": 3, "most": 1}]
        assert v.ops == [3]

    def test_a_read_that_is_no_count(self, tmp_path: Path) -> None:
        v = counter_sum(history(tmp_path, COUNTER.replace("p1 ok read n1 1 @0.2", 'p1 ok read n1 "1" @0.2')))
        assert v.status == "invalid" and v.details["malformed"] == [{"node": "n1", "line": 3, "returned": "1"}]

    def test_a_node_without_a_final_read_is_unknown(self, tmp_path: Path) -> None:
        """n2 was read (so it is a node of the run) but never answered after the adds: unchecked."""
        v = counter_sum(history(tmp_path, COUNTER.replace("p3 ok read n2 7 @1.3", "p3 fail read n2 null @1.3")))
        assert (v.status, v.summary) == ("unknown", "no final read of n2: the sum is unchecked")

    def test_an_add_without_a_whole_delta_is_unknown(self, tmp_path: Path) -> None:
        v = counter_sum(history(tmp_path, COUNTER.replace("p0 invoke add _ 2 @0.3", 'p0 invoke add _ "2" @0.3')
                                .replace("p0 ok add _ 2 @0.4", 'p0 ok add _ "2" @0.4').replace("read n1 3", "read n1 1")
                                .replace("read n2 7", "read n2 5")))
        assert v.status == "unknown" and "without a whole, non-negative delta" in v.summary

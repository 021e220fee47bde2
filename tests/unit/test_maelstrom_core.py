"""The Maelstrom host core: protocol lines in and out, peer messages between, errors as one line."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from chaoslab.algorithms import get_algorithm
from chaoslab.algorithms.maelstrom.core import MaelstromHost
from chaoslab.algorithms.maelstrom.messages import FromProgram, MaelstromMessage, ToProgram
from chaoslab.wire.codec import Codec

IDS = ["n1", "n2", "n3"]


def host(node: str = "n2") -> MaelstromHost:
    return MaelstromHost(node, IDS, {"client_timeout_ms": 1000}, random.Random(0))


def to_program(out: Any, node: str = "n2") -> list[dict[str, Any]]:
    """The lines an output gives the program (messages the core addresses to its own node)."""
    return [json.loads(m.line) for dst, m in out.messages if dst == node and isinstance(m, ToProgram)]


def line(src: str, dest: str, **body: Any) -> FromProgram:
    return FromProgram(json.dumps({"src": src, "dest": dest, "body": body}))


def inited(node: str = "n2") -> MaelstromHost:
    h = host(node)
    init = to_program(h.start(0.0), node)[0]
    h.step(node, line(node, "c0", type="init_ok", in_reply_to=init["body"]["msg_id"]), 0.0)
    assert h.inited
    return h


class TestTranslation:
    def test_start_sends_init_with_node_id_and_node_ids(self) -> None:
        [init] = to_program(host().start(0.0))
        assert init["src"] == "c0" and init["dest"] == "n2"
        assert init["body"]["type"] == "init" and init["body"]["node_id"] == "n2" and init["body"]["node_ids"] == IDS
        assert isinstance(init["body"]["msg_id"], int)

    def test_init_ok_makes_it_ready_with_an_event(self) -> None:
        h = host()
        to_program(h.start(0.0))
        out = h.step("n2", line("n2", "c0", type="init_ok", in_reply_to=1), 0.0)
        assert h.inited and h.status(0.0)["maelstrom"]["inited"] and [e.kind for e in out.events] == ["init"]
        assert h.ready and h.status(0.0)["maelstrom"]["ready"] and h.status(0.0)["maelstrom"]["topology"] is None

    def test_a_message_to_a_peer_leaves_as_a_peer_message(self) -> None:
        h = inited()
        out = h.step("n2", line("n2", "n3", type="gossip", msg_id=4, value=7), 1.0)
        assert out.messages == [("n3", MaelstromMessage({"type": "gossip", "msg_id": 4, "value": 7}))]
        assert h.status(1.0)["maelstrom"]["sent_by_type"] == {"gossip": 1}

    def test_a_peer_message_reaches_the_program_with_src_and_dest(self) -> None:
        h = inited()
        out = h.step("n1", MaelstromMessage({"type": "gossip", "value": 7}), 1.0)
        assert to_program(out) == [{"src": "n1", "dest": "n2", "body": {"type": "gossip", "value": 7}}]
        assert h.status(1.0)["maelstrom"]["received_by_type"] == {"gossip": 1}

    def test_a_peer_message_crosses_the_wire_codec(self) -> None:
        codec = Codec(get_algorithm("maelstrom").message_types)
        message = MaelstromMessage({"type": "cas", "key": 1, "from": None, "to": [1, "x"]})
        assert codec.decode(codec.encode("n1", "n2", message, 1)) == message

    def test_a_client_command_goes_to_the_program_and_its_reply_answers_it(self) -> None:
        h = inited()
        out = h.command(42, "client", {"body": {"type": "read", "key": 3, "msg_id": 999}, "client": "c7"}, 1.0)
        [request] = to_program(out)
        assert request["src"] == "c7" and request["body"]["type"] == "read" and request["body"]["msg_id"] != 999
        reply = h.step("n2", line("n2", "c7", type="read_ok", value=5, in_reply_to=request["body"]["msg_id"]), 1.1)
        assert reply.replies == [(42, {"type": "read_ok", "value": 5, "in_reply_to": request["body"]["msg_id"]})]
        assert h.status(1.1)["maelstrom"]["pending_clients"] == 0

    def test_a_client_nobody_waits_for_is_forgotten_after_its_timeout(self) -> None:
        h = inited()
        h.command(1, "client", {"body": {"type": "read", "key": 3}}, 1.0)
        assert h.next_deadline() == pytest.approx(2.0)
        h.tick(2.0)
        assert h.status(2.0)["maelstrom"]["pending_clients"] == 0 and h.next_deadline() == float("inf")
        late = h.step("n2", line("n2", "c1", type="read_ok", in_reply_to=2), 2.5)
        assert not late.replies and not late.events  # a late reply to a client is no protocol error

    @pytest.mark.parametrize(("name", "args", "why"), [
        ("frobnicate", {}, "unknown command"),
        ("client", {"body": "read"}, "JSON object"),
        ("client", {"body": {"key": 1}}, "type"),
        ("client", {"body": {"type": "read"}, "client": "n1"}, "not a client id"),
    ])
    def test_bad_commands_are_refused_with_why(self, name: str, args: dict[str, Any], why: str) -> None:
        with pytest.raises(ValueError, match=why):
            inited().command(1, name, args, 0.0)


class TestProtocolErrors:
    @pytest.mark.parametrize(("text", "why"), [
        ("hello", "not JSON: 'hello'"),
        ("[1, 2]", "not a JSON object"),
        ('{"src": "n2", "body": {"type": "x"}}', "without dest"),
        ('{"src": "n2", "dest": "n1"}', "without a body object"),
        ('{"src": "n2", "dest": "n1", "body": {"msg_id": 1}}', "whose body has no type"),
        ('{"src": "n2", "dest": "n99", "body": {"type": "x"}}', "unknown dest 'n99'"),
    ])
    def test_before_init_ok_an_error_is_the_failure_with_the_line(self, text: str, why: str) -> None:
        h = host()
        h.start(0.0)
        out = h.step("n2", FromProgram(text), 0.0)
        assert h.failure is not None and why in h.failure and "\n" not in h.failure
        assert [e.kind for e in out.events] == ["protocol_error"] and not out.messages

    def test_after_init_an_error_is_an_event_and_the_line_is_dropped(self) -> None:
        h = inited()
        out = h.step("n2", FromProgram("oops"), 1.0)
        assert h.failure is None and h.errors == 1
        assert out.events[0].data["error"] == "the program wrote a line that is not JSON: 'oops'"
        assert h.status(1.0)["maelstrom"]["last_error"] == out.events[0].data["error"]

    def test_an_exit_is_reported_with_its_code(self) -> None:
        h = inited()
        out = h.step("n2", FromProgram("", exited=3), 1.0)
        assert [e.kind for e in out.events] == ["program_exit"]
        assert out.events[0].data["error"] == "the program exited with code 3"

    def test_a_long_offending_line_is_cut(self) -> None:
        h = host()
        h.step("n2", FromProgram("x" * 10_000), 0.0)
        assert h.failure is not None and len(h.failure) < 300

    def test_lines_from_anyone_but_its_own_program_are_ignored(self) -> None:
        h = host()
        assert not h.step("n1", FromProgram("garbage"), 0.0).events and h.failure is None


class TestSpec:
    def test_config_needs_bin_and_knows_its_keys(self) -> None:
        check = get_algorithm("maelstrom").check_config
        check({"bin": "./node.py", "args": ["-v"]})
        check({"bin": "./node.py", "workload": "broadcast"})
        check({"bin": "./node.py", "workload": "broadcast", "topology": "tree3"})
        for bad, why in [({}, "bin is required"), ({"bin": "x", "args": "-v"}, "args must be a list"),
                         ({"bin": "x", "topology": "ring"}, "topology must be one of grid, line, total, tree"),
                         ({"bin": "x", "topology": ["n2"]}, "topology must be one of"),
                         ({"bin": "x", "workloads": "lin-kv"}, "unknown key"),
                         ({"bin": "x", "workload": "lin_kv"}, "workload must be one of lin-kv, echo")]:
            with pytest.raises(ValueError, match=why):
                check(bad)

    def test_ready_when_every_program_is(self) -> None:
        """Ready is the core's (init_ok, and topology_ok for broadcast), not init_ok alone."""
        spec = get_algorithm("maelstrom")
        assert spec.is_ready([{"maelstrom": {"inited": True, "ready": True}}] * 2)
        assert not spec.is_ready([{"maelstrom": {"inited": True, "ready": True}}, {"maelstrom": {"inited": True, "ready": False}}])


class TestRates:
    def test_rates_by_type_decay_over_the_window(self) -> None:
        h = inited()
        for i in range(10):
            h.step("n2", line("n2", "n3", type="gossip"), 10.0 + i * 0.1)
            h.step("n1", MaelstromMessage({"type": "ack"}), 10.0 + i * 0.1)
        now = h.status(11.0)["maelstrom"]
        later = h.status(21.0)["maelstrom"]
        assert 1.0 < now["rate_out"]["gossip"] <= 2.0 and now["rate_in"]["ack"] == now["rate_out"]["gossip"]
        assert later["rate_out"]["gossip"] < now["rate_out"]["gossip"] / 5  # two time constants later
        assert later["sent_by_type"] == {"gossip": 10} and later["received_by_type"] == {"ack": 10}

    def test_the_panel_shows_each_nodes_types(self) -> None:
        from rich.console import Console

        from chaoslab.algorithms.maelstrom.adapters.panel import maelstrom_panel

        h = inited()
        h.step("n2", line("n2", "n3", type="gossip"), 1.0)
        snapshot = {"nodes": [{"id": "n2", "status": h.status(1.0)}, {"id": "n3", "status": {}}]}
        console = Console(width=80, record=True)
        console.print(maelstrom_panel(snapshot, width=80))
        text = console.export_text()
        assert "gossip" in text and "n2" in text and "n3" in text and "messages by type" in text

"""The broadcast workload's topology: Maelstrom's neighbour maps, and the host's topology handshake."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from rich.console import Console

from chaoslab.algorithms.maelstrom.adapters.panel import maelstrom_panel, neighbours_text
from chaoslab.algorithms.maelstrom.core import MaelstromHost
from chaoslab.algorithms.maelstrom.messages import FromProgram
from chaoslab.algorithms.maelstrom.topology import TOPOLOGIES, neighbours


def ids(n: int) -> list[str]:
    return [f"n{i}" for i in range(1, n + 1)]


def maelstrom_tree(branch: int, nodes: list[str]) -> dict[str, list[str]]:
    """Maelstrom's own construction (``seq->tree`` and its zipper walk), followed step by step:
    cut the nodes into tiers of 1, b, b², ...; from the bottom up, give each parent of a tier
    the next run of b children; then each node's neighbours are its parent and its children."""
    tiers, rest, size = [], list(nodes), 1
    while rest:
        tiers.append(rest[:size])
        rest, size = rest[size:], size * branch
    subtrees: list[list[Any]] = []  # the tier below, as [node, *child subtrees]
    for tier in reversed(tiers):
        chunks = [subtrees[k:k + branch] for k in range(0, len(subtrees), branch)]
        subtrees = [[parent, *(chunks[k] if k < len(chunks) else [])] for k, parent in enumerate(tier)]
    result: dict[str, list[str]] = {}

    def walk(tree: list[Any], parent: list[str]) -> None:
        me, children = tree[0], tree[1:]
        result[me] = parent + [child[0] for child in children]
        for child in children:
            walk(child, [me])

    walk(subtrees[0], [])
    return result


class TestNeighbourMaps:
    def test_grid_is_maelstroms_rows_of_ceil_sqrt_n(self) -> None:
        """Five nodes: rows n1 n2 n3 / n4 n5; neighbours below, above, right, left, as Maelstrom lists them."""
        assert neighbours("grid", ids(5)) == {
            "n1": ["n4", "n2"], "n2": ["n5", "n3", "n1"], "n3": ["n2"], "n4": ["n1", "n5"], "n5": ["n2", "n4"],
        }

    def test_a_full_grid_has_at_most_four_neighbours(self) -> None:
        grid = neighbours("grid", ids(9))
        assert grid["n5"] == ["n8", "n2", "n6", "n4"] and max(len(v) for v in grid.values()) == 4
        assert grid["n1"] == ["n4", "n2"] and grid["n9"] == ["n6", "n8"]

    def test_line_and_total(self) -> None:
        assert neighbours("line", ids(4)) == {"n1": ["n2"], "n2": ["n1", "n3"], "n3": ["n2", "n4"], "n4": ["n3"]}
        assert neighbours("total", ids(3)) == {"n1": ["n2", "n3"], "n2": ["n1", "n3"], "n3": ["n1", "n2"]}

    def test_tree_is_binary_parent_first(self) -> None:
        assert neighbours("tree", ids(6)) == {
            "n1": ["n2", "n3"], "n2": ["n1", "n4", "n5"], "n3": ["n1", "n6"], "n4": ["n2"], "n5": ["n2"], "n6": ["n3"],
        }

    @pytest.mark.parametrize("branch", [2, 3, 4])
    def test_trees_match_maelstroms_tier_construction(self, branch: int) -> None:
        """The heap layout we use gives what Maelstrom's tiers and zipper give, for every size up to 40."""
        for n in range(1, 41):
            assert neighbours(f"tree{branch}", ids(n)) == maelstrom_tree(branch, ids(n)), n

    @pytest.mark.parametrize("kind", TOPOLOGIES)
    def test_every_map_is_symmetric_connected_and_names_every_node(self, kind: str) -> None:
        """A broadcast that gossips to its neighbours reaches everyone, whatever the size."""
        for n in range(1, 30):
            nodes = ids(n)
            topo = neighbours(kind, nodes)
            assert sorted(topo) == sorted(nodes)
            assert all(a in topo[b] and a != b for a in nodes for b in topo[a]), (kind, n)
            seen, todo = {"n1"}, ["n1"]
            while todo:
                for m in topo[todo.pop()]:
                    if m not in seen:
                        seen.add(m)
                        todo.append(m)
            assert seen == set(nodes), (kind, n)

    def test_an_unknown_kind_is_refused(self) -> None:
        with pytest.raises(ValueError, match="topology must be one of grid"):
            neighbours("ring", ids(3))


NODES = ids(5)


def host(node: str = "n2", **config: Any) -> MaelstromHost:
    return MaelstromHost(node, NODES, {"workload": "broadcast", **config}, random.Random(0))


def lines_to_program(out: Any, node: str = "n2") -> list[dict[str, Any]]:
    return [json.loads(m.line) for dst, m in out.messages if dst == node]


def answer(h: MaelstromHost, node: str = "n2", **body: Any) -> Any:
    return h.step(node, FromProgram(json.dumps({"src": node, "dest": "c0", "body": body})), 1.0)


def after_init(h: MaelstromHost) -> dict[str, Any]:
    """Start ``h``, answer its init; the one line it then sends (the topology)."""
    [init] = lines_to_program(h.start(0.0), h.node_id)
    out = answer(h, h.node_id, type="init_ok", in_reply_to=init["body"]["msg_id"])
    [topology] = lines_to_program(out, h.node_id)
    return topology


class TestTopologyHandshake:
    def test_broadcast_sends_maelstroms_topology_after_init_ok(self) -> None:
        """From c0, the whole map (as Maelstrom sends it); the node is not ready until topology_ok."""
        h = host()
        topology = after_init(h)
        assert topology["src"] == "c0" and topology["dest"] == "n2"
        assert topology["body"]["type"] == "topology" and topology["body"]["topology"] == neighbours("grid", NODES)
        assert h.inited and not h.ready and h.status(1.0)["role"] == "starting"
        assert h.status(1.0)["maelstrom"]["topology"] == ["n5", "n3", "n1"] and not h.status(1.0)["maelstrom"]["ready"]

    def test_topology_ok_makes_it_ready_with_an_event(self) -> None:
        h = host()
        topology = after_init(h)
        out = answer(h, type="topology_ok", in_reply_to=topology["body"]["msg_id"], msg_id=2)
        assert h.ready and h.status(1.0)["maelstrom"]["ready"] and h.status(1.0)["role"] == "node"
        assert [(e.kind, e.data) for e in out.events] == [("topology", {"neighbours": ["n5", "n3", "n1"], "topology": "grid"})]
        assert not answer(h, type="topology_ok", in_reply_to=topology["body"]["msg_id"]).events  # a repeat changes nothing

    def test_the_configured_topology_is_sent(self) -> None:
        h = host("n1", topology="line")
        assert after_init(h)["body"]["topology"]["n1"] == ["n2"] and h.topology == ["n2"]

    def test_other_workloads_get_no_topology(self) -> None:
        for workload in ("", "echo", "lin-kv", "g-counter"):
            h = MaelstromHost("n2", NODES, {"workload": workload}, random.Random(0))
            [init] = lines_to_program(h.start(0.0))
            out = answer(h, type="init_ok", in_reply_to=init["body"]["msg_id"])
            assert h.ready and not lines_to_program(out) and h.status(1.0)["maelstrom"]["topology"] is None

    def test_an_error_answer_to_topology_is_the_failure(self) -> None:
        """A program that does not take topology (error 10, not supported) cannot serve broadcast: up fails with the line."""
        h = host()
        topology = after_init(h)
        answer(h, type="error", code=10, in_reply_to=topology["body"]["msg_id"])
        assert not h.ready and h.failure is not None
        assert h.failure.startswith("the program answered topology with 'error', not topology_ok: ") and '"code": 10' in h.failure

    def test_a_protocol_error_before_topology_ok_is_still_fatal(self) -> None:
        h = host()
        after_init(h)
        h.step("n2", FromProgram("not json"), 1.0)
        assert h.failure == "the program wrote a line that is not JSON: 'not json'"

    def test_a_fresh_host_sends_it_again(self) -> None:
        """A restarted node is a fresh host and program: init, then topology, from the start."""
        first, again = host(), host()
        ok = after_init(first)
        answer(first, type="topology_ok", in_reply_to=ok["body"]["msg_id"])
        assert after_init(again)["body"]["type"] == "topology" and not again.ready


class TestPanel:
    def test_the_panel_shows_each_nodes_neighbours(self) -> None:
        h = host()
        after_init(h)
        snapshot = {"nodes": [{"id": "n2", "status": h.status(1.0)}]}
        console = Console(width=80, record=True)
        console.print(maelstrom_panel(snapshot, width=80))
        assert "topology n5 n3 n1" in console.export_text()

    def test_a_long_neighbour_list_is_cut_with_a_count(self) -> None:
        assert neighbours_text([f"n{i}" for i in range(2, 12)]) == "topology n2 n3 n4 n5 n6 n7 +4"
        assert neighbours_text([]) == "topology (none)"

"""Partition specs and named shapes, computed into groups and blocked directed links."""

from __future__ import annotations

import itertools
import random

import pytest

from chaoslab.net.partitions import (
    SHAPES,
    Partition,
    PartitionSpec,
    bridge,
    build,
    from_groups,
    isolate,
    majority,
    minority_third,
    one_way,
    parse_spec,
    random_halves,
    ring,
)
from chaoslab.net.rules import FaultTable

FIVE = ["n1", "n2", "n3", "n4", "n5"]
THREE = ["n1", "n2", "n3"]


def both_ways(a: list[str], b: list[str]) -> set[tuple[str, str]]:
    return {(x, y) for x in a for y in b} | {(y, x) for x in a for y in b}


def expand(p: Partition) -> set[tuple[str, str]]:
    """The links the partition's rules block, by matching every link against them."""
    return {(s, d) for s in p.nodes for d in p.nodes if s != d and any(r.matches(s, d) for r in p.rules())}


class TestGroups:
    def test_named_groups_and_the_rest(self) -> None:
        """Nodes not named form one more group, and links between groups are cut both ways."""
        p = from_groups(FIVE, [["n1", "n2"]])
        assert p.groups == (("n1", "n2"), ("n3", "n4", "n5"))
        assert p.blocked == both_ways(["n1", "n2"], ["n3", "n4", "n5"])
        assert p.label == "n1,n2 | n3,n4,n5"
        assert p.group_labels() == ["n1,n2", "n3,n4,n5"]

    def test_all_named_adds_no_group(self) -> None:
        """When every node is named there is no extra group."""
        p = from_groups(FIVE, [["n1", "n2"], ["n3", "n4", "n5"]])
        assert len(p.groups) == 2

    def test_three_groups(self) -> None:
        """Three groups cut every link between different groups and none within one."""
        p = from_groups(FIVE, [["n1"], ["n2", "n3"]])
        assert p.label == "n1 | n2,n3 | n4,n5"
        assert ("n2", "n3") not in p.blocked and ("n4", "n5") not in p.blocked
        assert {("n1", "n2"), ("n3", "n4"), ("n5", "n1")} <= p.blocked

    def test_members_follow_cluster_order(self) -> None:
        """Group members are listed in the cluster's order, whatever order they were typed in."""
        assert from_groups(FIVE, [["n3", "n1"]]).label == "n1,n3 | n2,n4,n5"

    @pytest.mark.parametrize(
        ("groups", "match"),
        [([["n1", "n1"]], "twice in one group"), ([["n1", "n2"], ["n2", "n3"]], "in two groups"),
         ([["n9"]], "unknown node 'n9'"), ([[]], "empty group"), ([FIVE], "at least two groups")],
    )
    def test_bad_groups(self, groups: list[list[str]], match: str) -> None:
        """Repeats, an id in two groups, unknown ids, empty groups and no real split are errors."""
        with pytest.raises(ValueError, match=match):
            from_groups(FIVE, groups)

    def test_bad_cluster(self) -> None:
        """A cluster of one node, or with repeated ids, cannot be partitioned."""
        with pytest.raises(ValueError):
            from_groups(["n1"], [["n1"]])
        with pytest.raises(ValueError):
            from_groups(["n1", "n1", "n2"], [["n1"]])


class TestOneWay:
    def test_blocks_one_direction_only(self) -> None:
        """n1->n2 stops n2 hearing n1, and nothing else."""
        p = one_way(FIVE, ["n1"], ["n2"])
        assert p.blocked == {("n1", "n2")}
        assert p.cuts("n1", "n2") and not p.cuts("n2", "n1")
        assert p.label == "n1->n2" and p.groups == ()

    def test_several_on_each_side(self) -> None:
        """Both sides may list several nodes; every pair is cut in that direction."""
        assert one_way(FIVE, ["n1", "n2"], ["n3"]).blocked == {("n1", "n3"), ("n2", "n3")}

    @pytest.mark.parametrize(("src", "dst"), [(["n1"], ["n1"]), (["n9"], ["n1"]), ([], ["n1"])])
    def test_bad_cuts(self, src: list[str], dst: list[str]) -> None:
        """A node on both sides, an unknown node or an empty side is an error."""
        with pytest.raises(ValueError):
            one_way(FIVE, src, dst)


class TestIsolate:
    @pytest.mark.parametrize("nodes", [FIVE, THREE])
    def test_node_alone(self, nodes: list[str]) -> None:
        """The isolated node neither hears nor is heard by anyone; the rest talk freely."""
        p = isolate(nodes, "n2")
        rest = [n for n in nodes if n != "n2"]
        assert p.blocked == both_ways(["n2"], rest)
        assert p.groups == (("n2",), tuple(rest))

    def test_unknown_node(self) -> None:
        """Isolating a node the cluster lacks is an error naming the cluster's ids."""
        with pytest.raises(ValueError, match=r"unknown node 'n7' \(this cluster has n1,n2,n3\)"):
            isolate(THREE, "n7")


class TestMajority:
    @pytest.mark.parametrize(("nodes", "minority_size"), [(FIVE, 2), (THREE, 1)])
    def test_leader_on_minority_side(self, nodes: list[str], minority_size: int) -> None:
        """The leader ends up in the smaller group, the other group is a majority."""
        p = majority(nodes, "n3")
        minority, rest = p.groups
        assert "n3" in minority and len(minority) == minority_size
        assert len(rest) > len(nodes) / 2
        assert p.blocked == both_ways(list(minority), list(rest))

    def test_seeded_companions(self) -> None:
        """With an rng the leader's companions are chosen at random, reproducibly."""
        a = majority(FIVE, "n1", rng=random.Random(3))
        b = majority(FIVE, "n1", rng=random.Random(3))
        assert a == b and "n1" in a.groups[0]

    def test_needs_leader(self) -> None:
        """Asking for --majority when no leader is known is a clear error."""
        with pytest.raises(ValueError, match="no leader"):
            build(FIVE, PartitionSpec("majority"), leader=None)


class TestMinorityThird:
    @pytest.mark.parametrize(("nodes", "cut"), [(FIVE, 1), (THREE, 1), ([f"n{i}" for i in range(1, 8)], 2),
                                                ([f"n{i}" for i in range(1, 11)], 3)])
    def test_cut_size(self, nodes: list[str], cut: int) -> None:
        """Fewer than a third of the nodes are cut off (one at least)."""
        p = minority_third(nodes)
        assert len(p.groups[0]) == cut
        assert len(p.groups[0]) + len(p.groups[1]) == len(nodes)


class TestRing:
    @pytest.mark.parametrize("nodes", [FIVE, THREE, ["a", "b", "c", "d"], [f"n{i}" for i in range(1, 8)]])
    def test_each_node_hears_a_different_majority(self, nodes: list[str]) -> None:
        """Every node hears a majority (itself included), and no two hear the same one."""
        p = ring(nodes)
        heard = [frozenset(p.hears(n)) for n in nodes]
        assert all(len(h) > len(nodes) / 2 for h in heard)
        assert len(set(heard)) == len(nodes)

    def test_five_nodes_symmetric(self) -> None:
        """With five nodes each cut goes both ways and each node loses exactly two peers."""
        p = ring(FIVE)
        assert all((b, a) in p.blocked for a, b in p.blocked)
        assert all(len(p.hears(n)) == 3 for n in FIVE)
        assert p.hears("n1") == ["n1", "n2", "n5"]

    def test_three_nodes_one_way_ring(self) -> None:
        """With three nodes each node hears itself and its predecessor: a one-way ring."""
        p = ring(THREE)
        assert p.blocked == {("n2", "n1"), ("n3", "n2"), ("n1", "n3")}

    def test_too_small(self) -> None:
        """Two nodes cannot form a majorities ring."""
        with pytest.raises(ValueError, match="at least 3"):
            ring(["n1", "n2"])

    def test_seeded_shuffle(self) -> None:
        """A seeded rng shuffles the ring reproducibly."""
        assert ring(FIVE, rng=random.Random(9)) == ring(FIVE, rng=random.Random(9))


class TestBridge:
    @pytest.mark.parametrize(("nodes", "left", "middle", "right"),
                             [(FIVE, ["n1", "n2"], "n3", ["n4", "n5"]), (THREE, ["n1"], "n2", ["n3"])])
    def test_bridge_node_talks_to_both_halves(self, nodes: list[str], left: list[str], middle: str,
                                              right: list[str]) -> None:
        """The halves are cut from each other; the bridge node hears and is heard by everyone."""
        p = bridge(nodes)
        assert p.blocked == both_ways(left, right)
        assert p.hears(middle) == nodes
        assert all(not p.cuts(middle, n) for n in nodes)
        assert middle in p.groups[0] and middle in p.groups[1]
        assert p.label.endswith(f"bridged by {middle}")

    def test_too_small(self) -> None:
        """Two nodes cannot be bridged."""
        with pytest.raises(ValueError, match="at least 3"):
            bridge(["n1", "n2"])


class TestRandomHalves:
    @pytest.mark.parametrize("nodes", [FIVE, THREE])
    def test_halves(self, nodes: list[str]) -> None:
        """The smaller half comes first and every node is in exactly one half."""
        p = random_halves(nodes, random.Random(1))
        small, big = p.groups
        assert len(small) == len(nodes) // 2 and len(big) == len(nodes) - len(nodes) // 2
        assert sorted(small + big) == sorted(nodes)

    def test_seeded(self) -> None:
        """The same seed gives the same halves; different seeds give different ones."""
        assert random_halves(FIVE, random.Random(4)) == random_halves(FIVE, random.Random(4))
        splits = {random_halves(FIVE, random.Random(s)).groups for s in range(20)}
        assert len(splits) > 3


SPECS = ["n1,n2", "n1->n2", "isolate:n2", "isolate:leader", "majority", "minority-third", "ring", "bridge",
         "random-halves"]


class TestEveryShape:
    @pytest.mark.parametrize("nodes", [FIVE, THREE], ids=["5 nodes", "3 nodes"])
    @pytest.mark.parametrize("spec", SPECS)
    def test_shape_is_well_formed(self, spec: str, nodes: list[str]) -> None:
        """Each shape cuts something, never a node from itself, and its rules block exactly its links."""
        p = build(nodes, parse_spec(spec), leader="n1", rng=random.Random(5))
        assert p.blocked
        assert all(a != b and a in nodes and b in nodes for a, b in p.blocked)
        assert all(n in p.hears(n) for n in nodes)
        assert expand(p) == p.blocked
        assert p.label
        rules = p.rules()
        assert all(r.blackhole and r.kind == "partition" and r.label == f"partition {p.label}" for r in rules)

    @pytest.mark.parametrize("nodes", [FIVE, THREE], ids=["5 nodes", "3 nodes"])
    @pytest.mark.parametrize("spec", SPECS)
    def test_table_blackholes_exactly_the_cut(self, spec: str, nodes: list[str]) -> None:
        """Loaded into a fault table, the shape's rules drop messages on cut links and only there."""
        p = build(nodes, parse_spec(spec), leader="n1", rng=random.Random(5))
        table = FaultTable()
        table.add_all(p.rules(), now=0.0, partition_groups=p.group_labels())
        for src, dst in itertools.permutations(nodes, 2):
            assert table.fate(src, dst, 1.0).blackholed == ((src, dst) in p.blocked)

    def test_group_rules_are_few(self) -> None:
        """A split into k groups takes k rules."""
        assert len(from_groups(FIVE, [["n1"], ["n2", "n3"]]).rules()) == 3

    def test_rules_carry_expiry(self) -> None:
        """Partition rules can be given an expiry time."""
        assert {r.expires_at for r in isolate(FIVE, "n1").rules(expires_at=12.5)} == {12.5}


class TestParseSpec:
    @pytest.mark.parametrize(
        ("text", "spec"),
        [("n1,n2 n3,n4,n5", PartitionSpec("groups", (("n1", "n2"), ("n3", "n4", "n5")))),
         (["n1,n2", "n3"], PartitionSpec("groups", (("n1", "n2"), ("n3",)))),
         ("n1->n2", PartitionSpec("one-way", (("n1",), ("n2",)))),
         ("n1 -> n2,n3", PartitionSpec("one-way", (("n1",), ("n2", "n3")))),
         ("isolate:leader", PartitionSpec("isolate", node="leader")),
         ("--isolate n3", PartitionSpec("isolate", node="n3")),
         ("majority", PartitionSpec("majority")), ("--majority", PartitionSpec("majority")),
         ("minority_third", PartitionSpec("minority-third")), ("--ring", PartitionSpec("ring")),
         ("majorities-ring", PartitionSpec("ring")), ("bridge", PartitionSpec("bridge")),
         ("random-halves", PartitionSpec("random-halves"))],
    )
    def test_forms(self, text: str | list[str], spec: PartitionSpec) -> None:
        """CLI words and scenario strings read into the same spec."""
        assert parse_spec(text) == spec

    @pytest.mark.parametrize(("text", "match"),
                             [("n1,n1", "twice"), ("n1,n2 n2", "two groups"), ("", "no partition"),
                              ("isolate", "isolate takes one node"), ("isolate n1,n2", "isolate takes one node"),
                              ("--majorty", "unknown partition shape"), ("ring n1", "takes no nodes"),
                              ("n1->n1", "both sides")])
    def test_bad_specs(self, text: str, match: str) -> None:
        """Malformed specs are one-line errors before any cluster is consulted."""
        with pytest.raises(ValueError, match=match) as info:
            parse_spec(text)
        assert "\n" not in str(info.value)

    def test_unknown_ids_caught_by_build(self) -> None:
        """An id the cluster lacks is reported when the spec meets the cluster."""
        with pytest.raises(ValueError, match="unknown node 'n9'"):
            build(FIVE, parse_spec("n1,n9"))

    def test_isolate_leader_needs_a_leader(self) -> None:
        """isolate:leader without a known leader is an error, with one it isolates the leader."""
        with pytest.raises(ValueError, match="no leader"):
            build(FIVE, parse_spec("isolate:leader"))
        assert build(FIVE, parse_spec("isolate:leader"), leader="n4").groups[0] == ("n4",)

    def test_isolate_random_is_seeded(self) -> None:
        """isolate:random picks a node with the given rng."""
        a = build(FIVE, parse_spec("isolate:random"), rng=random.Random(2))
        assert a == build(FIVE, parse_spec("isolate:random"), rng=random.Random(2))

    def test_every_shape_has_a_parse(self) -> None:
        """Each named shape can be written as a spec string."""
        parsed = {parse_spec(s).shape for s in SPECS}
        assert parsed == set(SHAPES)

    def test_unknown_shape_object(self) -> None:
        """A spec with an unknown shape name cannot be built."""
        with pytest.raises(ValueError, match="unknown partition shape"):
            PartitionSpec("square")

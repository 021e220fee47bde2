"""Scenario files: parsing into the typed model, the one-line errors, and the shipped faults/."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from chaoslab.chaos.parse import ScenarioError, load_scenario, parse_scenario
from chaoslab.chaos.scenario import Availability, ClusterSection, NemesisSection, Step, WorkloadSection
from chaoslab.chaos.toml_lines import scan
from chaoslab.errors import LabError
from chaoslab.lab.spec import parse_override

FAULTS = Path(__file__).resolve().parents[2] / "faults"
FILE = Path("faults/x.toml")

# Line 1..6; cases append to it, so a case's first own line is 7.
RAFT = """\
[cluster]
algorithm = "raft"
nodes = 5

[workload]
duration = "20s"
"""

FULL = """\
name = "iso"
description = "an isolated leader"
quick_scale = 0.25

[cluster]
algorithm = "raft"
nodes = 5

[cluster.set]
heartbeat_ms = 40
raft.pre_vote = true

[workload]
clients = 6
rate = 200
keys = 4
mix = { read = 0.5, write = 0.5 }
duration = "20s"
timeout = "1s"

[[step]]
at = "12s"
drop = "20%"
src = "n1"
dst = ["n2", "n3"]
for = "2s"

[[step]]
at = "3s"
partition = "isolate:leader"
for = "5s"
name = "iso"

[[step]]
at = 10
crash = "all"
restart_after = "1500ms"

[[step]]
at = "14s"
delay = "50ms"
jitter = "10ms"
dist = "normal"

[[step]]
at = "15s"
wait_for = "leader"

[nemesis]
kinds = "partition,crash"
interval = "4s"
hold = "2s"
start = "2s"
stop = "18s"
seed = 3

[check]
linearizable = true
election_safety = true
leader_within = "4s"

[[check.availability]]
during = "iso"
min = 0.5

[[check.availability]]
start = "16s"
end = "20s"
min = "80%"
"""


def parse(text: str):
    return parse_scenario(text, FILE)


def error(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse(text)
    return str(info.value)


class TestParse:
    def test_every_section_becomes_the_typed_model(self) -> None:
        """A file using every table parses into the model's objects, with times in seconds."""
        s = parse(FULL)
        assert (s.name, s.description, s.quick_scale, s.path) == ("iso", "an isolated leader", 0.25, FILE)
        assert s.cluster == ClusterSection("raft", 5, {"heartbeat_ms": 40, "raft": {"pre_vote": True}})
        assert s.workload == WorkloadSection("kv", 6, 200.0, 4, {"read": 0.5, "write": 0.5, "cas": 0.0}, 20.0, 1.0)
        assert s.nemesis == NemesisSection(("partition", "crash"), 4.0, 2.0, 3, 2.0, 18.0)
        assert (s.check.linearizable, s.check.election_safety, s.check.leader_within) == (True, True, 4.0)
        assert (s.check.no_lost_writes, s.check.agreement, s.check.expect) == (None, None, "valid")

    def test_steps_sorted_by_time_with_targets_options_and_lines(self) -> None:
        """Steps come in time order; `all` becomes every id; undo keys become `until`; each step keeps its line."""
        steps = parse(FULL).steps
        assert [s.action for s in steps] == ["partition", "crash", "drop", "delay", "wait_for"]
        assert steps[0] == Step(3.0, "partition", "isolate:leader", 8.0, name="iso", line=28)
        assert steps[1] == Step(10.0, "crash", "n1,n2,n3,n4,n5", 11.5, line=34)
        assert steps[2] == Step(12.0, "drop", 0.2, 14.0, {"src": ("n1",), "dst": ("n2", "n3")}, line=21)
        assert steps[3].target == 0.05 and steps[3].options == {"jitter": 0.01, "dist": "normal"}
        assert steps[4].options == {"timeout": 10.0}

    def test_availability_during_a_step_is_its_window(self) -> None:
        """`during` names a step; the parser fills in the window it covers."""
        windows = parse(FULL).check.availability
        assert windows == (Availability(0.5, "iso", 3.0, 8.0), Availability(0.8, "", 16.0, 20.0))

    def test_a_window_without_for_ends_at_the_step_that_undoes_it(self) -> None:
        """A partition with no `for` lasts until the next heal (or the workload's end)."""
        text = RAFT + ('[[step]]\nat = "2s"\npartition = "ring"\nname = "r"\n[[step]]\nat = "6s"\nheal = true\n'
                       '[[step]]\nat = "9s"\npause = "n2"\nname = "p"\n'
                       '[[check.availability]]\nduring = "r"\nmin = 0.1\n[[check.availability]]\nduring = "p"\nmin = 0.1\n')
        assert [(a.start, a.end) for a in parse(text).check.availability] == [(2.0, 6.0), (9.0, 20.0)]

    def test_defaults(self) -> None:
        """Name from the file, nodes within the algorithm's bounds, the workload's kind from its spec."""
        s = parse('[cluster]\nalgorithm = "twogenerals"\n[[step]]\nat = 1\ndrop = 0.3\n')
        assert (s.name, s.cluster.nodes, s.workload, s.quick_scale) == ("x", 2, None, 0.5)
        byz = parse('[cluster]\nalgorithm = "byzantine"\nnodes = 4\n[workload]\nrate = 2\n')
        assert byz.workload is not None and byz.workload.kind == "orders"

    def test_command_step(self) -> None:
        """A command goes to one node with its args."""
        s = parse('[cluster]\nalgorithm = "byzantine"\nnodes = 4\n'
                  '[[step]]\nat = "1s"\ncommand = "order"\nnode = "n1"\nargs = { value = "attack" }\n')
        assert s.steps[0] == Step(1.0, "command", "order", None, {"node": "n1"}, {"value": "attack"}, line=4)

    def test_nemesis_shorthand(self) -> None:
        """`nemesis = "partition,crash"` at the top level is a [nemesis] with those kinds."""
        assert parse('nemesis = "partition,crash"\n' + RAFT).nemesis == NemesisSection(("partition", "crash"))

    def test_quick_profile_scales_the_timeline(self) -> None:
        """quick() multiplies times by quick_scale and leaves bounds and magnitudes alone."""
        q = parse(FULL).quick()
        assert q.workload is not None and q.workload.duration == 5.0
        assert (q.steps[0].at, q.steps[0].until, q.steps[3].target) == (0.75, 2.0, 0.05)
        assert q.check.leader_within == 4.0 and q.check.availability[0].start == 0.75

    def test_settings_round_trip_through_set(self) -> None:
        """[cluster.set] becomes `up --set` strings that parse back to the same values."""
        settings = {"heartbeat_ms": 40, "strategy": {"n3": "flip"}, "faults": ["drop 30%"], "name": 'a "b"',
                    "raft": {"pre_vote": False, "election_timeout_ms": [150, 300.5]}}
        overrides = ClusterSection("raft", 5, settings).overrides()
        assert [parse_override(o) for o in overrides] == [
            (["heartbeat_ms"], 40), (["strategy"], {"n3": "flip"}), (["faults"], ["drop 30%"]), (["name"], 'a "b"'),
            (["raft", "pre_vote"], False), (["raft", "election_timeout_ms"], [150, 300.5])]


# A Maelstrom program's cluster, lines 1..3; cases append to it.
MAELSTROM = """\
[cluster]
algorithm = "maelstrom"
bin = "./x.py"
"""

# (id, the file's text, the exact one-line error)
ERRORS = [
    ("toml syntax, with a hint to quote", RAFT + '[[step]]\nat = 3s\nheal = true\n',
     'faults/x.toml:8: invalid TOML: expected newline or end of document after a statement at column 7 '
     '(strings need quotes: at = "3s")'),
    ("toml key set twice", RAFT + 'rate = 5\nrate = 6\n',
     "faults/x.toml:8: invalid TOML: 'workload.rate' is set twice (first on line 7)"),
    ("toml unclosed array", RAFT + 'rate = [1,\n',
     "faults/x.toml:7: invalid TOML: invalid value at the end of the file (an unclosed string, array or table?)"),
    ("empty file", "# nothing yet\n",
     'faults/x.toml: empty scenario: it needs a [cluster] (algorithm = "raft") and a [workload], [[step]]s or a [nemesis]'),
    ("missing [cluster]", '[workload]\nduration = "5s"\n',
     'faults/x.toml: missing [cluster]: say what to run, e.g. [cluster] algorithm = "raft", nodes = 5'),
    ("nothing to run", '[cluster]\nalgorithm = "raft"\n',
     "faults/x.toml: nothing to run: give a [workload], [[step]]s or a [nemesis]"),
    ("unknown top-level table", RAFT + "[chek]\nlinearizable = true\n",
     "faults/x.toml:7: unknown table [chek] (did you mean [check]?)"),
    ("unknown top-level key", 'nmae = "x"\n' + RAFT, "faults/x.toml:1: unknown key 'nmae' (did you mean 'name'?)"),
    ("array of tables misnamed", RAFT + "[[steps]]\nat = 1\n",
     "faults/x.toml:7: unknown table [[steps]] (did you mean [[step]]?)"),
    ("step in single brackets", RAFT + "[step]\nat = 1\nheal = true\n",
     "faults/x.toml:7: [step] takes double brackets, [[step]]: one for each"),
    ("unknown key in a section", RAFT + "rat = 100\n",
     "faults/x.toml:7: [workload]: unknown key 'rat' (did you mean 'rate'?)"),
    ("unknown key in a step", RAFT + '[[step]]\nat = "1s"\nheal = true\n[[step]]\nat = "2s"\nclear = true\n'
     '[[step]]\nat = "3s"\npartiton = "ring"\n',
     "faults/x.toml:15: [[step]] #3: unknown key 'partiton' (did you mean 'partition'?)"),
    ("step with no action", RAFT + '[[step]]\nat = "3s"\nfor = "1s"\n',
     "faults/x.toml:7: [[step]] #1: no action: give one of partition, heal, clear, crash, restart, pause, resume, "
     "drop, delay, duplicate, reorder, wait_for, command"),
    ("two actions in one step", RAFT + '[[step]]\nat = "3s"\ncrash = "leader"\npartition = "ring"\n',
     "faults/x.toml:10: [[step]] #1: two actions, 'crash' and 'partition': give each its own [[step]]"),
    ("option of another action", RAFT + '[[step]]\nat = "3s"\npartition = "ring"\nrestart_after = "1s"\n',
     "faults/x.toml:10: [[step]] #1: partition takes no 'restart_after' (it takes for, seed)"),
    ("step without at", RAFT + '[[step]]\nheal = true\n',
     'faults/x.toml:7: [[step]] #1: missing at (e.g. at = "3s")'),
    ("wrong type", RAFT.replace("nodes = 5", 'nodes = "five"'),
     'faults/x.toml:3: [cluster]: nodes: must be a whole number, got "five"'),
    ("wrong type of flag", RAFT + '[check]\nlinearizable = "yes"\n',
     'faults/x.toml:8: [check]: linearizable: must be true or false, got "yes"'),
    ("no nodes", RAFT.replace("nodes = 5", "nodes = 0"),
     "faults/x.toml:3: [cluster]: nodes: must be from 1 to 64 for raft, got 0"),
    ("more nodes than the algorithm takes", '[cluster]\nalgorithm = "twogenerals"\nnodes = 3\n',
     "faults/x.toml:3: [cluster]: nodes: must be 2 for twogenerals, got 3"),
    ("negative rate", RAFT + "rate = -5\n", "faults/x.toml:7: [workload]: rate: must be above 0, got -5"),
    ("probability above 1", RAFT + '[[step]]\nat = "3s"\ndrop = 1.5\n',
     "faults/x.toml:9: [[step]] #1: drop: 1.5 is not a fraction between 0 and 1: did you mean 1.5%?"),
    ("mix all zero", RAFT + "mix = { read = 0, write = 0 }\n",
     "faults/x.toml:7: [workload]: mix: the weights add up to 0: give at least one operation a weight above 0"),
    ("mix names an unknown operation", RAFT + "mix = { read = 1, writes = 1 }\n",
     "faults/x.toml:7: [workload]: mix: unknown operation 'writes' (did you mean 'write'?)"),
    ("quick_scale out of range", "quick_scale = 2\n" + RAFT,
     "faults/x.toml:1: quick_scale: must be above 0 and at most 1 (the quick profile's share of every time), got 2"),
    ("unknown algorithm, close", RAFT.replace('"raft"', '"rafft"'),
     "faults/x.toml:2: [cluster]: unknown algorithm 'rafft' (did you mean 'raft'?)"),
    ("unknown algorithm, far", RAFT.replace('"raft"', '"paxos"'),
     "faults/x.toml:2: [cluster]: unknown algorithm 'paxos' (one of raft, bully, byzantine, twogenerals, maelstrom)"),
    ("bad setting, checked as up --set does", RAFT.replace("nodes = 5\n", 'nodes = 5\n[cluster.set]\nelection_timeout = "300ms"\n'),
     "faults/x.toml:5: [cluster.set]: raft config: unknown raft setting 'election_timeout' (known: check_quorum, "
     "election_timeout_ms, heartbeat_ms, max_batch_bytes, max_batch_entries, max_inflight, max_sessions, max_value_bytes, "
     "pre_vote, snapshot_chunk_bytes, snapshot_threshold, snapshot_threshold_bytes)"),
    ("setting the algorithm refuses for this cluster", '[cluster]\nalgorithm = "byzantine"\nnodes = 4\n[cluster.set]\n'
     'traitors = 4\n[workload]\nrate = 1\n',
     "faults/x.toml:5: [cluster.set]: byzantine config: --traitors must be fewer than the 4 nodes, got 4"),
    ("bad duration string", RAFT + '[[step]]\nat = "3sec"\nheal = true\n',
     "faults/x.toml:8: [[step]] #1: at: '3sec' is not a duration: write one like e.g. 250us, 50ms, 1.5s, 2m"),
    ("step after the workload", RAFT + '[[step]]\nat = "25s"\nheal = true\n',
     "faults/x.toml:8: [[step]] #1: at 25s is not before the end of the workload (20s)"),
    ("fault undone after the workload", RAFT + '[[step]]\nat = "15s"\ncrash = "leader"\nrestart_after = "10s"\n',
     "faults/x.toml:10: [[step]] #1: restart_after ends the fault at 25s, after the workload (20s)"),
    ("unknown node in a target", RAFT + '[[step]]\nat = "3s"\ncrash = "n7"\n',
     "faults/x.toml:9: [[step]] #1: crash: unknown node 'n7' (one of n1, n2, n3, n4, n5, leader, random, all)"),
    ("misspelt leader", RAFT + '[[step]]\nat = "3s"\npause = "leder"\n',
     "faults/x.toml:9: [[step]] #1: pause: unknown node 'leder' (did you mean 'leader'?)"),
    ("unknown node in a link selector", RAFT + '[[step]]\nat = "3s"\ndrop = "10%"\nsrc = "n1,n9"\n',
     "faults/x.toml:10: [[step]] #1: src: unknown node 'n9' (one of n1, n2, n3, n4, n5)"),
    ("restart of the leader", RAFT + '[[step]]\nat = "3s"\nrestart = "leader"\n',
     "faults/x.toml:9: [[step]] #1: restart: takes node ids or 'all', not \"leader\" "
     "(to restart what a crash step chose, give that step restart_after)"),
    ("partition: unknown node", RAFT + '[[step]]\nat = "3s"\npartition = "n1,n2 n6"\n',
     "faults/x.toml:9: [[step]] #1: partition: unknown node 'n6' (this cluster has n1,n2,n3,n4,n5)"),
    ("partition: node in two groups", RAFT + '[[step]]\nat = "3s"\npartition = "n1,n2 n2,n3"\n',
     "faults/x.toml:9: [[step]] #1: partition: n2 is in two groups: each node belongs to one group"),
    ("partition: unknown shape", RAFT + '[[step]]\nat = "3s"\npartition = "--rign"\n',
     "faults/x.toml:9: [[step]] #1: partition: unknown partition shape '--rign' "
     "(one of isolate, majority, minority-third, ring, bridge, random-halves)"),
    ("heal = false", RAFT + '[[step]]\nat = "3s"\nheal = false\n',
     "faults/x.toml:9: [[step]] #1: heal: must be true (heal takes no argument), got false"),
    ("command without a node", '[cluster]\nalgorithm = "byzantine"\nnodes = 4\n[[step]]\nat = "1s"\ncommand = "order"\n',
     'faults/x.toml:4: [[step]] #1: missing node: a command goes to one node (e.g. node = "n1")'),
    ("two steps of one name", RAFT + '[[step]]\nat = 1\nheal = true\nname = "a"\n[[step]]\nat = 2\nclear = true\nname = "a"\n',
     "faults/x.toml:14: [[step]] #2: name 'a' is taken by [[step]] #1: step names are unique"),
    ("nemesis: unknown kind", RAFT + '[nemesis]\nkinds = "partition,crsh"\n',
     "faults/x.toml:8: [nemesis]: kinds: unknown kind 'crsh' (did you mean 'crash'?)"),
    ("nemesis: hold longer than interval", RAFT + '[nemesis]\nkinds = "partition"\ninterval = "1s"\nhold = "2s"\n',
     "faults/x.toml:10: [nemesis]: hold 2s is longer than interval 1s: faults would pile up"),
    ("availability names an unknown step", RAFT + '[[step]]\nat = "3s"\npartition = "ring"\nname = "ring"\n'
     '[[check.availability]]\nduring = "rnig"\nmin = 0.5\n',
     "faults/x.toml:12: [[check.availability]] #1: during = \"rnig\" names no step (did you mean 'ring'?)"),
    ("availability min above 1", RAFT + '[[check.availability]]\nstart = "1s"\nend = "2s"\nmin = 1.2\n',
     "faults/x.toml:10: [[check.availability]] #1: min: 1.2 is not a fraction between 0 and 1: did you mean 1.2%?"),
    ("agreement on raft", RAFT + "[check]\nagreement = true\n",
     "faults/x.toml:8: [check]: agreement checks the orders' outcomes: it applies to Byzantine agreement, not raft"),
    ("linearizable without a kv workload", '[cluster]\nalgorithm = "bully"\n[[step]]\nat = 1\nheal = true\n'
     "[check]\nlinearizable = true\n",
     "faults/x.toml:7: [check]: linearizable checks a kv workload's history: bully serves no kv API"),
    ("kv workload on an algorithm without the kv API", '[cluster]\nalgorithm = "byzantine"\nnodes = 4\n[workload]\nkind = "kv"\n',
     'faults/x.toml:5: [workload]: kind = "kv" does not apply to byzantine; its workload is kind = "orders"'),
    ("workload on an algorithm that serves none", '[cluster]\nalgorithm = "bully"\n[workload]\nrate = 5\n',
     "faults/x.toml:3: [workload]: bully serves no workload (kv needs the kv API, orders is Byzantine agreement's): "
     "drop [workload] and drive the run with [[step]]s"),
    ("expect misspelt", RAFT + '[check]\nexpect = "violations"\n',
     "faults/x.toml:8: [check]: expect: \"violations\" is not known (did you mean 'violation'?)"),
    # [cluster]'s own keys besides algorithm, nodes and set are settings (Maelstrom's bin, args, workload)
    ("a [cluster] setting the algorithm does not know", '[cluster]\nalgorithm = "raft"\nbin = "./x"\n',
     "faults/x.toml:3: [cluster]: raft config: unknown raft setting 'bin' (known: check_quorum, election_timeout_ms, "
     "heartbeat_ms, max_batch_bytes, max_batch_entries, max_inflight, max_sessions, max_value_bytes, pre_vote, "
     "snapshot_chunk_bytes, snapshot_threshold, snapshot_threshold_bytes)"),
    ("a misspelt [cluster] key", '[cluster]\nalgorithm = "raft"\nnodez = 5\n',
     "faults/x.toml:3: [cluster]: unknown key 'nodez' (did you mean 'nodes'?)"),
    ("seed as a [cluster] setting", MAELSTROM + 'seed = 3\n',
     "faults/x.toml:4: [cluster]: seed is not a setting: the run's seed is chaoslab run --seed"),
    ("a setting in [cluster] and [cluster.set]", MAELSTROM + '[cluster.set]\nbin = "./y.py"\n',
     "faults/x.toml:3: [cluster]: bin is set twice: here and in [cluster.set] (give it once)"),
    ("Maelstrom without bin", '[cluster]\nalgorithm = "maelstrom"\nworkload = "echo"\n[workload]\n',
     "faults/x.toml:1: [cluster]: maelstrom config: bin is required: the program to run, e.g. --bin ./my_node.py"),
    ("a Maelstrom workload that does not exist", MAELSTROM + 'workload = "brodcast"\n',
     "faults/x.toml:4: [cluster]: maelstrom config: workload must be one of lin-kv, echo, broadcast, g-counter, "
     "got 'brodcast'"),
    ("args not a list", MAELSTROM + 'args = "--verbose"\n',
     "faults/x.toml:4: [cluster]: maelstrom config: args must be a list of strings, e.g. --args '[\"--verbose\"]', "
     "got '--verbose'"),
    ("workload setting and kind disagree", MAELSTROM + 'workload = "broadcast"\n[workload]\nkind = "echo"\n',
     'faults/x.toml:6: [workload]: kind = "echo" but the cluster\'s workload = "broadcast", which runs kind = '
     '"broadcast": give one of them, or make them agree'),
    ("a Maelstrom kind on raft", RAFT + 'kind = "g-counter"\n',
     'faults/x.toml:7: [workload]: kind = "g-counter" does not apply to raft; its workload is kind = "kv"'),
    ("keys on an echo workload", MAELSTROM + '[workload]\nkind = "echo"\nkeys = 3\n',
     "faults/x.toml:6: [workload]: keys applies to kv workloads only, not echo"),
    ("a mix on an echo workload", MAELSTROM + '[workload]\nkind = "echo"\nmix = { echo = 1 }\n',
     "faults/x.toml:6: [workload]: mix applies to kv, broadcast and g-counter workloads only, not echo"),
    ("settle on an echo workload", MAELSTROM + '[workload]\nkind = "echo"\nsettle = "3s"\n',
     "faults/x.toml:6: [workload]: settle applies to kv, broadcast and g-counter workloads only, not echo"),
    ("a kv operation in a broadcast mix", MAELSTROM + '[workload]\nkind = "broadcast"\nmix = { write = 1 }\n',
     "faults/x.toml:6: [workload]: mix: unknown operation 'write' (one of broadcast, read)"),
    ("a misspelt g-counter operation", MAELSTROM + '[workload]\nkind = "g-counter"\nmix = { ad = 1 }\n',
     "faults/x.toml:6: [workload]: mix: unknown operation 'ad' (did you mean 'add'?)"),
    ("linearizable on a broadcast workload", MAELSTROM + '[workload]\nkind = "broadcast"\n[check]\nlinearizable = true\n',
     "faults/x.toml:7: [check]: linearizable checks a kv workload's history: this run's workload is kind = \"broadcast\""),
    ("counter_sum on an echo workload", MAELSTROM + '[workload]\nkind = "echo"\n[check]\ncounter_sum = true\n',
     "faults/x.toml:7: [check]: counter_sum checks a g-counter workload's history: this run's workload is kind = \"echo\""),
    ("echoes_match without a workload", MAELSTROM + '[[step]]\nat = "1s"\ncrash = "n1"\n[check]\nechoes_match = true\n',
     "faults/x.toml:8: [check]: echoes_match checks an echo workload's history: add a [workload] of kind \"echo\""),
    ("all_delivered on raft", RAFT + '[check]\nall_delivered = true\n',
     "faults/x.toml:8: [check]: all_delivered checks a broadcast workload's history: raft serves no broadcast workload"),
    ("all_delivered not a flag", MAELSTROM + '[workload]\nkind = "broadcast"\n[check]\nall_delivered = "yes"\n',
     'faults/x.toml:7: [check]: all_delivered: must be true or false, got "yes"'),
]


NODES = Path(__file__).resolve().parents[1] / "plugins" / "maelstrom_nodes"


class TestMaelstromClusters:
    def test_cluster_keys_are_settings(self) -> None:
        """bin, args and workload in [cluster] itself are settings, as in [cluster.set]; the kind follows
        the workload setting, with that kind's mix."""
        s = parse(MAELSTROM + 'args = ["-v"]\nworkload = "broadcast"\n[workload]\nsettle = "3s"\n')
        assert s.cluster.settings == {"bin": "./x.py", "args": ["-v"], "workload": "broadcast"}
        assert s.cluster.overrides() == ['bin="./x.py"', 'args=["-v"]', 'workload="broadcast"']
        assert s.workload is not None and (s.workload.kind, s.workload.mix, s.workload.settle) == (
            "broadcast", {"broadcast": 0.5, "read": 0.5}, 3.0)

    @pytest.mark.parametrize(("kind", "setting"), [
        ("kv", "lin-kv"), ("echo", "echo"), ("broadcast", "broadcast"), ("g-counter", "g-counter")])
    def test_the_kind_sets_the_workload_setting(self, kind: str, setting: str) -> None:
        """Given only [workload] kind, the cluster's workload setting is made to match, so the host knows it."""
        s = parse(MAELSTROM + f'[workload]\nkind = "{kind}"\n')
        assert s.cluster.settings["workload"] == setting

    def test_no_kind_and_no_setting_is_a_lin_kv_program(self) -> None:
        s = parse(MAELSTROM + "[workload]\nrate = 5\n")
        assert s.workload is not None and s.workload.kind == "kv" and s.cluster.settings["workload"] == "lin-kv"

    def test_the_setting_under_the_algorithms_table(self) -> None:
        """[cluster.set.maelstrom] workload = "echo" names the kind too, and is not set a second time."""
        s = parse('[cluster]\nalgorithm = "maelstrom"\n[cluster.set.maelstrom]\nbin = "x"\nworkload = "echo"\n'
                  "[workload]\nrate = 5\n")
        assert s.workload is not None and s.workload.kind == "echo"
        assert s.cluster.settings == {"maelstrom": {"bin": "x", "workload": "echo"}}

    def test_a_setting_with_no_workload_runs_none(self) -> None:
        """workload = "broadcast" without a [workload]: the host knows its workload, no clients run."""
        s = parse(MAELSTROM + 'workload = "broadcast"\n[[step]]\nat = "1s"\ncrash = "n1"\n')
        assert s.workload is None and s.cluster.settings["workload"] == "broadcast"

    def test_set_replaces_a_cluster_key(self) -> None:
        """`run --set bin=...` replaces the file's [cluster] bin (not "set twice"), and the replay says so."""
        s = parse_scenario(MAELSTROM + '[workload]\nkind = "echo"\n', FILE, settings=["bin=./other.py"])
        assert s.cluster.settings["bin"] == "./other.py" and s.replay_args == ("--set", "bin=./other.py")

    @pytest.mark.parametrize(("name", "kind", "check"), [
        ("echo.toml", "echo", "echoes_match"), ("broadcast-partition.toml", "broadcast", "all_delivered"),
        ("g-counter-partition.toml", "g-counter", "counter_sum"), ("lin-kv-partition.toml", "kv", "linearizable")])
    def test_the_test_nodes_scenarios(self, name: str, kind: str, check: str) -> None:
        """The scenario files beside the Maelstrom test nodes parse, with their kinds and checks."""
        s = load_scenario(NODES / name)
        assert s.workload is not None and s.workload.kind == kind and getattr(s.check, check) is True


class TestErrors:
    @pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in ERRORS], ids=[i for i, _, _ in ERRORS])
    def test_one_line_naming_file_line_and_hint(self, text: str, expected: str) -> None:
        """Every mistake is one line: the file, the line (or the table), and what to change."""
        message = error(text)
        assert message == expected
        assert "\n" not in message

    def test_error_is_a_lab_error_with_its_parts(self) -> None:
        """ScenarioError is a LabError (the CLI prints it and exits 2) and keeps file, line and table apart."""
        with pytest.raises(LabError) as info:
            parse(RAFT + "rat = 100\n")
        err = info.value
        assert isinstance(err, ScenarioError)
        assert (err.path, err.line, err.where) == (FILE, 7, "[workload]")

    def test_missing_file(self, tmp_path: Path) -> None:
        """load_scenario of a path that does not exist, or of a directory, says so in one line."""
        with pytest.raises(ScenarioError, match=r"nope\.toml: no such scenario file$"):
            load_scenario(tmp_path / "nope.toml")
        with pytest.raises(ScenarioError, match="is a directory"):
            load_scenario(tmp_path)

    def test_load_reads_the_file(self, tmp_path: Path) -> None:
        """load_scenario names the scenario after the file unless the file names it."""
        path = tmp_path / "my-run.toml"
        path.write_text(RAFT)
        assert load_scenario(path).name == "my-run"


class TestLines:
    def test_headers_keys_and_arrays_of_tables(self) -> None:
        """The scan finds headers, keys (dotted too) and counts [[x]] headers, skipping multi-line values."""
        text = ('name = "x"\n[cluster]\nalgorithm = "raft"\n[cluster.set]\nraft.pre_vote = true\n'
                '[[step]]\nat = 1\nnote = """\n[[step]]\n"""\nkinds = [\n  "[x]",\n]\n[[step]]\n'
                "at = 2\n[step.args]\nv = 1\n[[check.availability]]\nmin = 1\n")
        tomllib.loads(text)  # the fixture is TOML
        lines = scan(text).lines
        assert lines[("cluster", "set", "raft", "pre_vote")] == 5
        assert (lines[("step",)], lines[("step", 1)], lines[("step", 1, "kinds")], lines[("step", 2)]) == (6, 6, 11, 14)
        assert (lines[("step", 2, "args", "v")], lines[("check", "availability", 1, "min")]) == (17, 19)
        assert scan(text).line(("workload", "mix", "read")) == 0
        assert scan(text).line(("step", 2, "args", "missing")) == 16

    def test_never_raises_on_broken_text(self) -> None:
        """Text that is not TOML still scans (what it can)."""
        assert scan('a = "unterminated\n[x\nb = [1,\n').lines[("a",)] == 1


class TestShippedScenarios:
    FILES = sorted(FAULTS.glob("*.toml"))

    def test_there_are_the_promised_scenarios(self) -> None:
        """faults/ ships at least 13 scenarios."""
        assert len(self.FILES) >= 13

    @pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
    def test_parses_and_fits_the_quick_budget(self, path: Path) -> None:
        """Each file parses, explains itself in a comment header, heals what it breaks before the
        end, and runs ~8-12 s in the quick profile (CI runs them all)."""
        scenario = load_scenario(path)
        header = path.read_text().split("\nname = ")[0]
        assert header.startswith("# ") and "Exercises:" in header and "A failure means" in header
        assert scenario.name == path.stem and scenario.description
        quick = scenario.quick()
        end = quick.workload.duration if quick.workload else max(s.until or s.at for s in quick.steps)
        assert end <= 12.5
        if quick.workload is not None:
            assert 8 <= quick.workload.duration
        for step in scenario.steps:
            if step.action in ("partition", "crash", "pause", "drop", "delay", "duplicate", "reorder"):
                assert step.until is not None, f"{path.name}: the {step.action} at {step.at}s is never undone"

"""The Byzantine generals' core, config and report, without a network."""

from __future__ import annotations

import random
import re

import pytest

from chaoslab.algorithms.byzantine.adapters.agreement import evaluate
from chaoslab.algorithms.byzantine.config import MAX_MESSAGES, check_config, om_messages, resolve_config
from chaoslab.algorithms.byzantine.core import ByzantineNode, majority
from chaoslab.algorithms.byzantine.messages import ByzantineValue
from chaoslab.algorithms.byzantine.signing import Signer

NODES7 = [f"n{i}" for i in range(1, 8)]
A, R = "attack", "retreat"


def node(node_id: str, nodes: list[str], **config) -> ByzantineNode:
    resolved = resolve_config({"traitors": 0, **config}, nodes, random.Random(1))
    return ByzantineNode(node_id, nodes, resolved, random.Random(2), None)


class TestConfig:
    def test_traitors_are_chosen_by_seed_and_written_down(self) -> None:
        """The same seed picks the same traitors; the resolved config names them for every node."""
        a = resolve_config({"traitors": 2}, NODES7, random.Random(7))
        b = resolve_config({"traitors": 2}, NODES7, random.Random(7))
        assert a == b and len(a["traitor_ids"]) == 2 and a["m"] == 2
        assert a["strategies"] == {t: "equivocate" for t in a["traitor_ids"]}

    def test_resolved_config_passes_its_own_checks(self) -> None:
        """check_config accepts what resolve_config wrote, and resolving again changes nothing."""
        for protocol in ("om", "sm"):
            once = resolve_config({"traitors": 1, "protocol": protocol}, NODES7, random.Random(3))
            check_config(once)
            assert resolve_config(once, NODES7, random.Random(99)) == once

    @pytest.mark.parametrize(("config", "message"), [
        ({"traitors": 7}, "fewer than the 7 nodes"),
        ({"traitor_ids": "n3,n9"}, "unknown node(s) n9"),
        ({"protocol": "pbft"}, "unknown protocol 'pbft'"),
        ({"strategy": "lie"}, "unknown strategy 'lie'"),
        ({"traitor_ids": "n3", "strategy": "n4:flip"}, "n4, which is not a traitor"),
        ({"m": 6}, "needs at least m+2"),
        ({"colour": "red"}, "unknown key(s): colour"),
        ({"round_ms": 0}, "round_ms"),
    ])
    def test_refusals(self, config: dict, message: str) -> None:
        """Bad input is a ValueError saying what is wrong."""
        with pytest.raises(ValueError, match=re.escape(message)):
            resolve_config(config, NODES7, random.Random(1))

    def test_om_message_count_is_bounded(self) -> None:
        """OM(m) sends ~n^(m+1) messages (156 for n=7, m=2); configurations past the cap are refused."""
        assert om_messages(7, 2) == 156 and om_messages(4, 1) == 9 and om_messages(10, 3) == 3609
        nodes = [f"n{i}" for i in range(1, 21)]
        with pytest.raises(ValueError, match="messages per agreement"):
            resolve_config({"traitors": 4}, nodes, random.Random(1))
        assert om_messages(20, 4) > MAX_MESSAGES
        resolve_config({"traitors": 4, "protocol": "sm"}, nodes, random.Random(1))  # SM is linear per value

    def test_sm_keys_are_dealt_from_the_seed(self) -> None:
        """SM's trusted dealer: one 32-byte key seed per node, the same for the same cluster seed."""
        a = resolve_config({"protocol": "sm"}, NODES7, random.Random(5))
        assert sorted(a["keys"]) == NODES7 and all(len(k) == 64 for k in a["keys"].values())
        assert a == resolve_config({"protocol": "sm"}, NODES7, random.Random(5))


class TestOralMessages:
    def test_majority_is_strict_with_retreat_for_a_tie(self) -> None:
        """Lamport's majority: the value most received, RETREAT when there is no strict majority."""
        assert majority([A, A, R]) == A and majority([A, R]) == R and majority([]) == R

    def test_the_decision_is_the_recursive_majority_not_a_flat_vote(self) -> None:
        """OM(2) at n2 of 7: the commander and three lieutenants' subtrees say attack, two subtrees
        retreat. Counting every value flat gives 10 attack to 16 retreat; the recursion gives attack."""
        n2 = node("n2", NODES7, m=2)
        a = n2._open("n1:1", 0.0, out=_Out())
        a.received[("n1",)] = A
        others = ["n3", "n4", "n5", "n6", "n7"]
        for j in others:
            a.received[("n1", j)] = R
            below = [k for k in others if k != j]
            for i, k in enumerate(below):
                a.received[("n1", j, k)] = (A if i < 3 else R) if j in ("n3", "n4", "n5") else R
        flat = [v for v in a.received.values()]
        assert (flat.count(A), flat.count(R)) == (10, 16)
        assert n2._om_value(a, ("n1",)) == A

    def test_relays_at_once_and_decides_when_everything_expected_arrived(self) -> None:
        """OM(1), n=4: n2 relays the commander's value to n3 and n4, and decides once both relays
        are in, before the round deadline."""
        n2 = node("n2", ["n1", "n2", "n3", "n4"], m=1)
        out = n2.step("n1", ByzantineValue("n1:1", 0, A, ["n1"]), 0.0)
        assert sorted((d, m.path) for d, m in out.messages) == [("n3", ["n1", "n2"]), ("n4", ["n1", "n2"])]
        n2.step("n3", ByzantineValue("n1:1", 1, R, ["n1", "n3"]), 0.01)
        assert n2.status(0.01)["byzantine"]["decision"] == ""
        n2.step("n4", ByzantineValue("n1:1", 1, A, ["n1", "n4"]), 0.02)
        detail = n2.status(0.02)["byzantine"]
        assert (detail["decision"], detail["missing"], detail["defaulted"]) == (A, 0, False)

    def test_a_missing_value_is_retreat_at_the_round_deadline(self) -> None:
        """A value later than its round's deadline is discarded; at the last deadline the missing
        values count as RETREAT and the decision says it leaned on a default."""
        n2 = node("n2", ["n1", "n2", "n3", "n4"], m=1, round_ms=100)
        n2.command(1, "begin", {"instance": "n1:1"}, 0.0)
        n2.step("n1", ByzantineValue("n1:1", 0, A, ["n1"]), 0.01)
        n2.step("n3", ByzantineValue("n1:1", 1, A, ["n1", "n3"]), 0.25)  # round 2 ended at 0.2
        assert n2.next_deadline() == pytest.approx(0.2)
        n2.tick(0.2)
        detail = n2.status(0.3)["byzantine"]
        assert (detail["decision"], detail["missing"], detail["defaulted"]) == (R, 2, True)
        assert detail["discarded"] == 1

    @pytest.mark.parametrize("message", [
        ByzantineValue("n1:1", 1, A, ["n1", "n4"]),  # not from the last relayer
        ByzantineValue("n1:1", 0, A, ["n3"]),  # the path does not start at the commander
        ByzantineValue("n1:1", 2, A, ["n1", "n4", "n3"]),  # longer than m+1
        ByzantineValue("n1:1", 0, "surrender", ["n1"]),  # not a value
        ByzantineValue("n1:1", 0, A, ["n1", "n3"]),  # round != len(path) - 1
    ])
    def test_malformed_values_are_discarded(self, message: ByzantineValue) -> None:
        """Wrong sender, path or round: thrown away and counted, never relayed."""
        n2 = node("n2", ["n1", "n2", "n3", "n4"], m=1)
        src = message.path[-1] if message.path != ["n1", "n4"] else "n3"
        out = n2.step(src, message, 0.0)
        assert out.messages == [] and n2.status(0.0)["byzantine"]["discarded"] == 1

    def test_commands(self) -> None:
        """``order`` starts an agreement with a durable counter; bad names and values are refused."""
        n1 = node("n1", ["n1", "n2", "n3"], m=0)
        out = n1.command(7, "order", {"value": A}, 0.0)
        assert out.persist == {"seq": 1} and out.replies[0][1]["instance"] == "n1:1" and len(out.messages) == 2
        with pytest.raises(ValueError, match="attack or retreat"):
            n1.command(8, "order", {"value": "wait"}, 0.0)
        with pytest.raises(ValueError, match="unknown command 'go'"):
            n1.command(9, "go", {}, 0.0)
        with pytest.raises(ValueError, match="not '<commander>:<k>'"):
            n1.command(9, "begin", {"instance": "x"}, 0.0)
        config = resolve_config({"traitors": 0, "m": 0}, ["n1", "n2", "n3"], random.Random(1))
        again = ByzantineNode("n1", ["n1", "n2", "n3"], config, random.Random(1), {"seq": 1})  # restarted
        assert again.command(1, "order", {"value": R}, 0.0).replies[0][1]["instance"] == "n1:2"


class TestSignedMessages:
    NODES = ["n1", "n2", "n3", "n4"]

    def setup_method(self) -> None:
        self.config = resolve_config({"protocol": "sm", "traitors": 0, "m": 2}, self.NODES, random.Random(4))
        self.signers = {n: Signer(n, self.config["keys"]) for n in self.NODES}
        self.n2 = ByzantineNode("n2", self.NODES, self.config, random.Random(1), None)

    def chain(self, value: str, path: list[str]) -> list[bytes]:
        return [self.signers[p].sign("n1:1", value, path[: k + 1]) for k, p in enumerate(path)]

    def test_a_valid_chain_is_accepted_and_relayed_with_a_signature_added(self) -> None:
        out = self.n2.step("n3", ByzantineValue("n1:1", 1, A, ["n1", "n3"], self.chain(A, ["n1", "n3"])), 0.0)
        assert [d for d, _ in out.messages] == ["n4"]
        relayed = out.messages[0][1]
        assert relayed.path == ["n1", "n3", "n2"] and self.signers["n4"].verify_chain("n1:1", A, relayed.path, relayed.signatures)

    @pytest.mark.parametrize("damage", ["forged", "broken", "short", "duplicate"])
    def test_forged_broken_and_duplicated_chains_are_discarded(self, damage: str) -> None:
        """A changed value, a bad signature, a missing one, or a chain seen before: discarded."""
        good = ByzantineValue("n1:1", 1, A, ["n1", "n3"], self.chain(A, ["n1", "n3"]))
        if damage == "forged":  # n3 flips the value and signs its own part honestly
            bad = ByzantineValue("n1:1", 1, R, ["n1", "n3"], [good.signatures[0], self.signers["n3"].sign("n1:1", R, ["n1", "n3"])])
        elif damage == "broken":
            bad = ByzantineValue("n1:1", 1, A, ["n1", "n3"], [good.signatures[0], bytes(64)])
        elif damage == "short":
            bad = ByzantineValue("n1:1", 1, A, ["n1", "n3"], good.signatures[:1])
        else:
            self.n2.step("n3", good, 0.0)
            bad = good
        out = self.n2.step("n3", bad, 0.01)
        detail = self.n2.status(0.01)["byzantine"]
        assert out.messages == [] and detail["discarded"] == 1

    def test_two_signed_values_mean_retreat(self) -> None:
        """A commander caught signing both values: V = {attack, retreat}, the choice is RETREAT."""
        self.n2.step("n1", ByzantineValue("n1:1", 0, A, ["n1"], self.chain(A, ["n1"])), 0.0)
        self.n2.step("n3", ByzantineValue("n1:1", 1, R, ["n1", "n3"], self.chain(R, ["n1", "n3"])), 0.01)
        self.n2.tick(10.0)
        assert self.n2.status(10.0)["byzantine"]["decision"] == R


class _Out:
    def event(self, *args, **kwargs) -> None:
        pass


class TestReport:
    def status(self, decision: str, traitor: bool = False, instance: str = "n1:1", **extra) -> dict:
        return {"byzantine": {"instance": instance, "decision": decision, "traitor": traitor,
                              "traitors": ["n4"], "mode": "om", "faults": 1, "sent": 3, "rounds": 2, **extra}}

    def test_ic1_ic2_over_loyal_lieutenants(self) -> None:
        """Traitors' decisions do not count; a loyal one that decided differently breaks both."""
        nodes = ["n1", "n2", "n3", "n4"]
        ok = {"n1": self.status(""), "n2": self.status(A), "n3": self.status(A), "n4": self.status(R, True)}
        report = evaluate(ok, nodes, "n1:1", A)
        assert (report.ic1, report.ic2, report.messages, report.rounds) == (True, True, 12, 2)
        bad = {**ok, "n3": self.status(R, defaulted=True)}
        report = evaluate(bad, nodes, "n1:1", A)
        assert (report.ic1, report.ic2, report.defaulted) == (False, False, ["n3"])

    def test_a_loyal_lieutenant_that_never_heard_breaks_ic1(self) -> None:
        nodes = ["n1", "n2", "n3", "n4"]
        statuses = {"n1": self.status(""), "n2": self.status(A), "n3": self.status("", instance="")}
        report = evaluate(statuses, nodes, "n1:1", A)
        assert not report.ic1 and report.undecided == ["n3"] and report.down == ["n4"]

"""The Two Generals' core: the chain of acknowledgements, the messengers, the rule, its spec."""

from __future__ import annotations

import io
import math
import random

import pytest
from rich.console import Console

from chaoslab.algorithms.twogenerals.core import DEFAULTS, General, Messenger
from chaoslab.algorithms.twogenerals.spec import SPEC

N1, N2 = "n1", "n2"


def general(node: str, durable=None, **config) -> General:
    return General(node, [N1, N2], {**DEFAULTS, **config}, random.Random(0), durable)


def sent(out) -> list[tuple[str, int]]:
    """(destination, link) of each messenger an output sends."""
    return [(dst, m.link) for dst, m in out.messages]


def propose(g: General, now: float = 0.0, **args):
    return g.command(1, "attack", args, now)


class TestTheChain:
    def test_the_proposal_is_link_one_and_carries_the_attack_time(self) -> None:
        """attack (n1) sends link 1 to n2 with the attack time attack_in_ms ahead, and is durable."""
        g = general(N1)
        out = propose(g, now=5.0)
        assert sent(out) == [(N2, 1)]
        assert out.messages[0][1] == Messenger(attempt=1, attack_at=6.0, link=1)
        assert out.persist == {"attempt": 1}
        assert [e.kind for e in out.events] == ["propose"]

    def test_every_link_that_arrives_is_acknowledged_by_the_next(self) -> None:
        """n2 answers link 1 with link 2, n1 answers 2 with 3, and so on: the chain never ends by itself."""
        a, b = general(N1), general(N2)
        (_, msg), = propose(a).messages
        for now in (0.01, 0.02, 0.03, 0.04):
            receiver, sender = (b, a) if msg.link % 2 else (a, b)
            out = receiver.step(sender.node_id, msg, now)
            (dst, msg), = out.messages
            assert dst == sender.node_id and msg.link == receiver.highest + 1
        assert (a.highest, b.highest) == (4, 3) and (a.acks, b.acks) == (2, 1)

    def test_a_link_goes_with_at_most_k_messengers(self) -> None:
        """One messenger at once, then one every resend_ms, up to `messengers`; then silence."""
        g = general(N1, messengers=3, resend_ms=100)
        propose(g)
        assert g.next_deadline() == pytest.approx(0.1)
        assert sent(g.tick(0.1)) == [(N2, 1)]
        assert sent(g.tick(0.2)) == [(N2, 1)]
        assert g.next_deadline() == 1.0  # only the attack time is left
        assert sent(g.tick(0.3)) == [] and g.sent == 3

    def test_the_next_link_stops_the_messengers_of_the_last(self) -> None:
        """Once link 2 arrives, n1 sends link 3 (a fresh set of messengers) and no more link 1."""
        g = general(N1)
        propose(g)
        assert sent(g.step(N2, Messenger(1, 1.0, 2), 0.05)) == [(N2, 3)]
        assert sent(g.tick(0.16)) == [(N2, 3)]

    def test_repeats_and_strays_are_ignored(self) -> None:
        """A later messenger of a link already acknowledged, an old attempt's, a link out of turn: nothing."""
        b = general(N2)
        b.step(N1, Messenger(1, 1.0, 1), 0.01)
        assert b.step(N1, Messenger(1, 1.0, 1), 0.02).messages == []
        assert b.step(N1, Messenger(0, 1.0, 3), 0.03).messages == []
        assert b.step(N1, Messenger(1, 1.0, 5), 0.03).messages == []
        assert b.highest == 1


class TestTheRule:
    def test_at_the_attack_time_each_general_decides_by_its_acknowledgements(self) -> None:
        """confirmations=1: n1 attacks with link 2, n2 holds with link 1 only (the chain broke at 3)."""
        a, b = general(N1), general(N2)
        propose(a)
        b.step(N1, Messenger(1, 1.0, 1), 0.02)  # n2 sends link 2; suppose all of link 3 is lost
        a.step(N2, Messenger(1, 1.0, 2), 0.04)
        out_a, out_b = a.tick(1.0), b.tick(1.0)
        assert (a.decision, b.decision) == ("attack", "hold")  # n1 attacks alone
        assert out_a.replies == [(1, a.result())] and a.result()["acks"] == 1
        assert [e.data["decision"] for e in out_b.events] == ["hold"]
        assert a.next_deadline() == math.inf and b.next_deadline() == math.inf

    def test_nothing_counts_after_the_attack_time(self) -> None:
        """A messenger arriving at or after the attack time decides first and changes nothing."""
        b = general(N2)
        b.step(N1, Messenger(1, 1.0, 1), 0.02)
        out = b.step(N1, Messenger(1, 1.0, 3), 1.0)
        assert b.decision == "hold" and out.messages == [] and b.acks == 0

    def test_a_plan_that_comes_too_late_is_ignored(self) -> None:
        """A proposal arriving after its attack time starts nothing, even when no acknowledgement is needed."""
        b = general(N2, confirmations=0)
        out = b.step(N1, Messenger(1, 1.0, 1), 1.2)
        assert out.messages == [] and (b.attempt, b.decision, b.state) == (0, "", "idle")

    def test_confirmations_zero_means_n1_attacks_regardless(self) -> None:
        """With no acknowledgement needed, n1 attacks even if every messenger was lost."""
        a = general(N1, confirmations=0)
        propose(a)
        a.tick(1.0)
        assert a.decision == "attack"

    def test_a_general_who_never_heard_stays_idle(self) -> None:
        """n2 without the proposal has no attack time: no deadline, no decision (it does not attack)."""
        b = general(N2)
        assert b.next_deadline() == math.inf and b.status(3.0)["twogenerals"]["state"] == "idle"

    def test_status_shows_the_attempt_as_it_goes(self) -> None:
        """role, attempt as the term, the proposer as leader, and the detail the columns read."""
        a = general(N1)
        propose(a, in_ms=500)
        s = a.status(0.1)
        assert (s["role"], s["term"], s["leader"]) == ("proposer", 1, N1)
        assert s["twogenerals"]["state"] == "waiting" and s["twogenerals"]["attack_in_s"] == pytest.approx(0.4)
        a.tick(0.5)
        assert a.status(0.6)["twogenerals"]["state"] == "holding"
        assert general(N2).status(0)["role"] == "general"


class TestCommands:
    def test_refusals(self) -> None:
        """Only n1 proposes, one attempt at a time, a positive time, and only `attack`."""
        with pytest.raises(ValueError, match="n2 does not propose; n1 does"):
            propose(general(N2))
        with pytest.raises(ValueError, match="unknown command 'retreat'"):
            general(N1).command(1, "retreat", {}, 0.0)
        with pytest.raises(ValueError, match="in_ms must be a time above 0"):
            propose(general(N1), in_ms=0)
        g = general(N1)
        propose(g)
        with pytest.raises(ValueError, match="attempt 1 is still under way"):
            propose(g, now=0.5)
        g.tick(1.0)
        assert sent(propose(g, now=1.5)) == [(N2, 1)] and g.attempt == 2

    def test_a_restarted_proposer_never_reuses_an_attempt_number(self) -> None:
        """The attempt counter is durable; n2 takes a higher attempt as a new proposal."""
        g = general(N1, durable={"attempt": 4})
        out = propose(g)
        assert out.messages[0][1].attempt == 5
        b = general(N2)
        b.step(N1, Messenger(4, 1.0, 1), 0.0)
        b.step(N1, Messenger(5, 2.0, 1), 0.1)
        assert (b.attempt, b.attack_at, b.highest) == (5, 2.0, 1)


class TestSpec:
    def test_exactly_two_nodes(self) -> None:
        """min_nodes = max_nodes = 2; resolve_config and the core refuse any other count."""
        assert (SPEC.min_nodes, SPEC.max_nodes) == (2, 2)
        with pytest.raises(ValueError, match="exactly two nodes, got 3"):
            SPEC.resolve_config({}, ["n1", "n2", "n3"], random.Random(0))
        with pytest.raises(ValueError, match="two nodes"):
            General(N1, [N1, N2, "n3"], DEFAULTS, random.Random(0), None)

    @pytest.mark.parametrize(("config", "message"), [
        ({"messengers": 0}, "messengers must be a whole number, 1 or more"),
        ({"confirmations": -1}, "confirmations must be a whole number, 0 or more"),
        ({"resend_ms": 0}, "resend_ms must be above 0"),
        ({"attack_in_ms": "soon"}, "attack_in_ms must be a number"),
        ({"generals": 3}, "unknown key"),
    ])
    def test_bad_config_is_refused(self, config, message) -> None:
        with pytest.raises(ValueError, match=message):
            SPEC.check_config(config)

    def test_the_panel_renders_each_general(self) -> None:
        """The dashboard panel shows a general's state, messengers and acknowledgements; a crashed one as such."""
        from chaoslab.algorithms.registry import load_ref

        panel = load_ref(SPEC.panel)
        g = general(N1)
        propose(g)
        snap = {"nodes": [{"id": N1, "state": "up", "status": g.status(0.2)}, {"id": N2, "state": "crashed", "status": None}]}
        console = Console(file=io.StringIO(), width=80)
        console.print(panel(snap, width=80))
        text = console.file.getvalue()
        assert "two generals" in text and "waiting" in text and "crashed" in text and "0.8s" in text

"""Parsing what users type for faults: percentages, durations, node lists, cuts."""

from __future__ import annotations

import pytest

from chaoslab.net.parse import (
    format_duration,
    format_percent,
    parse_duration,
    parse_for,
    parse_groups,
    parse_nodes,
    parse_one_way,
    parse_probability,
)


class TestProbability:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("20%", 0.2), ("0.2", 0.2), ("0", 0.0), ("0%", 0.0), ("100%", 1.0), ("1", 1.0),
         ("12.5%", 0.125), (" 5 % ", 0.05), (".5", 0.5), ("1.0", 1.0)],
    )
    def test_accepts_percent_and_fraction(self, text: str, expected: float) -> None:
        """A percentage and a fraction between 0 and 1 both give the probability."""
        assert parse_probability(text) == pytest.approx(expected)

    @pytest.mark.parametrize("text", ["120%", "100.5%", "-5%", "-0.1", "abc", "", "20", "1.5", "150", "%", "2e-1",
                                      "nan", "inf", "20%%"])
    def test_rejects_out_of_range_or_malformed(self, text: str) -> None:
        """Above 100%, negative, unit-less numbers above 1 and junk are errors."""
        with pytest.raises(ValueError):
            parse_probability(text)

    def test_bare_number_above_one_suggests_percent(self) -> None:
        """"20" is probably meant as 20%, and the message says so."""
        with pytest.raises(ValueError, match="did you mean 20%"):
            parse_probability("20")

    def test_above_hundred_percent_says_so(self) -> None:
        """"120%" is rejected with a message naming the limit."""
        with pytest.raises(ValueError, match="more than 100%"):
            parse_probability("120%")


class TestDuration:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("50ms", 0.05), ("1.5s", 1.5), ("2m", 120.0), ("250us", 250e-6), ("250µs", 250e-6), ("1h", 3600.0),
         ("1m30s", 90.0), ("1s 500ms", 1.5), ("0", 0.0), ("0s", 0.0), (" 10s ", 10.0), (".5s", 0.5), ("+3s", 3.0)],
    )
    def test_accepts_units(self, text: str, expected: float) -> None:
        """Durations with us, ms, s, m or h units (or a bare 0) give seconds."""
        assert parse_duration(text) == pytest.approx(expected)

    @pytest.mark.parametrize("text", ["-5ms", "-0s", "5", "10", "ms", "5 parsecs", "", "1.5.2s", "nan", "inf",
                                      "5msx", "s5", "1d", "5 5s"])
    def test_rejects_negative_unitless_or_malformed(self, text: str) -> None:
        """Negative durations, numbers without a unit and junk are errors."""
        with pytest.raises(ValueError):
            parse_duration(text)

    def test_negative_says_negative(self) -> None:
        """"-5ms" is rejected as negative rather than as malformed."""
        with pytest.raises(ValueError, match="negative"):
            parse_duration("-5ms")

    def test_missing_unit_suggests_one(self) -> None:
        """"10" is rejected with the units the user probably meant."""
        with pytest.raises(ValueError, match="10s or 10ms"):
            parse_duration("10")


class TestForDuration:
    def test_positive_duration(self) -> None:
        """--for 10s lasts ten seconds."""
        assert parse_for("10s") == 10.0

    @pytest.mark.parametrize("text", ["0", "0s", "0ms", "-1s", "soon"])
    def test_zero_or_negative_is_an_error(self, text: str) -> None:
        """--for 0 (in any unit) or a negative or malformed duration is refused."""
        with pytest.raises(ValueError):
            parse_for(text)

    def test_zero_message_names_the_option(self) -> None:
        """The message for --for 0 says what is wrong with it."""
        with pytest.raises(ValueError, match=r"--for 0 .*above 0"):
            parse_for("0")

    def test_absurd_length_is_refused_with_the_bound(self) -> None:
        """--for 1000000h is refused, naming the longest it takes (a day)."""
        assert parse_for("24h") == 86400.0
        with pytest.raises(ValueError, match=r"--for 1000000h is longer than the most it takes, 24h"):
            parse_for("1000000h")

    def test_other_options_are_named(self) -> None:
        """The same check for --timeout names --timeout, not --for."""
        with pytest.raises(ValueError, match=r"^--timeout 0s would end at once"):
            parse_for("0s", "--timeout")


class TestNodes:
    def test_comma_separated(self) -> None:
        """Ids are split on commas, with spaces around them ignored."""
        assert parse_nodes("n1, n2,n3") == ["n1", "n2", "n3"]

    @pytest.mark.parametrize(("text", "match"), [("n1,n1", "named twice"), ("n1,,n2", "empty node id"),
                                                  ("", "no node ids"), ("n 1", "not a node id"),
                                                  ("n1,", "empty node id"), ("n1;n2", "not a node id")])
    def test_rejects_repeats_and_bad_ids(self, text: str, match: str) -> None:
        """A repeated id, an empty item or an id with odd characters is an error."""
        with pytest.raises(ValueError, match=match):
            parse_nodes(text)


class TestGroups:
    def test_space_separated_groups(self) -> None:
        """Groups are separated by spaces, nodes within one by commas."""
        assert parse_groups("n1,n2 n3,n4,n5") == [["n1", "n2"], ["n3", "n4", "n5"]]

    def test_groups_as_argv_words(self) -> None:
        """The CLI's separate arguments parse the same as one string."""
        assert parse_groups(["n1,n2", "n3,n4,n5"]) == [["n1", "n2"], ["n3", "n4", "n5"]]

    def test_label_with_bars_parses_back(self) -> None:
        """A partition label such as "n1,n2 | n3" reads back as the same groups."""
        assert parse_groups("n1,n2 | n3") == [["n1", "n2"], ["n3"]]
        assert parse_groups("n1,n2|n3") == [["n1", "n2"], ["n3"]]

    def test_single_group_is_allowed_here(self) -> None:
        """One named group is fine: the cluster's other nodes become a group later."""
        assert parse_groups("n3") == [["n3"]]

    @pytest.mark.parametrize(("text", "match"), [("n1,n1", "named twice"), ("n1,n2 n2,n3", "in two groups"),
                                                  ("n1 n1", "in two groups"), ("", "no groups"),
                                                  ("n1,,n2 n3", "empty node id"), ("n1,n2 n3->n4", "one-way")])
    def test_rejects_bad_groups(self, text: str, match: str) -> None:
        """Repeats within or across groups, empty input and mixed syntax are errors."""
        with pytest.raises(ValueError, match=match):
            parse_groups(text)


class TestOneWay:
    @pytest.mark.parametrize(("text", "expected"), [("n1->n2", (["n1"], ["n2"])), (" n1 -> n2 ", (["n1"], ["n2"])),
                                                    ("n1,n2->n3", (["n1", "n2"], ["n3"]))])
    def test_source_and_destination(self, text: str, expected: tuple[list[str], list[str]]) -> None:
        """"a->b" gives the senders and the receivers that stop hearing them."""
        assert parse_one_way(text) == expected

    @pytest.mark.parametrize(("text", "match"), [("n1->n1", "both sides"), ("n1->", "both sides"),
                                                  ("->n2", "both sides"), ("n1->n2->n3", "not a one-way"),
                                                  ("n1,n2", "not a one-way"), ("n1,n1->n2", "named twice")])
    def test_rejects_bad_cuts(self, text: str, match: str) -> None:
        """A node on both sides, a missing side or a chain is an error."""
        with pytest.raises(ValueError, match=match):
            parse_one_way(text)


class TestMessages:
    @pytest.mark.parametrize(
        ("parse", "text"),
        [(parse_probability, "120%"), (parse_probability, "-5%"), (parse_probability, "x"),
         (parse_duration, "-5ms"), (parse_duration, "5"), (parse_duration, "??"), (parse_for, "0"),
         (parse_nodes, "n1,n1"), (parse_groups, "n1 n1"), (parse_one_way, "n1->n1")],
    )
    def test_every_error_is_one_line(self, parse, text: str) -> None:  # type: ignore[no-untyped-def]
        """Each error message is a single non-empty line a CLI can print as is."""
        with pytest.raises(ValueError) as info:
            parse(text)
        message = str(info.value)
        assert message and "\n" not in message and len(message) < 160


class TestFormat:
    @pytest.mark.parametrize("text", ["50ms", "1.5s", "2m", "250us", "10s", "0s", "90s", "12.5ms"])
    def test_duration_round_trips(self, text: str) -> None:
        """A formatted duration reads back as the same text."""
        assert format_duration(parse_duration(text)) == text

    @pytest.mark.parametrize(("p", "text"), [(0.2, "20%"), (0.125, "12.5%"), (1.0, "100%"), (0.0, "0%"), (0.05, "5%")])
    def test_percent(self, p: float, text: str) -> None:
        """Probabilities print as short percentages that parse back."""
        assert format_percent(p) == text
        assert parse_probability(text) == pytest.approx(p)

    def test_large_duration_has_no_exponent(self) -> None:
        """Long durations print as plain numbers, never with an exponent."""
        assert "e" not in format_duration(1234567.0)
        assert parse_duration(format_duration(1234567.0)) == pytest.approx(1234567.0)

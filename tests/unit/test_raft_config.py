"""The [raft] config section: defaults, validation and its one-line errors."""

from __future__ import annotations

import math
import random
import tomllib
from pathlib import Path

import pytest

from chaoslab.algorithms import get_algorithm
from chaoslab.algorithms.kv import KVStore
from chaoslab.algorithms.raft import RaftConfig, RaftNode, parse_config

ROOT = Path(__file__).resolve().parents[2]


class TestParseConfig:
    def test_empty_section_gives_defaults(self) -> None:
        """Missing keys take the defaults: 150-300 ms election timeout, 50 ms heartbeats, extensions on."""
        config = parse_config({})
        assert config == RaftConfig()
        assert config.election_timeout_ms == (150.0, 300.0)
        assert config.heartbeat_ms == 50.0
        assert config.pre_vote is True and config.check_quorum is True

    def test_shipped_cluster_file_parses(self) -> None:
        """clusters/raft.toml's [raft] section is valid and equals the defaults."""
        section = tomllib.loads((ROOT / "clusters" / "raft.toml").read_text())["raft"]
        assert parse_config(section) == RaftConfig()

    def test_values_are_read_and_exposed_in_seconds(self) -> None:
        """Settings are kept in ms as written and offered in seconds to the core."""
        config = parse_config({"election_timeout_ms": [100, 250.5], "heartbeat_ms": 20, "pre_vote": False})
        assert config.election_timeout_ms == (100.0, 250.5)
        assert config.election_timeout_min == pytest.approx(0.1)
        assert config.election_timeout_max == pytest.approx(0.2505)
        assert config.heartbeat_interval == pytest.approx(0.02)
        assert config.pre_vote is False and config.check_quorum is True

    def test_tuple_is_accepted_for_the_timeout_range(self) -> None:
        """A tuple works as well as a TOML list."""
        assert parse_config({"election_timeout_ms": (200, 400)}).election_timeout_ms == (200.0, 400.0)

    def test_unknown_key_is_named(self) -> None:
        """An unknown key is an error naming it and listing the known ones."""
        with pytest.raises(ValueError, match=r"unknown raft setting 'heartbeat' \(known: .*heartbeat_ms"):
            parse_config({"heartbeat": 50})

    @pytest.mark.parametrize(
        ("section", "key"),
        [
            ({"election_timeout_ms": "150-300"}, "election_timeout_ms"),
            ({"election_timeout_ms": [150]}, "election_timeout_ms"),
            ({"election_timeout_ms": [150, 300, 450]}, "election_timeout_ms"),
            ({"election_timeout_ms": [0, 300]}, "election_timeout_ms"),
            ({"election_timeout_ms": [-10, 300]}, "election_timeout_ms"),
            ({"election_timeout_ms": [300, 300]}, "election_timeout_ms"),
            ({"election_timeout_ms": [300, 150]}, "election_timeout_ms"),
            ({"election_timeout_ms": [True, 300]}, "election_timeout_ms"),
            ({"election_timeout_ms": ["150", 300]}, "election_timeout_ms"),
            ({"election_timeout_ms": [math.nan, 300]}, "election_timeout_ms"),
            ({"election_timeout_ms": [150, math.inf]}, "election_timeout_ms"),
            ({"heartbeat_ms": 0}, "heartbeat_ms"),
            ({"heartbeat_ms": -5}, "heartbeat_ms"),
            ({"heartbeat_ms": "50"}, "heartbeat_ms"),
            ({"heartbeat_ms": True}, "heartbeat_ms"),
            ({"heartbeat_ms": 150}, "heartbeat_ms"),
            ({"heartbeat_ms": 60, "election_timeout_ms": [50, 100]}, "heartbeat_ms"),
            ({"pre_vote": "yes"}, "pre_vote"),
            ({"check_quorum": 1}, "check_quorum"),
        ],
    )
    def test_invalid_values_give_one_line_naming_the_key(self, section: dict, key: str) -> None:
        """Each invalid value raises ValueError whose single-line message names the key."""
        with pytest.raises(ValueError) as info:
            parse_config(section)
        message = str(info.value)
        assert f"raft.{key}" in message
        assert "\n" not in message

    def test_section_must_be_a_table(self) -> None:
        """A non-table section is rejected with a clear message."""
        with pytest.raises(ValueError, match="must be a table"):
            parse_config([("heartbeat_ms", 50)])  # type: ignore[arg-type]


class TestRegistry:
    def test_registry_builds_a_raft_node(self) -> None:
        """get_algorithm('raft') validates config and builds a RaftNode through its factory."""
        spec = get_algorithm("raft")
        spec.check_config({"heartbeat_ms": 30})
        with pytest.raises(ValueError):
            spec.check_config({"heartbeat_ms": 500})
        node = spec.factory("n2", ["n1", "n2", "n3"], {"heartbeat_ms": 30}, random.Random(1), None)
        assert isinstance(node, RaftNode)
        assert node.node_id == "n2" and node.peers == ["n1", "n3"]
        assert node.config.heartbeat_ms == 30.0

    def test_ready_means_some_node_leads(self) -> None:
        """The raft spec calls a cluster ready once any status reports the leader role."""
        ready = get_algorithm("raft").is_ready
        assert not ready([{"role": "follower"}, {"role": "candidate"}])
        assert ready([{"role": "follower"}, {"role": "leader"}])

    def test_node_ids_are_checked(self) -> None:
        """A node must be one of the cluster's ids, and ids must be distinct."""
        config = parse_config({})
        with pytest.raises(ValueError, match="not one of the nodes"):
            RaftNode("n9", ["n1", "n2"], config, random.Random(0), None, KVStore())
        with pytest.raises(ValueError, match="duplicate"):
            RaftNode("n1", ["n1", "n1"], config, random.Random(0), None, KVStore())

"""A node's status between the core's dict and ``chaoslab.v1.NodeStatus``, both ways.

A core reports ``status()`` as a dict whose algorithm detail sits under the spec's
``detail`` key. Where ``NodeStatus`` has a typed detail of that name (``raft``) it is
filled field by field; any other algorithm's detail travels as JSON in
``PluginStatus`` and comes back under the same key, so readers see one shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from chaoslab.v1 import control_pb2, node_pb2
from chaoslab.wire.plain import to_plain

_TYPED = {f.name for f in node_pb2.NodeStatus.DESCRIPTOR.oneofs_by_name["detail"].fields} - {"plugin"}


def status_to_proto(status: Mapping[str, Any], detail_key: str) -> node_pb2.NodeStatus:
    """``NodeStatus`` from a core's status dict (keys not in the proto are an error, as in ParseDict)."""
    if detail_key in _TYPED or detail_key not in status:
        return json_format.ParseDict(status, node_pb2.NodeStatus())
    rest = {k: v for k, v in status.items() if k != detail_key}
    pb = json_format.ParseDict(rest, node_pb2.NodeStatus())
    pb.plugin.key = detail_key
    pb.plugin.json = json.dumps(status[detail_key], separators=(",", ":"), sort_keys=True)
    return pb


def status_to_dict(status: node_pb2.NodeStatus) -> dict[str, Any]:
    """Plain data (:func:`~chaoslab.wire.plain.to_plain`), a plug-in's detail back under its key."""
    return plain_detail(to_plain(status))


def plain_detail(plain: dict[str, Any]) -> dict[str, Any]:
    """Replace ``plugin: {key, json}`` in a plain NodeStatus by ``key: <the decoded detail>``."""
    plugin = plain.pop("plugin", None)
    if plugin is not None:
        plain[plugin["key"]] = json.loads(plugin["json"] or "{}")
    return plain


def cluster_to_dict(cluster: control_pb2.ClusterStatus) -> dict[str, Any]:
    """A ``ClusterStatus`` as the JSON shape of ``status --json`` and of dashboard snapshots.

    Plain data, each node's status as :func:`status_to_dict` gives it, plus ``role``,
    ``term`` and ``leader`` lifted to each node (``None`` when the node did not answer):
    the keys scripts use most. The one converter: the CLI, the dashboard's poller and
    the dashboard's tests all build snapshots with it.
    """
    snap = to_plain(cluster)
    for node in snap.get("nodes", []):
        s = node.get("status")
        if s:
            plain_detail(s)
        node["role"] = s["role"] if s else None
        node["term"] = s["term"] if s else None
        node["leader"] = (s["leader"] or None) if s else None
    return snap


def node_statuses(cluster: control_pb2.ClusterStatus) -> dict[str, dict[str, Any]]:
    """``{node id: status dict}`` of the nodes that answered."""
    return {n.id: status_to_dict(n.status) for n in cluster.nodes if n.HasField("status")}

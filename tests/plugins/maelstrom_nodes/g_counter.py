#!/usr/bin/env python3
"""A correct grow-only counter, state-based: each node counts its own adds, gossips every
node's count it knows to all others every 100 ms, and merges by taking the larger; the value
is the sum. A partition only delays convergence."""
from node import Node

node = Node()
counts = {}  # node -> the sum of its adds, as far as this node knows


@node.on("add")
def add(msg):
    counts[node.node_id] = counts.get(node.node_id, 0) + msg["body"]["delta"]
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def read(msg):
    node.reply(msg, {"type": "read_ok", "value": sum(counts.values())})


@node.on("state")
def merge(msg):
    for other, count in msg["body"]["counts"].items():
        counts[other] = max(counts.get(other, 0), count)


def gossip():
    for peer in node.others():
        node.send(peer, {"type": "state", "counts": counts})


node.every(0.1, gossip)
node.run()

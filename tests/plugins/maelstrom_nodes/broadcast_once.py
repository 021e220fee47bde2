#!/usr/bin/env python3
"""A planted bug: a broadcast node that tells each neighbour once and never retries.

Fine on a healthy network; a message broadcast while its node is cut off never reaches
the others (`all_delivered` must catch it)."""
from node import Node

node = Node()
messages = set()
neighbours = None


def spread(message, source=None):
    if message in messages:
        return
    messages.add(message)
    for peer in neighbours if neighbours is not None else node.others():
        if peer != source:
            node.send(peer, {"type": "gossip", "message": message})


@node.on("topology")
def topology(msg):
    global neighbours
    neighbours = list(msg["body"]["topology"].get(node.node_id, []))
    node.reply(msg, {"type": "topology_ok"})


@node.on("broadcast")
def broadcast(msg):
    spread(msg["body"]["message"])
    node.reply(msg, {"type": "broadcast_ok"})


@node.on("read")
def read(msg):
    node.reply(msg, {"type": "read_ok", "messages": sorted(messages)})


@node.on("gossip")
def receive(msg):
    spread(msg["body"]["message"], source=msg["src"])


node.run()

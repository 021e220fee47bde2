#!/usr/bin/env python3
"""A correct Maelstrom broadcast node: gossip to topology neighbours, retried until acknowledged.

Each node keeps, per neighbour, the messages that neighbour has not acknowledged yet and
resends them every 100 ms, so a partition only delays delivery. Neighbours come from the
``topology`` message; until one arrives, every other node is a neighbour.
``main(retry=False)`` is the planted bug of broadcast_once.py."""
import os

from node import Node

node = Node()
messages = set()
neighbours = None  # from topology
unacked = {}  # neighbour -> messages it has not acknowledged
resend = True


def peers():
    return neighbours if neighbours is not None else node.others()


def learn(new, source=None):
    fresh = set(new) - messages
    messages.update(fresh)
    for peer in peers():
        if peer != source and fresh:
            unacked.setdefault(peer, set()).update(fresh)


def gossip():
    for peer, pending in unacked.items():
        if pending:
            node.send(peer, {"type": "gossip", "messages": sorted(pending)})
            if not resend:
                pending.clear()  # the bug: sent once, as if it could not be lost


@node.on("topology")
def topology(msg):
    global neighbours
    neighbours = list(msg["body"]["topology"].get(node.node_id, []))
    node.log(f"{node.node_id} neighbours {neighbours} (pid {os.getpid()})")
    node.reply(msg, {"type": "topology_ok"})


@node.on("broadcast")
def broadcast(msg):
    learn([msg["body"]["message"]])
    node.reply(msg, {"type": "broadcast_ok"})
    gossip()


@node.on("read")
def read(msg):
    node.reply(msg, {"type": "read_ok", "messages": sorted(messages)})


@node.on("gossip")
def receive(msg):
    learn(msg["body"]["messages"], source=msg["src"])
    node.send(msg["src"], {"type": "gossip_ok", "messages": msg["body"]["messages"]})


@node.on("gossip_ok")
def acknowledged(msg):
    unacked.get(msg["src"], set()).difference_update(msg["body"]["messages"])


def main(retry=True):
    global resend
    resend = retry
    if retry:
        node.every(0.1, gossip)
    node.run()


if __name__ == "__main__":
    main()

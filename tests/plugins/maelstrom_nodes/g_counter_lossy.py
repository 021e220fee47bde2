#!/usr/bin/env python3
"""A planted bug: a counter that sends each add to the other nodes once, as an operation,
with no retry. An add taken while its node is cut off never reaches the others, which read
less than the acknowledged sum for ever (`counter_sum` must catch it)."""
from node import Node

node = Node()
total = 0


@node.on("add")
def add(msg):
    global total
    total += msg["body"]["delta"]
    for peer in node.others():
        node.send(peer, {"type": "delta", "delta": msg["body"]["delta"]})
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def read(msg):
    node.reply(msg, {"type": "read_ok", "value": total})


@node.on("delta")
def delta(msg):
    global total
    total += msg["body"]["delta"]


node.run()

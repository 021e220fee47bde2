#!/usr/bin/env python3
"""A planted bug: an echo node that gets every 7th echo wrong (one character short) and
never answers every 11th (`echoes_match` must catch the first; the second is a timeout)."""
from node import Node

node = Node()
seen = 0


@node.on("echo")
def echo(msg):
    global seen
    seen += 1
    if seen % 11 == 0:
        return
    text = msg["body"]["echo"]
    node.reply(msg, {"type": "echo_ok", "echo": text[:-1] if seen % 7 == 0 else text})


node.run()

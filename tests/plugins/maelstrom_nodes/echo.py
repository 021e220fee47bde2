#!/usr/bin/env python3
"""A Maelstrom echo node, as a learner would write it."""
import json
import os
import sys

node_id = None
next_id = 0
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    next_id += 1
    reply = {"msg_id": next_id, "in_reply_to": body.get("msg_id")}
    if body["type"] == "init":
        node_id = body["node_id"]
        reply["type"] = "init_ok"
        print(f"{node_id} initialised (pid {os.getpid()})", file=sys.stderr, flush=True)
    elif body["type"] == "echo":
        reply.update(type="echo_ok", echo=body["echo"])
    else:
        continue
    print(json.dumps({"src": node_id, "dest": msg["src"], "body": reply}), flush=True)

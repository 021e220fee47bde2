#!/usr/bin/env python3
"""A Maelstrom node that breaks the protocol on purpose: faulty.py MODE WHEN.

MODE: garbage (a non-JSON line), nodest (a message without dest), unknowndest (to "n99"),
exit (exits with code 7). WHEN: init (instead of answering init) or echo (when asked to echo;
init is answered properly)."""
import json
import sys

mode, when = sys.argv[1], sys.argv[2]
node_id = None


def misbehave() -> None:
    if mode == "garbage":
        print("hello, I am not JSON", flush=True)
    elif mode == "nodest":
        print(json.dumps({"src": node_id, "body": {"type": "echo_ok"}}), flush=True)
    elif mode == "unknowndest":
        print(json.dumps({"src": node_id, "dest": "n99", "body": {"type": "gossip"}}), flush=True)
    elif mode == "exit":
        print("giving up", file=sys.stderr, flush=True)
        sys.exit(7)


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        if when == "init":
            misbehave()
            continue
        print(json.dumps({"src": node_id, "dest": msg["src"], "body": {"type": "init_ok", "in_reply_to": body["msg_id"]}}), flush=True)
    elif body["type"] == "echo" and when == "echo":
        misbehave()

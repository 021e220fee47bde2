#!/usr/bin/env python3
"""A linearizable Maelstrom lin-kv node: the first node holds the store, the others forward.

Clients may talk to any node; a non-leader forwards the request to the leader and relays its
answer, so every operation takes effect at one place, in one order. Error codes as Maelstrom
documents them: 20 key-does-not-exist, 22 precondition-failed."""
import itertools
import json
import os
import sys

node_id = None
leader = None
store: dict = {}
ids = itertools.count(1)
forwarded: dict = {}  # our msg_id to the leader -> (client, client's msg_id)


def send(dest: str, body: dict) -> None:
    body["msg_id"] = next(ids)
    print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)


def apply(req: dict) -> dict:
    key, kind = req["key"], req["type"]
    if kind == "read":
        if key not in store:
            return {"type": "error", "code": 20, "text": "not found"}
        return {"type": "read_ok", "value": store[key]}
    if kind == "write":
        store[key] = req["value"]
        return {"type": "write_ok"}
    if kind == "cas":
        if key not in store:
            return {"type": "error", "code": 20, "text": "not found"}
        if store[key] != req["from"]:
            return {"type": "error", "code": 22, "text": f"expected {req['from']}, had {store[key]}"}
        store[key] = req["to"]
        return {"type": "cas_ok"}
    return {"type": "error", "code": 10, "text": f"unsupported {kind}"}


for line in sys.stdin:
    msg = json.loads(line)
    src, body = msg["src"], msg["body"]
    kind = body["type"]
    if kind == "init":
        node_id, leader = body["node_id"], body["node_ids"][0]
        print(f"{node_id} lin-kv, leader {leader} (pid {os.getpid()})", file=sys.stderr, flush=True)
        send(src, {"type": "init_ok", "in_reply_to": body["msg_id"]})
    elif kind in ("read", "write", "cas"):
        if node_id == leader:
            send(src, {**apply(body), "in_reply_to": body["msg_id"]})
        else:
            fwd = {"type": "fwd", "req": body}
            send(leader, fwd)
            forwarded[fwd["msg_id"]] = (src, body["msg_id"])
    elif kind == "fwd":
        send(src, {"type": "fwd_ok", "in_reply_to": body["msg_id"], "resp": apply(body["req"])})
    elif kind == "fwd_ok":
        if body["in_reply_to"] in forwarded:
            client, client_msg_id = forwarded.pop(body["in_reply_to"])
            send(client, {**body["resp"], "in_reply_to": client_msg_id})

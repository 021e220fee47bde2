#!/usr/bin/env python3
"""A deliberately NOT linearizable lin-kv node: each node serves its own copy and replicates
writes to the others a while later (asynchronously), so a read elsewhere can be stale."""
import itertools
import json
import os
import sys
import threading

LAG_S = 0.3
node_id = None
peers: list = []
store: dict = {}
ids = itertools.count(1)
out = threading.Lock()


def send(dest: str, body: dict) -> None:
    with out:
        body["msg_id"] = next(ids)
        print(json.dumps({"src": node_id, "dest": dest, "body": body}), flush=True)


def replicate(key, value) -> None:
    for peer in peers:
        send(peer, {"type": "replicate", "key": key, "value": value})


def later(key, value) -> None:
    threading.Timer(LAG_S, replicate, (key, value)).start()


for line in sys.stdin:
    msg = json.loads(line)
    src, body = msg["src"], msg["body"]
    kind = body["type"]
    reply = None
    with out:
        if kind == "init":
            node_id = body["node_id"]
            peers = [n for n in body["node_ids"] if n != node_id]
            print(f"{node_id} stale-kv (pid {os.getpid()})", file=sys.stderr, flush=True)
            reply = {"type": "init_ok"}
        elif kind == "read":
            reply = {"type": "read_ok", "value": store[body["key"]]} if body["key"] in store else {"type": "error", "code": 20}
        elif kind == "write":
            store[body["key"]] = body["value"]
            reply = {"type": "write_ok"}
            later(body["key"], body["value"])
        elif kind == "cas":
            key = body["key"]
            if key not in store:
                reply = {"type": "error", "code": 20}
            elif store[key] != body["from"]:
                reply = {"type": "error", "code": 22}
            else:
                store[key] = body["to"]
                reply = {"type": "cas_ok"}
                later(key, body["to"])
        elif kind == "replicate":
            store[body["key"]] = body["value"]
    if reply is not None:
        send(src, {**reply, "in_reply_to": body["msg_id"]})

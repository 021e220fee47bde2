#!/usr/bin/env python3
"""A Maelstrom node for benchmarks/maelstrom_host.py: times peer messages from inside the program.

Client message ``{"type": "rtt", "count": N, "peer": "n2"}``: N sequential ping/pong round trips
with the peer; replies the round trips in microseconds. ``{"type": "flood", "count": N,
"peer": "n2"}``: N messages to the peer, back to back in windows of WINDOW (the peer acknowledges
the last of each); replies the seconds it took."""
import json
import sys
import time

node_id = None
WINDOW = 1000  # messages in flight at most: under the lab's 2,000-message link queues, so none is dropped
job = None  # the client request being served: dict with its state
write = sys.stdout.write


def send(dest, body):
    write(json.dumps({"src": node_id, "dest": dest, "body": body}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    msg = json.loads(line)
    src, body = msg["src"], msg["body"]
    kind = body["type"]
    if kind == "init":
        node_id = body["node_id"]
        send(src, {"type": "init_ok", "in_reply_to": body["msg_id"]})
    elif kind == "rtt":
        job = {"client": src, "msg_id": body["msg_id"], "left": body["count"], "peer": body["peer"], "rtts": []}
        job["t"] = time.perf_counter()
        send(job["peer"], {"type": "ping"})
    elif kind == "ping":
        send(src, {"type": "pong"})
    elif kind == "pong":
        job["rtts"].append(round((time.perf_counter() - job["t"]) * 1e6))
        job["left"] -= 1
        if job["left"]:
            job["t"] = time.perf_counter()
            send(job["peer"], {"type": "ping"})
        else:
            send(job["client"], {"type": "rtt_ok", "in_reply_to": job["msg_id"], "rtts": job["rtts"]})
    elif kind == "flood":
        job = {"client": src, "msg_id": body["msg_id"], "t": time.perf_counter(), "n": body["count"],
               "peer": body["peer"], "sent": 0}
        kind = "fa"  # send the first window
        body = {"upto": 0}
    if kind == "fa":  # the peer has everything up to "upto": send the next window, or report
        if job["sent"] >= job["n"]:
            send(job["client"], {"type": "flood_ok", "in_reply_to": job["msg_id"], "got": job["sent"],
                                 "seconds": time.perf_counter() - job["t"]})
        else:
            end = min(job["sent"] + WINDOW, job["n"])
            for i in range(job["sent"], end):
                write(json.dumps({"src": node_id, "dest": job["peer"], "body": {"type": "f", "i": i, "last": end - 1}}) + "\n")
            sys.stdout.flush()
            job["sent"] = end
    elif kind == "f" and body["i"] == body["last"]:
        send(src, {"type": "fa", "upto": body["i"]})

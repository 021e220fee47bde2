"""A small Maelstrom node library for the test nodes beside it (not a node itself), in the
shape of Maelstrom's own demo libraries: handlers by message type, replies with
``in_reply_to``, and timers. One lock serialises handlers, timers and stdout."""
import json
import sys
import threading


class Node:
    def __init__(self):
        self.node_id = None
        self.node_ids = []
        self.handlers = {}
        self.lock = threading.Lock()
        self._next_id = 0

    def on(self, kind):
        """Decorator: ``@node.on("read")`` handles messages of that type."""
        def register(handler):
            self.handlers[kind] = handler
            return handler
        return register

    def others(self):
        return [n for n in self.node_ids if n != self.node_id]

    def send(self, dest, body):
        self._next_id += 1
        body = {**body, "msg_id": self._next_id}
        print(json.dumps({"src": self.node_id, "dest": dest, "body": body}), flush=True)

    def reply(self, request, body):
        self.send(request["src"], {**body, "in_reply_to": request["body"]["msg_id"]})

    def every(self, seconds, action):
        """Run ``action()`` every ``seconds`` (under the lock) once the node is initialised."""
        def loop():
            stop = threading.Event()
            while not stop.wait(seconds):
                with self.lock:
                    if self.node_id is not None:
                        action()
        threading.Thread(target=loop, daemon=True).start()

    def log(self, text):
        print(text, file=sys.stderr, flush=True)

    def run(self):
        for line in sys.stdin:
            msg = json.loads(line)
            kind = msg["body"]["type"]
            with self.lock:
                if kind == "init":
                    self.node_id, self.node_ids = msg["body"]["node_id"], msg["body"]["node_ids"]
                    self.reply(msg, {"type": "init_ok"})
                elif kind in self.handlers:
                    self.handlers[kind](msg)

"""A second local user's attempts on someone else's cluster (run by test_ownership.py).

    python intruder.py RUN_DIR UID GID

Everything it needs (grpc, the generated stubs, the raft messages) is imported first; then
it drops to UID/GID, as a second user with their own copy of chaoslab would be, and tries:
reading the cluster's secret, a KV write on a node port, ChangeFaults on a proxy port, a
forged AppendEntriesReply "from n1" with a huge term on a node port and on a proxy port, and
the owner's unix sockets. Prints one JSON object: each attempt's outcome.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import grpc

from chaoslab.algorithms.raft.messages import MESSAGE_TYPES, AppendEntriesReply
from chaoslab.v1 import control_pb2, control_pb2_grpc, kv_pb2, kv_pb2_grpc, peer_pb2, peer_pb2_grpc
from chaoslab.wire.codec import Codec


def outcome(call) -> str:  # type: ignore[no-untyped-def]
    try:
        call()
    except grpc.RpcError as exc:
        return exc.code().name
    except OSError as exc:
        return type(exc).__name__
    return "OK"


def main() -> None:
    run_dir, uid, gid = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    spec = json.loads((run_dir / "cluster.json").read_text())  # read while still the owner: ports are public anyway
    ports = {a["id"]: (a["port"], a["proxy_port"]) for a in spec["addresses"]}
    codec = Codec(MESSAGE_TYPES, "term")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    assert os.getuid() == uid

    node_port, proxy_port = ports["n2"]
    forged = codec.encode("n1", "n2", AppendEntriesReply(term=1002, success=False), seq=1)

    def forge(port: int) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            peer_pb2_grpc.PeerStub(channel).Send(iter([peer_pb2.EnvelopeBatch(envelopes=[forged] * 5)]), timeout=3)

    def kv_write() -> None:
        with grpc.insecure_channel(f"127.0.0.1:{node_port}") as channel:
            request = kv_pb2.KVRequest(client_id="intruder", seq=1, op=kv_pb2.KV_OP_PUT, key="owned", value="by intruder")
            # every node, in case one is the leader
            for port, _ in ports.values():
                with grpc.insecure_channel(f"127.0.0.1:{port}") as each:
                    kv_pb2_grpc.KVStub(each).Execute(request, timeout=3)

    def change_faults() -> None:
        with grpc.insecure_channel(f"127.0.0.1:{proxy_port}") as channel:
            change = control_pb2.FaultChange(add=[control_pb2.LinkRule(kind="drop", drop=1.0)])
            control_pb2_grpc.ProxyStub(channel).ChangeFaults(change, timeout=3)

    def owner_socket(name: str):  # type: ignore[no-untyped-def]
        def call() -> None:
            with grpc.insecure_channel(f"unix:{run_dir / name}") as channel:
                control_pb2_grpc.ControlStub(channel).Status(control_pb2.ClusterStatusRequest(), timeout=3)
        return call

    print(json.dumps({
        "read_secret": outcome(lambda: (run_dir / "secret").read_text()),
        "kv_write": outcome(kv_write),
        "change_faults_on_proxy_port": outcome(change_faults),
        "forged_peer_message_to_node": outcome(lambda: forge(node_port)),
        "forged_peer_message_to_proxy": outcome(lambda: forge(proxy_port)),
        "control_socket": outcome(owner_socket("control.sock")),
    }))


if __name__ == "__main__":
    main()

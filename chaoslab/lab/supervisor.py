"""The supervisor: owns a cluster's processes and answers its Control service.

    python -m chaoslab.lab.supervisor RUN_DIR

Started detached by ``chaoslab up`` (its own session), it assigns ports,
writes ``cluster.json``, starts the proxy and the nodes, and serves Control on
a unix socket in the run directory. Children ask the kernel to kill them when
it dies (see :mod:`chaoslab.process.lifeline`), so whatever happens to the
supervisor, nothing outlives it. On SIGTERM/SIGINT/SIGHUP or
``Control.Shutdown`` it stops the children and exits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

from chaoslab.algorithms import get_algorithm
from chaoslab.errors import LabError
from chaoslab.events import EventLog
from chaoslab.lab.ports import assign_ports
from chaoslab.lab.rundir import last_line, remove_sockets
from chaoslab.net.proto import to_proto
from chaoslab.net.rules import FaultChange, fault_rule
from chaoslab.process.child import EXIT_PORT_IN_USE, EXIT_STARTUP_FAILED
from chaoslab.process.rundir import RunDir
from chaoslab.process.spec import HOST, ClusterSpec
from chaoslab.seeds import derive_rng
from chaoslab.v1 import control_pb2, control_pb2_grpc, node_pb2, node_pb2_grpc
from chaoslab.wire.auth import secret_metadata
from chaoslab.wire.status import node_statuses
from chaoslab.wire.streams import bind_all, new_server

log = logging.getLogger("chaoslab.lab")

STATUS_DEADLINE = 0.5  # seconds a node has to answer Status before it counts as not answering
STOP_GRACE = 2.0  # seconds between SIGTERM and SIGKILL on shutdown
LEADERS_EVERY = 0.5  # seconds between the supervisor's looks at who leads (``leaders`` events)
PROXY_START = 10.0  # seconds the proxy has to take the initial faults
LOG_LINES = 3  # lines of a child's log quoted when it exits on its own


@dataclass
class Child:
    """One process the supervisor owns (a node or the proxy)."""

    name: str
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    state: str = "starting"  # starting | up | paused | crashed | stopped
    restarts: int = 0
    expected_exit: bool = False  # we killed it on purpose
    answered: bool = False
    exit_note: str = ""  # why it exited on its own, for status

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def spawn(self, extra: list[str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(
                [*self.argv, *extra], stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, close_fds=True,
                process_group=0,  # its own group, so a signal reaches what it runs too (a node's program)
            )
        self.state = "starting"
        self.answered = False
        self.expected_exit = False
        self.exit_note = ""

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            if sig == signal.SIGTERM:  # a stop request: the node stops what it runs itself, in order
                self.proc.send_signal(sig)
                return
            try:
                os.killpg(self.proc.pid, sig)  # SIGSTOP / SIGCONT / SIGKILL reach a node's program too
            except ProcessLookupError:
                pass


@dataclass
class NodeHandle(Child):
    channel: grpc.aio.Channel | None = None
    stub: node_pb2_grpc.NodeStub | None = None


class Supervisor(control_pb2_grpc.ControlServicer):
    def __init__(self, run: RunDir) -> None:
        self.run = run
        self.spec = ClusterSpec.load(run.spec)
        self.algorithm = get_algorithm(self.spec.algorithm)
        self.events = EventLog(run.events, "lab")
        self.started_at = time.time()
        self.metadata = secret_metadata(run.secret())  # on every call to a node
        self.stop_requested = asyncio.Event()
        self.rng = derive_rng(self.spec.seed, "lab", "pick")  # `crash random` and friends
        python = sys.executable
        me = str(os.getpid())
        self.proxy = Child("proxy", [python, "-m", "chaoslab.net.proxy", str(run.path), "--parent-pid", me], run.proxy_log)
        self.nodes: dict[str, NodeHandle] = {
            i: NodeHandle(
                i,
                [python, "-m", "chaoslab.runtime.node", str(run.path), i, "--parent-pid", me],
                run.node_log(i),
            )
            for i in self.spec.node_ids
        }

    # -- lifecycle ----------------------------------------------------------

    async def start(self) -> grpc.aio.Server:
        self.spec.addresses = assign_ports(self.spec)
        self.spec.save(self.run.cluster)
        server = new_server()
        control_pb2_grpc.add_ControlServicer_to_server(self, server)
        sock = self.run.make_socket_dir() / "control.sock"
        sock.unlink(missing_ok=True)
        error = bind_all(server, [f"unix:{sock}"])
        if error:
            raise LabError(error)
        self.proxy.spawn([])
        self.proxy_channel = grpc.aio.insecure_channel(self.run.proxy_address())
        self.proxy_stub = control_pb2_grpc.ProxyStub(self.proxy_channel)
        await self._initial_faults()  # before anyone asks for status, and before any node sends
        await server.start()
        for node in self.nodes.values():
            node.spawn(["--incarnation", "0"])
            addr = self.spec.address(node.name)
            node.channel = grpc.aio.insecure_channel(f"{HOST}:{addr.port}")
            node.stub = node_pb2_grpc.NodeStub(node.channel)
            self.events.emit("spawn", node=node.name, pid=node.pid)
        self._write_pids()
        self.events.emit("up", cluster=self.spec.name, algorithm=self.spec.algorithm, nodes=self.spec.nodes, seed=self.spec.seed)
        return server

    async def _initial_faults(self) -> None:
        """The cluster definition's ``faults``, in force before any node sends a message: the
        proxy gets them as one change as soon as it answers (polled with a deadline; a proxy
        that exits meanwhile fails the start as watch_children would, e.g. its port in use)."""
        if not self.spec.faults:
            return
        request = to_proto(FaultChange(add=tuple(fault_rule(text) for text in self.spec.faults)))
        deadline = time.monotonic() + PROXY_START
        while True:
            try:
                await self.proxy_stub.ChangeFaults(request, timeout=0.5, wait_for_ready=True)
                return
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE):
                    raise LabError(f"the proxy refused the initial faults: {exc.details()}") from None
            if self.proxy.proc is not None and self.proxy.proc.poll() is not None:
                raise LabError(f"{self.proxy.name}: {last_line(self.proxy.log_path)}")
            if time.monotonic() >= deadline:
                raise LabError(f"the proxy did not answer within {PROXY_START:g}s to take the initial faults")

    def _write_pids(self) -> None:
        pids = {"supervisor": os.getpid(), "proxy": self.proxy.pid, "nodes": {n.name: n.pid for n in self.nodes.values()}}
        tmp = self.run.pids.with_suffix(".tmp")
        tmp.write_text(json.dumps(pids))
        tmp.replace(self.run.pids)

    async def watch_children(self) -> None:
        """Notice exits we did not cause; a dead proxy is fatal, a dead node is a crash."""
        while not self.stop_requested.is_set():
            for child in [self.proxy, *self.nodes.values()]:
                if child.proc is None or child.state in ("crashed", "stopped"):
                    continue
                code = child.proc.poll()
                if code is None:
                    continue
                child.state = "crashed"
                if not child.expected_exit:
                    child.exit_note = exit_note(child, code)
                    self.events.emit("exit", node=child.name, pid=child.pid, code=code)
                    # A port taken at start-up fails `up`; a restarted node that cannot bind is
                    # one crashed node (its restart reports why), not the end of the cluster.
                    if code in (EXIT_PORT_IN_USE, EXIT_STARTUP_FAILED) and not child.answered and not child.restarts:
                        self._fail_startup(f"{child.name}: {last_line(child.log_path)}")
                    elif child is self.proxy:
                        self._fail_startup(f"the proxy exited with code {code}: {last_line(child.log_path)}")
            await asyncio.sleep(0.05)

    async def watch_leaders(self, every: float = LEADERS_EVERY) -> None:
        """Emit a ``leaders`` event whenever the set of nodes whose role leads changes (the spec
        says which roles lead): two at once is a split brain, and the event log says so."""
        last: list[str] | None = None
        while not self.stop_requested.is_set():
            await asyncio.sleep(every)
            try:
                statuses = node_statuses(await self.cluster_status())
            except Exception:  # noqa: BLE001 - a status round that fails is tried again
                continue
            if not statuses:
                continue
            found = sorted(self.algorithm.leaders(statuses), key=self.spec.node_ids.index)
            if found != last and (last is not None or found):
                terms = {n: statuses[n].get("term", 0) for n in found}
                word = next((r for r, k in self.algorithm.roles.items() if k == "lead"), "leader")
                what = f"{len(found)} {word}{'s' if len(found) != 1 else ''}" if found else f"no {word}"
                self.events.emit("leaders", what=what, leaders=found, count=len(found), terms=terms)
                last = found

    async def watch_run_dir(self, every: float = 1.0) -> None:
        """Stop the cluster when its run directory is deleted (``rm -rf .chaoslab``): its control
        socket went with it, so nothing could ever reach or stop it again."""
        while not self.stop_requested.is_set():
            await asyncio.sleep(every)
            if not self.run.spec.exists():
                log.error("the run directory %s is gone: stopping the cluster", self.run.path)
                self.stop_requested.set()

    def _fail_startup(self, message: str) -> None:
        self.run.startup_error.write_text(message + "\n")
        log.error("%s", message)
        self.stop_requested.set()

    async def stop(self) -> None:
        children = [c for c in [*self.nodes.values(), self.proxy] if c.proc is not None and c.proc.poll() is None]
        for c in children:
            c.expected_exit = True
            c.signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
            c.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while time.monotonic() < deadline and any(c.proc.poll() is None for c in children):
            await asyncio.sleep(0.02)
        for c in children:
            if c.proc.poll() is None:
                c.proc.kill()
                c.proc.wait()
        for node in self.nodes.values():
            if node.channel is not None:
                await node.channel.close()
        await self.proxy_channel.close()
        self.events.emit("down", cluster=self.spec.name)

    # -- status -------------------------------------------------------------

    async def _node_info(self, node: NodeHandle, log_tail: int) -> control_pb2.NodeInfo:
        addr = self.spec.address(node.name)
        info = control_pb2.NodeInfo(
            id=node.name, pid=node.pid, state=node.state, port=addr.port, proxy_port=addr.proxy_port, restarts=node.restarts
        )
        if node.state == "crashed":
            info.error = node.exit_note or "crashed"
            return info
        if node.state == "paused":
            info.error = "paused (SIGSTOP)"
            return info
        try:
            status = await node.stub.Status(node_pb2.StatusRequest(log_tail=log_tail), timeout=STATUS_DEADLINE,
                                            metadata=self.metadata)
        except grpc.aio.AioRpcError as exc:
            info.error = f"not answering ({exc.code().name.lower()})"
            return info
        if node.state == "starting":
            node.state = "up"
            info.state = "up"
        node.answered = True
        info.status.CopyFrom(status)
        return info

    async def _faults(self) -> control_pb2.FaultState | None:
        try:
            return await self.proxy_stub.Faults(control_pb2.Empty(), timeout=STATUS_DEADLINE)
        except grpc.aio.AioRpcError:
            return None

    async def cluster_status(self, log_tail: int = 0, faults: bool = False) -> control_pb2.ClusterStatus:
        infos, fault_state = await asyncio.gather(
            asyncio.gather(*(self._node_info(n, log_tail) for n in self.nodes.values())),
            self._faults() if faults else asyncio.sleep(0),
        )
        return control_pb2.ClusterStatus(
            faults=fault_state,
            cluster=self.spec.name,
            algorithm=self.spec.algorithm,
            seed=self.spec.seed,
            started_at=self.started_at,
            supervisor_pid=os.getpid(),
            proxy_pid=self.proxy.pid,
            nodes=infos,
            run_dir=str(self.run.path),
        )

    async def Status(self, request: control_pb2.ClusterStatusRequest, context: grpc.aio.ServicerContext) -> control_pb2.ClusterStatus:
        return await self.cluster_status(request.log_tail, request.faults)

    async def ChangeFaults(self, request: control_pb2.FaultChange, context: grpc.aio.ServicerContext) -> control_pb2.FaultState:
        for rule in request.add:
            unknown = [i for i in [*rule.src, *rule.dst] if i not in self.nodes]
            if unknown:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown node {unknown[0]!r} (nodes: {', '.join(self.nodes)})")
        try:
            return await self.proxy_stub.ChangeFaults(request, timeout=2.0)
        except grpc.aio.AioRpcError as exc:
            await context.abort(exc.code(), exc.details() or "the proxy did not answer")

    # -- process faults -----------------------------------------------------

    async def _resolve(self, target: control_pb2.NodeTarget) -> list[NodeHandle]:
        chosen: list[NodeHandle] = []
        for name in target.nodes:
            if name == "leader":
                leader = self.algorithm.current_leader(node_statuses(await self.cluster_status()))
                if leader is None:
                    raise LabError("no node is leader right now")
                chosen.append(self.nodes[leader])
            elif name == "random":
                rng = derive_rng(target.seed, "pick") if target.seed else self.rng
                chosen.append(self.nodes[rng.choice(sorted(self.nodes))])
            elif name in self.nodes:
                chosen.append(self.nodes[name])
            else:
                raise LabError(f"unknown node {name!r} (nodes: {', '.join(self.nodes)})")
        if not chosen:
            raise LabError("name at least one node")
        return _unique(chosen)

    async def _act(self, target: control_pb2.NodeTarget, context: grpc.aio.ServicerContext, action) -> control_pb2.ActionReply:
        """Act on every target that can take ``action`` and say why the others were left alone
        (``resume n1 n2`` with only n1 paused resumes n1 and notes n2); refuse, changing
        nothing, when a name is unknown or no target can take it."""
        try:
            nodes = await self._resolve(target)
        except LabError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        ready, skipped = [], []
        for node in nodes:
            try:
                action(node, dry_run=True)
                ready.append(node)
            except LabError as exc:
                skipped.append(str(exc))
        if not ready:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "; ".join(skipped))
        for node in ready:
            action(node, dry_run=False)
        self._write_pids()
        return control_pb2.ActionReply(nodes=[n.name for n in ready], message="; ".join(skipped))

    def _crash(self, node: NodeHandle, dry_run: bool) -> None:
        if node.state == "crashed":
            raise LabError(f"{node.name} is already crashed")
        if dry_run:
            return
        node.expected_exit = True
        node.proc.kill()
        node.proc.wait()
        node.state = "crashed"
        self.events.emit("crash", node=node.name, pid=node.pid)

    def _restart(self, node: NodeHandle, dry_run: bool) -> None:
        if node.state != "crashed":
            raise LabError(f"{node.name} is {node.state}; only a crashed node can be restarted")
        if dry_run:
            return
        node.restarts += 1
        node.spawn(["--incarnation", str(node.restarts)])
        self.events.emit("restart", node=node.name, pid=node.pid, incarnation=node.restarts)

    def _pause(self, node: NodeHandle, dry_run: bool) -> None:
        if node.state not in ("up", "starting"):
            raise LabError(f"{node.name} is {node.state}; only a running node can be paused")
        if dry_run:
            return
        node.signal(signal.SIGSTOP)
        node.state = "paused"
        self.events.emit("pause", node=node.name, pid=node.pid)

    def _resume(self, node: NodeHandle, dry_run: bool) -> None:
        if node.state != "paused":
            raise LabError(f"{node.name} is {node.state}; only a paused node can be resumed")
        if dry_run:
            return
        node.signal(signal.SIGCONT)
        node.state = "up"
        self.events.emit("resume", node=node.name, pid=node.pid)

    async def Crash(self, request, context):
        return await self._act(request, context, self._crash)

    async def Restart(self, request, context):
        return await self._act(request, context, self._restart)

    async def Pause(self, request, context):
        return await self._act(request, context, self._pause)

    async def Resume(self, request, context):
        return await self._act(request, context, self._resume)

    async def Shutdown(self, request: control_pb2.Empty, context: grpc.aio.ServicerContext) -> control_pb2.ActionReply:
        self.stop_requested.set()
        return control_pb2.ActionReply(nodes=list(self.nodes), message="stopping")


def exit_note(child: Child, code: int) -> str:
    """Why a child exited on its own, on one line: its exit code and its log's last lines
    (status shows it as the node's error; ``Cluster.restart(settle=...)`` raises it)."""
    try:
        lines = [line.strip() for line in child.log_path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    tail = " / ".join(lines[-LOG_LINES:]) or "(no output)"
    return f"{child.name} exited with code {code}; {child.log_path.name} ends: {tail}"


def _unique(nodes: list[NodeHandle]) -> list[NodeHandle]:
    seen: dict[str, NodeHandle] = {}
    for n in nodes:
        seen.setdefault(n.name, n)
    return list(seen.values())


async def run(run: RunDir) -> int:
    sup = Supervisor(run)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, sup.stop_requested.set)
    try:
        server = await sup.start()
    except LabError as exc:
        run.startup_error.write_text(f"{exc}\n")
        remove_sockets(run)
        return 2
    watcher = loop.create_task(sup.watch_children())
    leaders = loop.create_task(sup.watch_leaders())
    orphaned = loop.create_task(sup.watch_run_dir())
    await sup.stop_requested.wait()
    for task in (watcher, leaders, orphaned):
        task.cancel()
    await sup.stop()
    await server.stop(grace=0.5)
    remove_sockets(run)
    return 2 if run.startup_error.exists() else 0



def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m chaoslab.lab.supervisor RUN_DIR", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s lab %(levelname)s %(message)s", stream=sys.stderr)
    run_dir = RunDir(Path(args[0]).absolute())
    run_dir.supervisor_pid_file.write_text(f"{os.getpid()}\n")
    return asyncio.run(run(run_dir))


if __name__ == "__main__":
    sys.exit(main())

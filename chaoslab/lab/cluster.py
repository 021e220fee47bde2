"""The Python API to a running cluster; the CLI is a thin shell over it.

    with Cluster.up("raft", nodes=5, home=tmp_path) as c:
        leader = c.wait_for_leader()
        c.crash(leader)
        ...

Every method talks to the supervisor's Control service over the unix socket
in the run directory, so any process (a test, the CLI, a notebook) can drive
a cluster another process started.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import grpc

from chaoslab.algorithms import AlgorithmSpec, get_algorithm
from chaoslab.errors import LabError, NotDelivered
from chaoslab.lab.poll import wait_until
from chaoslab.lab.rundir import claim_name, find_run_dir, home_dir, last_line, list_run_dirs, make_home, remove_sockets
from chaoslab.lab.spec import build_spec
from chaoslab.net.parse import MAX_FOR_S, format_duration, parse_nodes
from chaoslab.net.partitions import build, parse_spec
from chaoslab.net.proto import from_proto, to_proto
from chaoslab.net.rules import (
    FaultChange,
    FaultState,
    LinkRule,
    delay_rule,
    drop_rule,
    duplicate_rule,
    reorder_rule,
)
from chaoslab.process.rundir import RunDir, pid_alive
from chaoslab.process.spec import HOST, ClusterSpec
from chaoslab.seeds import derive_rng
from chaoslab.v1 import control_pb2, control_pb2_grpc, node_pb2, node_pb2_grpc
from chaoslab.wire.auth import secret_metadata
from chaoslab.wire.streams import CHANNEL_OPTIONS
from chaoslab.wire.status import cluster_to_dict, node_statuses

UP_TIMEOUT = 30.0
DOWN_TIMEOUT = 10.0
# How a child reports that its port was taken (chaoslab.wire.streams.bind_all).
PORT_TAKEN = " is in use"
_USER_ERRORS = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)

#: The JSON shape of ``status --json`` and of dashboard snapshots (:func:`chaoslab.wire.status.cluster_to_dict`).
status_to_dict = cluster_to_dict


@dataclass(frozen=True)
class ClusterInfo:
    """What ``chaoslab list`` shows of one run directory: its spec and whether it runs."""

    name: str
    algorithm: str
    nodes: int
    state: str  # "running", or "stale" when the supervisor is gone but the directory is not
    supervisor_pid: int
    run_dir: Path

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``list --json`` (keys in this order, ``run_dir`` a string)."""
        return {"name": self.name, "algorithm": self.algorithm, "nodes": self.nodes, "state": self.state,
                "supervisor_pid": self.supervisor_pid, "run_dir": str(self.run_dir)}


def list_clusters(home: str | os.PathLike[str] | None = None) -> list[ClusterInfo]:
    """Every cluster in ``home`` (default ``$CHAOSLAB_HOME`` or ``./.chaoslab``), running or stale, by name."""
    infos = []
    for run in list_run_dirs(home_dir(home)):
        try:
            spec = ClusterSpec.load(run.spec)
            algorithm, nodes = spec.algorithm, spec.nodes
        except LabError:  # one damaged directory must not hide the others (`down` removes it)
            algorithm, nodes = "? (unreadable spec.json)", 0
        infos.append(ClusterInfo(name=run.name, algorithm=algorithm, nodes=nodes, state=run.state(),
                                 supervisor_pid=run.supervisor_pid() or run.recorded_pid(), run_dir=run.path))
    return infos


def clusters_to_stop(name: str | None = None, home: str | os.PathLike[str] | None = None, *,
                     all_clusters: bool = False) -> list[Cluster]:
    """The clusters ``chaoslab down`` stops: running or stale, since ``down`` is how stale ones are cleaned.

    ``all_clusters``: every cluster in ``home`` (possibly none). Otherwise the
    one called ``name``; without a name, the only running cluster, or, when
    none runs, the only (stale) run directory. Anything else (no cluster,
    several to choose from, an unknown name) raises :class:`LabError`.
    """
    home_path = home_dir(home)
    runs = list_run_dirs(home_path)
    if all_clusters:
        return [Cluster(run) for run in runs]
    if name is None and len(runs) == 1 and not runs[0].running():
        return [Cluster(runs[0])]  # the only cluster here, and it is stale
    return [Cluster(find_run_dir(home_path, name))]


class Acted(list[str]):
    """The nodes a process fault acted on; ``skipped`` says why others were left alone ("" if none)."""

    def __init__(self, nodes: Sequence[str] = (), skipped: str = "") -> None:
        super().__init__(nodes)
        self.skipped = skipped


class Cluster:
    """A handle on one cluster's run directory and supervisor."""

    def __init__(self, run: RunDir) -> None:
        self.run = run
        self._channel: grpc.Channel | None = None
        self._stub: control_pb2_grpc.ControlStub | None = None
        # Node channels for command(), kept: a workload sends hundreds of commands a second, and a
        # channel a call cost a connection and the spec's and secret's files read each time.
        self._node_lock = threading.Lock()
        self._node_stubs: dict[str, node_pb2_grpc.NodeStub] = {}
        self._node_channels: list[grpc.Channel] = []
        self._metadata: tuple[tuple[str, str], ...] | None = None

    # -- finding and starting -------------------------------------------------

    @classmethod
    def find(cls, name: str | None = None, home: str | os.PathLike[str] | None = None, *,
             stale_ok: bool = False) -> Cluster:
        """The running cluster called ``name`` (or the only one running).

        ``stale_ok`` also accepts a cluster ``name`` whose supervisor is gone, to
        read what it left (logs, events); without a name it still needs the only
        running one.
        """
        run = find_run_dir(home_dir(home), name)
        if not stale_ok and not run.running():
            raise LabError(
                f"cluster {run.name!r} is not running (its supervisor is gone); "
                f"`chaoslab down --name {run.name}` cleans up {run.path}"
            )
        return cls(run)

    @classmethod
    def up(
        cls,
        algorithm: str,
        nodes: int | None = None,
        name: str | None = None,
        seed: int | None = None,
        home: str | os.PathLike[str] | None = None,
        definition: Path | None = None,
        overrides: list[str] | None = None,
        base_port: int = 0,
        timeout: float = UP_TIMEOUT,
    ) -> Cluster:
        """Start a cluster and return once every node serves and its spec calls it ready (e.g. a node leads)."""
        spec = build_spec(algorithm, name, nodes, seed, definition, overrides, base_port)
        return cls.start(spec, home_dir(home), timeout)

    @classmethod
    def start(cls, spec: ClusterSpec, home: Path, timeout: float = UP_TIMEOUT) -> Cluster:
        run = RunDir(home / spec.name)
        make_home(home)
        # One `up` of a name at a time: a second one, while the first has created the run
        # directory but its supervisor has not written its pid yet, must not take the
        # directory for a stale one (and tell the user to `down` the cluster being born).
        with claim_name(home, spec.name):
            if run.spec.exists():
                if run.running():
                    raise LabError(f"cluster {spec.name!r} is already running (stop it with `chaoslab down --name {spec.name}`)")
                raise LabError(
                    f"cluster {spec.name!r} left a stale run directory {run.path} (its supervisor is gone); "
                    f"`chaoslab down --name {spec.name}` cleans it up"
                )
            return cls._start(run, spec, timeout)

    @classmethod
    def _start(cls, run: RunDir, spec: ClusterSpec, timeout: float) -> Cluster:
        # Free ports are picked by binding port 0 and letting go; another process can take one
        # before our node binds it. Picking afresh is safe then; a port the user chose is not.
        attempts = 3 if spec.base_port == 0 else 1
        for attempt in range(1, attempts + 1):
            cluster = cls(run)
            proc: subprocess.Popen[bytes] | None = None
            run.path.mkdir(mode=0o700)
            try:  # from here on, anything (Ctrl-C too) undoes the start: no stale directory is left
                spec.save(run.spec)
                run.write_secret()
                with open(run.supervisor_log, "ab") as logf:
                    proc = subprocess.Popen(
                        [sys.executable, "-m", "chaoslab.lab.supervisor", str(run.path)],
                        stdin=subprocess.DEVNULL,
                        stdout=logf,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # detached: survives the terminal `up` ran in
                        close_fds=True,
                    )
                cluster._wait_ready(proc, timeout)
            except LabError as exc:
                cluster._abandon(proc)
                if attempt < attempts and str(exc).endswith(PORT_TAKEN):
                    continue
                raise
            except BaseException:
                cluster._abandon(proc)
                raise
            return cluster
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        algo = self.algorithm
        deadline = time.monotonic() + timeout
        why = "the supervisor did not start"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                error = _read_first_line(self.run.startup_error) or last_line(self.run.supervisor_log)
                raise LabError(f"cluster {self.run.name!r} failed to start: {error}")
            try:
                status = self.status(timeout=1.0)
            except LabError:
                time.sleep(0.05)
                continue
            down = [n.id for n in status.nodes if n.state != "up"]
            if down:
                why = f"not serving yet: {', '.join(down)}"
            elif not algo.is_ready(list(node_statuses(status).values())):
                why = "not ready (no node leads)" if algo.ready is None else "not ready"
            else:
                return
            time.sleep(0.05)
        raise LabError(f"cluster {self.run.name!r} was not ready within {timeout:g}s ({why})")

    def _abandon(self, proc: subprocess.Popen[bytes] | None) -> None:
        """Undo a failed `up`: kill the supervisor (its children die with it) and remove the run dir."""
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self._reap_children()
        self.close()
        shutil.rmtree(self.run.path, ignore_errors=True)

    # -- control ------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.run.name

    def _control(self) -> control_pb2_grpc.ControlStub:
        if self._stub is None:
            self._channel = grpc.insecure_channel(self.run.control_address())
            self._stub = control_pb2_grpc.ControlStub(self._channel)
        return self._stub

    def _call(self, method: str, request: Any, timeout: float = 5.0) -> Any:
        try:
            return getattr(self._control(), method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code()
            if code in _USER_ERRORS:
                raise LabError(exc.details()) from None
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise LabError(f"cluster {self.name!r} is not answering ({code.name.lower()})") from None
            raise

    def status(self, log_tail: int = 0, timeout: float = 5.0, faults: bool = False) -> control_pb2.ClusterStatus:
        request = control_pb2.ClusterStatusRequest(log_tail=log_tail, faults=faults)
        return self._call("Status", request, timeout)

    @property
    def node_ids(self) -> list[str]:
        return ClusterSpec.load(self.run.spec).node_ids

    def command(self, node: str, name: str, args: Mapping[str, Any] | None = None, timeout: float = 5.0) -> Any:
        """Send the operator command ``name`` to ``node``'s core (an algorithm's own verb, such as
        starting an agreement) and return its JSON result, once the node made its effects durable.
        ``LabError`` for an unknown node, a node not answering, or a command the core refuses;
        :class:`NotDelivered` when the node's port refused the connection (down: the command
        surely did not reach it). Safe from many threads; channels are kept until :meth:`close`."""
        request = node_pb2.CommandRequest(name=name, args_json=json.dumps(dict(args or {})), timeout_s=timeout)
        try:
            reply = self._node_stub(node).Command(request, timeout=timeout + 1.0, metadata=self._metadata)
        except grpc.RpcError as exc:
            code = exc.code()
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNIMPLEMENTED):
                raise LabError(f"{node}: {exc.details()}") from None
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                why = f"{node} did not answer {name!r} ({exc.details() or code.name.lower()})"
                if code == grpc.StatusCode.UNAVAILABLE and "refused" in (exc.details() or "").lower():
                    raise NotDelivered(why) from None
                raise LabError(why) from None
            raise
        return json.loads(reply.result_json)

    def _node_stub(self, node: str) -> node_pb2_grpc.NodeStub:
        with self._node_lock:
            stub = self._node_stubs.get(node)
            if stub is not None:
                return stub
            spec = ClusterSpec.load(self.run.cluster)
            if node not in spec.node_ids:
                raise LabError(f"unknown node {node!r} (nodes: {', '.join(spec.node_ids)})")
            if self._metadata is None:
                self._metadata = secret_metadata(self.run.secret())
            channel = grpc.insecure_channel(f"{HOST}:{spec.address(node).port}", options=CHANNEL_OPTIONS)
            self._node_channels.append(channel)
            stub = self._node_stubs[node] = node_pb2_grpc.NodeStub(channel)
            return stub

    @cached_property
    def algorithm(self) -> AlgorithmSpec:
        """The spec of the algorithm this cluster runs."""
        return get_algorithm(ClusterSpec.load(self.run.spec).algorithm)

    def log_path(self, node: str) -> Path:
        """The log file of ``node``: a node id, ``lab`` (or ``supervisor``) or ``proxy``.

        Raises :class:`LabError` for anything else. The file may not exist yet.
        """
        ids = self.node_ids
        if node in ids:
            return self.run.node_log(node)
        if node in ("lab", "supervisor"):
            return self.run.supervisor_log
        if node == "proxy":
            return self.run.proxy_log
        raise LabError(f"unknown node {node!r} (nodes: {', '.join(ids)}, or lab, proxy)")

    def leader(self) -> str | None:
        """The leading node (leader, coordinator, ...) in the highest term, as reported right now."""
        return self.algorithm.current_leader(node_statuses(self.status()))

    def wait_for(self, predicate: Callable[[control_pb2.ClusterStatus], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        """Poll status until ``predicate(status)`` returns something truthy; return it (see :func:`wait_until`)."""
        return wait_until(lambda: predicate(self.status()), timeout, what=what)

    def wait_for_leader(self, timeout: float = 10.0, exclude: tuple[str, ...] = ()) -> str:
        def leader(status: control_pb2.ClusterStatus) -> str | None:
            return self.algorithm.current_leader(node_statuses(status), exclude)

        return self.wait_for(leader, timeout, "a leader")

    def _target(self, method: str, nodes: tuple[str, ...], seed: int = 0) -> Acted:
        reply = self._call(method, control_pb2.NodeTarget(nodes=list(nodes), seed=seed))
        return Acted(reply.nodes, skipped=reply.message)

    # Each process fault acts on the targets it can and returns their ids; the others (a node
    # already crashed, not paused, ...) are named in the result's ``skipped``. It raises
    # LabError, changing nothing, for an unknown name or when no target can take it.

    def crash(self, *nodes: str, seed: int = 0) -> Acted:
        """SIGKILL nodes (ids, ``leader`` or ``random``); returns the ids crashed."""
        return self._target("Crash", nodes, seed)

    def restart(self, *nodes: str, settle: float = 0.0) -> Acted:
        """Start crashed nodes again with the same id and data directory.

        With ``settle`` (seconds), wait until each restarted node answers or exits: one that
        exits (its port taken, its data unreadable, ...) is a LabError with its exit code and
        its log's last lines. One still starting when the time is up counts as restarted.
        """
        acted = self._target("Restart", nodes)
        if settle > 0:
            self._settle(acted, settle)
        return acted

    def _settle(self, nodes: Sequence[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = set(nodes)
        while waiting:
            for info in self.status(timeout=max(1.0, deadline - time.monotonic())).nodes:
                if info.id not in waiting:
                    continue
                if info.state == "crashed":
                    raise LabError(info.error or f"{info.id} exited right after its restart")
                if info.state == "up":
                    waiting.discard(info.id)
            if not waiting or time.monotonic() >= deadline:
                return
            time.sleep(0.05)

    def pause(self, *nodes: str, seed: int = 0) -> Acted:
        return self._target("Pause", nodes, seed)

    def resume(self, *nodes: str) -> Acted:
        return self._target("Resume", nodes)

    # -- network faults -------------------------------------------------------
    #
    # Rules are built here, where "leader" can be resolved at call time and
    # bad input caught before anything changes; the proxy applies a change
    # atomically or not at all.

    def _change(self, change: FaultChange) -> FaultState:
        return from_proto(self._call("ChangeFaults", to_proto(change)))

    def _expiry(self, for_s: float | None) -> float:
        if for_s is None:
            return 0.0
        if not 0 < for_s <= MAX_FOR_S:
            raise LabError(f"--for must be above 0 and at most {format_duration(MAX_FOR_S)}, got {for_s:g}s")
        return time.time() + for_s

    def _nodes(self, ids: str | Sequence[str], flag: str) -> tuple[str, ...]:
        chosen = tuple(parse_nodes(ids)) if isinstance(ids, str) else tuple(ids)
        known = self.node_ids
        for node in chosen:
            if node not in known:
                raise LabError(f"{flag}: unknown node {node!r} (nodes: {', '.join(known)})")
        return chosen

    def partition(self, *spec: str, for_s: float | None = None, seed: int | None = None) -> FaultState:
        """Replace any partition with a new one.

        ``spec`` as on the command line: groups (``"n1,n2", "n3,n4,n5"``; nodes not
        named form one more group), one way (``"n1->n2"``), or a shape:
        ``"isolate:n3"``, ``"isolate:leader"``, ``"majority"``, ``"minority-third"``,
        ``"ring"``, ``"bridge"``, ``"random-halves"``.

        Shapes that choose nodes at random draw from ``seed`` when given, else from
        the cluster's seed and how many partitions this cluster made before (kept
        in the run directory), so the same seed and the same calls replay.
        """
        try:
            parsed = parse_spec(list(spec))
            needs_leader = parsed.shape == "majority" or (parsed.shape == "isolate" and parsed.node == "leader")
            rng = derive_rng(seed, "partition") if seed is not None else self._draw("partition")
            part = build(self.node_ids, parsed, leader=self.leader() if needs_leader else None, rng=rng)
            rules = tuple(part.rules(expires_at=self._expiry(for_s)))
        except ValueError as exc:
            raise LabError(str(exc)) from None
        return self._change(FaultChange(heal=True, add=rules, partition_groups=tuple(part.group_labels())))

    def _draw(self, purpose: str) -> random.Random:
        """The rng for this cluster's next random ``purpose``: the n-th draw uses
        ``derive_rng(cluster seed, purpose, n)``. (Calls from one client at a time replay.)"""
        try:
            counts = json.loads(self.run.draws.read_text())
        except (FileNotFoundError, ValueError):
            counts = {}
        n = int(counts.get(purpose, 0))
        counts[purpose] = n + 1
        tmp = self.run.draws.with_suffix(".tmp")
        tmp.write_text(json.dumps(counts))
        tmp.replace(self.run.draws)
        return derive_rng(ClusterSpec.load(self.run.spec).seed, purpose, n)

    def _link_rule(self, make: Callable[..., LinkRule], *args: Any, src: str | Sequence[str] = (),
                   dst: str | Sequence[str] = (), for_s: float | None = None, **kwargs: Any) -> FaultState:
        try:
            rule = make(*args, src=self._nodes(src, "--from"), dst=self._nodes(dst, "--to"),
                        expires_at=self._expiry(for_s), **kwargs)
        except ValueError as exc:
            raise LabError(str(exc)) from None
        return self._change(FaultChange(add=(rule,)))

    def drop(self, p: float, *, src: str | Sequence[str] = (), dst: str | Sequence[str] = (),
             for_s: float | None = None, seed: int = 0) -> FaultState:
        """Drop each message on the matching links with probability ``p`` (0..1)."""
        return self._link_rule(drop_rule, p, src=src, dst=dst, for_s=for_s, seed=seed)

    def delay(self, delay_s: float, *, jitter_s: float = 0.0, dist: str = "uniform", src: str | Sequence[str] = (),
              dst: str | Sequence[str] = (), for_s: float | None = None, seed: int = 0) -> FaultState:
        """Delay messages by ``delay_s`` ± ``jitter_s`` seconds (uniform or normal)."""
        return self._link_rule(delay_rule, delay_s, jitter_s=jitter_s, dist=dist, src=src, dst=dst, for_s=for_s, seed=seed)

    def duplicate(self, p: float, *, src: str | Sequence[str] = (), dst: str | Sequence[str] = (),
                  for_s: float | None = None, seed: int = 0) -> FaultState:
        """Deliver an extra copy of a message with probability ``p``."""
        return self._link_rule(duplicate_rule, p, src=src, dst=dst, for_s=for_s, seed=seed)

    def reorder(self, p: float, *, src: str | Sequence[str] = (), dst: str | Sequence[str] = (),
                for_s: float | None = None, seed: int = 0) -> FaultState:
        """Hold a message back with probability ``p`` so later ones overtake it."""
        return self._link_rule(reorder_rule, p, src=src, dst=dst, for_s=for_s, seed=seed)

    def heal(self) -> FaultState:
        """Remove partitions (blackholes); other faults stay."""
        return self._change(FaultChange(heal=True))

    def clear(self) -> FaultState:
        """Remove every network fault."""
        return self._change(FaultChange(clear_all=True))

    def remove_faults(self, *ids: str) -> FaultState:
        return self._change(FaultChange(remove=ids))

    def faults(self) -> FaultState:
        """Active rules, per-link counters and partition groups."""
        status = self.status(faults=True)
        if not status.HasField("faults"):
            raise LabError(f"the proxy of cluster {self.name!r} is not answering")
        return from_proto(status.faults)

    # -- stopping -------------------------------------------------------------

    def down(self, keep: bool = False, timeout: float = DOWN_TIMEOUT) -> None:
        """Stop every process of the cluster and (unless ``keep``) remove its run directory."""
        pid = self.run.supervisor_pid()
        if pid_alive(pid):
            try:
                self._call("Shutdown", control_pb2.Empty(), timeout=2.0)
            except LabError:
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._reap_children()
        self.close()
        if not keep:
            remove_sockets(self.run)  # gone with the supervisor, unless it was killed
            shutil.rmtree(self.run.path, ignore_errors=True)

    def _reap_children(self) -> None:
        """Kill whatever a dead supervisor left behind (normally nothing: see lifeline)."""
        try:
            pids = json.loads(self.run.pids.read_text())
        except (FileNotFoundError, ValueError):
            return
        children = [pids.get("proxy", 0), *pids.get("nodes", {}).values()]
        deadline = time.monotonic() + 3.0
        for pid in children:
            while _is_our_child(pid, self.run.path) and time.monotonic() < deadline:
                time.sleep(0.02)
            if _is_our_child(pid, self.run.path):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None
        with self._node_lock:
            for channel in self._node_channels:
                channel.close()
            self._node_channels.clear()
            self._node_stubs.clear()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def __repr__(self) -> str:
        return f"Cluster({self.name!r}, {self.run.path})"


def _is_our_child(pid: int, run_path: Path) -> bool:
    """Alive and still one of this run's processes (pids get reused)."""
    if not pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return str(run_path).encode() in cmdline


def _read_first_line(path: Path) -> str:
    try:
        return path.read_text().strip().splitlines()[0]
    except (FileNotFoundError, IndexError):
        return ""

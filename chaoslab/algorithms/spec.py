"""``AlgorithmSpec``: everything the rest of chaoslab knows about one algorithm.

An algorithm is one folder (``chaoslab/algorithms/<name>/`` or a package of the
user's own) whose ``SPEC`` is the only thing the runtime, the supervisor, the
simulator, the CLI and the dashboard look at: nothing outside the folder names
the algorithm. Drivers ask the spec, not the algorithm's name:

- which roles exist and which of them lead (:meth:`AlgorithmSpec.leads`);
- whether a cluster is ready for users (``ready``);
- how its state survives a crash (``durable_model`` in memory, ``storage`` on disk);
- whether it serves a client API (``client_api``);
- what the simulator checks (``sim``);
- what ``chaoslab status`` and the dashboard show (``status_columns``, ``panel``).

The spec itself is pure. Driver-side pieces (on-disk storage, gRPC services,
Rich panels) live in the algorithm's ``adapters/`` subpackage and are named
here as ``"module:attribute"`` strings, imported only by the driver that needs
them (:func:`chaoslab.algorithms.registry.load_ref`), so the core never imports I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chaoslab.algorithms.base import Algorithm, LatestState

if TYPE_CHECKING:  # drivers inject a seeded rng; nothing here makes one
    import random

__all__ = ["AlgorithmSpec", "CrashPoint", "RoleKind", "SimHooks", "StatusColumn"]

#: What a role means to everything that does not know the algorithm: ``lead`` (a leader,
#: coordinator, commander: the node others follow), ``campaign`` (trying to become one),
#: ``follow`` (following one, or waiting for one).
RoleKind = Literal["lead", "campaign", "follow"]

#: A safety property run by the simulator after every step: ``invariant(sim)`` raises
#: ``AssertionError`` on a violation. ``sim`` is a :class:`chaoslab.sim.Simulation`; an
#: invariant reads ``sim.step_events``, ``sim.step_persists``, ``sim.statuses()`` and
#: ``sim.nodes`` (the cores), and keeps its own history.
Invariant = Callable[[Any], None]

#: A moment worth crashing at (the simulator's ``CrashPoints`` nemesis): ``point(sim, node,
#: output)`` says whether ``output``, just made durable and sent by ``node``, is one (e.g. "it
#: granted a vote"). A point may keep state, so ``SimHooks.crash_points`` makes fresh ones.
CrashPoint = Callable[[Any, str, Any], bool]


@dataclass(frozen=True)
class StatusColumn:
    """One algorithm-specific column of ``chaoslab status`` and the dashboard's nodes panel:
    ``header`` over the value at the dotted ``path`` of a node's status dict (e.g.
    ``raft.commit_index``).

    The dashboard packs its columns tighter: ``label`` is its header when shorter than
    ``header``; an ``optional`` column is left out on narrow terminals; with
    ``warn_below`` (another path) the value shows in the warning colour while it is
    below that one (say, applied behind committed)."""

    header: str
    path: str
    label: str = ""
    optional: bool = False
    warn_below: str = ""

    def value(self, status: Mapping[str, Any]) -> Any:
        """The value at ``path`` in ``status``, or ``None`` where any part is missing."""
        value: Any = status
        for part in self.path.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
        return value


@dataclass(frozen=True)
class SimHooks:
    """What the simulator checks for an algorithm (all optional).

    ``invariants`` makes fresh safety properties for one simulation. ``converged(sim)``
    says the cluster has settled after faults (default: the spec's ``ready`` over the
    running nodes). With a client workload, ``caught_up(sim)`` also says every node has
    applied everything, and ``check_final(sim, invariants, workload)`` checks the end
    state (acknowledged writes survive, replicas agree), raising ``AssertionError``.

    ``crash_points()`` names the moments worth crashing a node at, each a :data:`CrashPoint`
    (Raft: right after it votes, appends, snapshots). ``leader_bound(config)`` is how many
    virtual seconds after the last fault heals the cluster must have converged again (a
    few election timeouts); None leaves it to the scenario's settle window.
    """

    invariants: Callable[[], list[Invariant]] = list
    converged: Callable[[Any], bool] | None = None
    caught_up: Callable[[Any], bool] | None = None
    check_final: Callable[[Any, list[Invariant], Any], None] | None = None
    crash_points: Callable[[], Mapping[str, CrashPoint]] = dict
    leader_bound: Callable[[Mapping[str, Any]], float] | None = None


def _some_node_leads(spec: AlgorithmSpec, statuses: Sequence[Mapping[str, Any]]) -> bool:
    return any(spec.leads(s.get("role", "")) for s in statuses)


@dataclass(frozen=True)
class AlgorithmSpec:
    """The single plug-in point of an algorithm (see the module docstring)."""

    name: str
    summary: str
    #: (node_id, all node ids in order, config section, seeded rng, durable state or None) -> core
    factory: Callable[[str, list[str], Mapping[str, Any], random.Random, Any], Algorithm]
    #: the message dataclasses it sends (the wire codec maps them by name)
    message_types: tuple[type, ...]
    #: every role a node can report, in display order, with what it means
    roles: Mapping[str, RoleKind]
    #: validates a config section (clusters/<name>.toml plus --set overrides); raises ValueError
    check_config: Callable[[Mapping[str, Any]], None] = lambda config: None
    #: (config, node ids, seeded rng) -> config: choices all nodes must share, made once from the
    #: cluster seed before any node starts (e.g. which nodes are traitors), and checks that need
    #: the node ids; raises ValueError. The lab and the simulator both call it.
    resolve_config: Callable[[Mapping[str, Any], list[str], random.Random], dict[str, Any]] | None = None
    #: the fewest nodes that make sense (``up`` refuses fewer with one line)
    min_nodes: int = 1
    #: the most nodes that make sense (0: as many as the lab allows)
    max_nodes: int = 0
    #: given every reachable node's status dict, is the cluster ready for users?
    #: (default: some node's role leads)
    ready: Callable[[Sequence[Mapping[str, Any]]], bool] | None = None
    #: an empty durable model (``apply(persist)``, ``restore()``); see base.LatestState
    durable_model: Callable[[], Any] = LatestState
    #: ``"module:attr"`` of ``storage(data_dir: Path) -> Storage`` for the node runtime;
    #: None keeps the whole durable state as one JSON document (for LatestState models)
    storage: str | None = None
    #: ``"module:attr"`` of ``adapter(node)`` for an algorithm whose node is an external program
    #: (Maelstrom's): the node runtime starts it beside the core and stops it with the node. The
    #: core talks to it as to its own node id: messages it addresses to itself go to
    #: ``adapter.send(message)``, and the adapter's inputs come back as ``step(own id, message)``
    #: (``node.feed(message)``). ``await adapter.spawn()`` runs before ``core.start``, ``await
    #: adapter.ready()`` after it and before the node serves (it raises ``StartupFailed`` with one
    #: line), ``await adapter.close()`` on the way out. None: the core is the whole node
    program: str | None = None
    #: the client API the core serves through ``request``/``request_many``: ``"kv"`` takes
    #: :mod:`chaoslab.algorithms.kv` commands and gets the ``chaoslab.v1.KV`` service; None: none
    client_api: Literal["kv"] | None = None
    #: extra columns for ``chaoslab status``
    status_columns: tuple[StatusColumn, ...] = ()
    #: ``"module:attr"`` of ``panel(snapshot, *, width) -> rich renderable`` for the dashboard
    panel: str | None = None
    #: ``"module:attr"`` of a ``typer.Typer`` whose commands join ``chaoslab``'s own (an
    #: algorithm's verbs, e.g. Byzantine agreement's ``order``); each checks it got its cluster
    cli: str | None = None
    #: the key of the algorithm's detail in a node's status dict (default: ``name``)
    detail_key: str = ""
    #: what a node's ``term`` counts, in words for people ("term", "epoch", "round")
    term_name: str = "term"
    #: the message attribute that is its term (copied into ``Envelope.term``), if any
    term_field: str = "term"
    sim: SimHooks = field(default_factory=SimHooks)
    #: scripted runs (``chaoslab run``): the workload kinds its clusters serve, None for what
    #: ``client_api`` implies ("kv"); Byzantine agreement serves "orders" (its ``order`` command)
    workloads: tuple[str, ...] | None = None
    #: scripted runs: ``"module:attr"`` of ``for_cluster(cluster, timeout=, home=)`` giving the
    #: kv workload's clients, when the cluster serves keys other than through ``chaoslab.v1.KV``
    #: (Maelstrom programs): get / put / cas / close like :class:`chaoslab.client.KVClient`
    kv_client: str | None = None
    #: scripted runs: workload kind -> the value of the config key ``workload`` it implies, for an
    #: algorithm whose nodes must know their workload (Maelstrom's: kv -> "lin-kv", so a broadcast
    #: node gets its topology); the scenario parser makes the setting and ``[workload] kind`` agree
    workload_settings: Mapping[str, str] = field(default_factory=dict)
    #: scripted runs: what a run checks when the scenario's ``[check]`` does not say
    #: (check name -> True, or a bound in seconds for ``leader_within``); empty: what the
    #: workload and roles allow (linearizability for kv, election safety when a role leads)
    default_checks: Mapping[str, Any] = field(default_factory=dict)
    #: where the spec was loaded from (``"module:attr"``); set by the registry so that
    #: child processes load the very same spec
    ref: str = ""

    def leads(self, role: str) -> bool:
        """Is ``role`` a leading role (leader, coordinator, commander)?"""
        return self.roles.get(role) == "lead"

    def leaders(self, statuses: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """The ids, among ``{node id: status}``, of the nodes whose role leads."""
        return [node for node, s in statuses.items() if self.leads(s.get("role", ""))]

    def current_leader(self, statuses: Mapping[str, Mapping[str, Any]], exclude: Sequence[str] = ()) -> str | None:
        """Of ``{node id: status}``, the leading node with the highest term (ids in ``exclude``
        left out), or None: after a partition heals, an old leader may still think it leads."""
        best = None
        for node in self.leaders(statuses):
            if node not in exclude and (best is None or statuses[node].get("term", 0) > statuses[best].get("term", 0)):
                best = node
        return best

    def is_ready(self, statuses: Sequence[Mapping[str, Any]]) -> bool:
        """The algorithm's readiness test over the reachable nodes' status dicts."""
        if self.ready is not None:
            return self.ready(statuses)
        return _some_node_leads(self, statuses)

    def serves(self, workload: str) -> bool:
        """Can its clusters run a scripted-run workload of this kind ("kv", "orders")?"""
        if self.workloads is not None:
            return workload in self.workloads
        return workload == "kv" and self.client_api == "kv"

    @property
    def detail(self) -> str:
        """The key under which a node's status dict carries the algorithm's own detail."""
        return self.detail_key or self.name

"""The `chaoslab` command. Thin: every command calls the Python API in chaoslab.lab.

Errors a user can cause come back as LabError and leave as one line on stderr
with exit code 2; nothing here prints a traceback for bad input.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn, Optional

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from chaoslab.algorithms.registry import DEFAULT_ALGORITHM, available
from chaoslab.errors import LabError

app = typer.Typer(
    name="chaoslab",
    help="A chaos lab for distributed algorithms: real processes, real gRPC, real faults.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


def _plain_help_types() -> None:
    """Help shows no ``<bool>`` beside flags (``--json``, ``--help``: they take no value, and a
    type there reads as if one were expected) and ``<str>...``, not ``<list[str]>``, beside
    repeated arguments. Typer offers no setting for either (nor for its own --help)."""
    from typer.core import TyperArgument, TyperOption

    option_type = TyperOption.display_type_rich
    TyperOption.display_type_rich = lambda self, ctx: None if self.is_flag else option_type(self, ctx)  # type: ignore[method-assign]
    argument_type = TyperArgument.display_type_rich

    def repeated(self: TyperArgument, ctx: Any) -> Optional[str]:
        element = getattr(self.type_descriptor.annotation, "__args__", ())
        if self.nargs == 1 or len(element) != 1:
            return argument_type(self, ctx)
        return f"<{self._bare_type(element[0]).lower()}>..."

    TyperArgument.display_type_rich = repeated  # type: ignore[method-assign]


_plain_help_types()

NameOpt = Annotated[Optional[str], typer.Option("--name", "-n", help="Cluster name (default: the only one running).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


class State:
    home: Optional[Path] = None


@app.callback()
def _global(
    home: Annotated[
        Optional[Path], typer.Option("--home", envvar="CHAOSLAB_HOME", help="Where run directories live (default ./.chaoslab).")
    ] = None,
) -> None:
    State.home = home


def find_cluster(name: Optional[str], stale_ok: bool = False) -> Any:
    """The cluster a command means (``--name``, or the only one running), under ``--home``.
    Commands that algorithms add (``AlgorithmSpec.cli``) find their cluster with it too."""
    from chaoslab.lab.cluster import Cluster

    return Cluster.find(name, State.home, stale_ok=stale_ok)



# -- lifecycle -----------------------------------------------------------------


def algorithm_options(words: list[str]) -> list[str]:
    """``up``'s options beyond its own, as ``--set`` overrides of the algorithm's section:
    ``--traitors 2 --traitor-ids n3,n5`` means ``--set traitors=2 --set traitor_ids=n3,n5``
    (the algorithm's ``check_config`` refuses keys it does not know). ``--arg X``, repeatable,
    adds X as it is (even ``--verbose``) to the ``args`` of an algorithm that runs a program,
    after any ``--args`` list."""
    overrides, appended, rest = [], [], list(words)
    while rest:
        word = rest.pop(0)
        if not word.startswith("--") or len(word) < 3:
            raise LabError(f"unexpected argument {word!r} (options look like --key value)")
        key, sep, value = word[2:].partition("=")
        if key == "arg":
            if not sep and not rest:
                raise LabError("--arg needs a value: one argument for the program, e.g. --arg --verbose")
            value = value if sep else rest.pop(0)
            # a TOML string (JSON's escapes are TOML's, but DEL must be escaped too)
            appended.append("args+=" + json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f"))
            continue
        if not sep:
            if not rest or rest[0].startswith("--"):
                value = "true"  # a bare flag
            else:
                value = rest.pop(0)
        overrides.append(f"{key.replace('-', '_')}={value}")
    return overrides + appended


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def up(
    ctx: typer.Context,
    algorithm: Annotated[str, typer.Argument(help=f"Algorithm to run: {', '.join(available())}, or a package.module:SPEC reference.")],
    nodes: Annotated[Optional[int], typer.Option("--nodes", "-N", help="Number of nodes (1-64).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Cluster name (default: the algorithm).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed for every random choice (default: random, shown).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="Cluster definition (default clusters/ALGO.toml).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="Override a definition key, e.g. --set raft.heartbeat_ms=30 (repeatable).")] = None,
    base_port: Annotated[int, typer.Option("--base-port", help="First of 2N consecutive ports (default: free ports).")] = 0,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait for the cluster to be ready.")] = "30s",
    watch: Annotated[bool, typer.Option("--watch", help="Open the dashboard once the cluster is up.")] = False,
) -> None:
    """Start a cluster of real node processes; return once it serves and its algorithm is ready (e.g. a leader is elected).

    Options the algorithm defines go after it, as --KEY VALUE: `up byzantine --traitors 2`
    is `up byzantine --set traitors=2`. A program's arguments (maelstrom): --args '["-v"]', or
    --arg -v, repeatable.
    """
    from chaoslab.lab.cluster import Cluster
    from chaoslab.lab.spec import ClusterSpec

    started = time.monotonic()
    cluster = Cluster.up(
        algorithm, nodes=nodes, name=name, seed=seed, home=State.home, definition=config,
        overrides=[*(set_ or []), *algorithm_options(ctx.args)], base_port=base_port, timeout=_value(_parse_timeout, timeout),
    )
    elapsed = time.monotonic() - started
    status = cluster.status()
    out.print(
        f"[bold green]up[/] cluster [bold]{status.cluster}[/] ({status.algorithm}, {len(status.nodes)} nodes, "
        f"seed {status.seed}) in {elapsed:.2f}s"
        + (f" — leader {cluster.leader() or 'none'}" if "lead" in cluster.algorithm.roles.values() else "")
    )
    faults = ClusterSpec.load(cluster.run.spec).faults
    if faults:
        out.print(f"faults from the start: {', '.join(faults)} (`chaoslab clear` removes them)", highlight=False)
    out.print(f"run directory {status.run_dir}", style="dim")
    if watch:
        raise typer.Exit(_run_dashboard(cluster, refresh=5.0, once=False, as_json=False))


@app.command()
def down(
    name: NameOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Every cluster in the home directory.")] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the run directory (logs, events, data).")] = False,
) -> None:
    """Stop a cluster: every node, the proxy and the supervisor. Also cleans up stale run directories."""
    from chaoslab.lab.cluster import clusters_to_stop

    clusters = clusters_to_stop(name, State.home, all_clusters=all_)
    if not clusters:
        out.print("no clusters here")
        return
    for cluster in clusters:
        was = cluster.run.state()
        cluster.down(keep=keep)
        out.print(f"[bold]down[/] {cluster.name}" + (" (was stale)" if was == "stale" else ""))


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """Clusters in the home directory and whether they are running."""
    from chaoslab.lab.cluster import list_clusters

    clusters = list_clusters(State.home)
    if as_json:
        print(json.dumps([c.to_dict() for c in clusters]))
        return
    if not clusters:
        out.print(f"no clusters here; start one with `chaoslab up {DEFAULT_ALGORITHM}`")
        return
    table = Table("name", "algorithm", "nodes", "state", "supervisor", "run dir", box=None)
    for c in clusters:
        state = "[green]running[/]" if c.state == "running" else "[red]stale[/]"
        table.add_row(c.name, c.algorithm, str(c.nodes), state, str(c.supervisor_pid), str(c.run_dir))
    out.print(table)


# -- looking -------------------------------------------------------------------

def _status_table(status: Any) -> tuple[Table, list[str]]:
    """The status table, and a line for each node that did not answer saying why: beneath the
    table rather than in it, so that a long reason never squeezes pids out of an 80-column view."""
    from chaoslab.algorithms import get_algorithm
    from chaoslab.dashboard.style import STATE_STYLE, role_style
    from chaoslab.lab.cluster import status_to_dict

    snap = status_to_dict(status)
    algo = get_algorithm(snap["algorithm"])
    extra = algo.status_columns
    uptime = time.time() - status.started_at
    table = Table(title=f"{snap['cluster']} · {snap['algorithm']} · seed {snap['seed']} · up {uptime:.0f}s",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 1), collapse_padding=True)
    # A pipe is 80 columns wide: node, pid and state keep their width (a cut pid reads as another
    # pid); other cells fold onto a second line rather than end in "…".
    fold = {"no_wrap": False, "overflow": "fold"}
    for col, key in (("node", "id"), ("pid", "pid"), ("state", "state")):
        widest = max((len(str(node[key])) for node in snap["nodes"]), default=0)
        table.add_column(col, justify="right" if col == "pid" else "left", no_wrap=True, min_width=max(widest, len(col)))
    table.add_column("role", **fold)
    table.add_column(algo.term_name, justify="right", **fold)
    table.add_column("leader", **fold)
    for column in extra:
        table.add_column(column.header, justify="right", **fold)
    table.add_column("heard", **fold)
    notes = []
    for node in snap["nodes"]:
        s = node.get("status")
        state = Text(node["state"], style=STATE_STYLE.get(node["state"], ""))
        if not s:
            error = node.get("error", "")
            if error and not error.startswith(node["state"]):  # "crashed", "paused (SIGSTOP)" say no more than state
                notes.append(f"{node['id']}: {error}")
            table.add_row(node["id"], str(node["pid"]), state, *[""] * (4 + len(extra)))
            continue
        heard = float(s.get("last_heard_s", -1))
        table.add_row(
            node["id"], str(node["pid"]), state,
            Text(s["role"], style=role_style(s["role"], algo)), str(s["term"]), s.get("leader") or "-",
            *("" if (v := column.value(s)) is None else str(v) for column in extra),
            "-" if heard < 0 else f"{heard * 1000:.0f}ms" if heard < 1 else f"{heard:.1f}s",
        )
    return table, notes


@app.command()
def status(name: NameOpt = None, as_json: JsonOpt = False) -> None:
    """Each node's pid, state, role, term and leader (and, beneath, why a node did not answer)."""
    from chaoslab.lab.cluster import status_to_dict

    st = find_cluster(name).status()
    if as_json:
        print(json.dumps(status_to_dict(st)))
        return
    table, notes = _status_table(st)
    out.print(table)
    for note in notes:
        out.print(Text(note, style="dim"))


@app.command()
def logs(
    node: Annotated[str, typer.Argument(help="A node id, or `lab` / `proxy`.")],
    name: NameOpt = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
) -> None:
    """A node's (or the supervisor's, or the proxy's) log."""
    from chaoslab.events import follow_lines

    cluster = find_cluster(name, stale_ok=True)
    path = cluster.log_path(node)
    try:
        for line in follow_lines(path, follow=follow, alive=cluster.run.running):
            print(line, flush=True)
    except KeyboardInterrupt:
        return


def format_event(e: dict[str, Any]) -> str:
    """One event as `events` prints it: local time, source, kind, then the rest as key=value."""
    stamp = datetime.fromtimestamp(e.get("time", 0)).strftime("%H:%M:%S.%f")[:-3]
    rest = " ".join(f"{k}={v}" for k, v in e.items() if k not in ("time", "source", "kind"))
    return f"{stamp}  {e.get('source', '?'):<6} {e.get('kind', '?'):<8} {rest}"


@app.command()
def events(
    name: NameOpt = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new events.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The cluster's events: elections, term changes, crashes, restarts, faults."""
    from chaoslab.events import follow_events, follow_lines

    cluster = find_cluster(name, stale_ok=True)
    alive = cluster.run.running
    try:
        if as_json:  # the lines as written, one JSON object each
            for line in follow_lines(cluster.run.events, follow=follow, alive=alive):
                print(line, flush=True)
        else:
            for event in follow_events(cluster.run.events, follow=follow, alive=alive):
                print(format_event(event), flush=True)
    except KeyboardInterrupt:
        return


# -- process faults ------------------------------------------------------------

Targets = Annotated[list[str], typer.Argument(metavar="NODE", help="Node ids, `leader` or `random`.")]
RESTART_SETTLE = 5.0  # seconds `restart` waits for a node to answer, or to exit and be reported
SeedForRandom = Annotated[int, typer.Option("--seed", show_default=False, help="Seed for `random` (default: the cluster's own draws).")]


def _report(verb: str, ids: list[str]) -> None:
    """What was done, and (``Cluster.crash`` and friends act on the targets they can) what was not."""
    skipped = getattr(ids, "skipped", "")
    out.print(f"{verb} {', '.join(ids)}" + (f" (left alone: {skipped})" if skipped else ""), highlight=False)


@app.command()
def crash(targets: Targets, name: NameOpt = None, seed: SeedForRandom = 0) -> None:
    """Kill nodes with SIGKILL (`crash leader`, `crash random`, `crash n3 n4`)."""
    _report("crashed", find_cluster(name).crash(*targets, seed=seed))


@app.command()
def restart(
    targets: Annotated[list[str], typer.Argument(metavar="NODE", help="Crashed node ids.")], name: NameOpt = None,
) -> None:
    """Start crashed nodes again, same id and data directory; waits (up to 5 s) until each answers, and reports one that exits instead."""
    _report("restarted", find_cluster(name).restart(*targets, settle=RESTART_SETTLE))


@app.command()
def pause(targets: Targets, name: NameOpt = None, seed: SeedForRandom = 0) -> None:
    """Freeze nodes with SIGSTOP."""
    _report("paused", find_cluster(name).pause(*targets, seed=seed))


@app.command()
def resume(
    targets: Annotated[list[str], typer.Argument(metavar="NODE", help="Paused node ids.")], name: NameOpt = None,
) -> None:
    """Thaw paused nodes with SIGCONT.

    Like crash, restart and pause, it acts on the targets it can and names the others
    (`resume n1 n2` with only n1 paused resumes n1); it changes nothing when none can be acted on.
    """
    _report("resumed", find_cluster(name).resume(*targets))


# -- network faults ------------------------------------------------------------

ForOpt = Annotated[Optional[str], typer.Option("--for", help="Revert on its own after this long (e.g. 10s).")]
FromOpt = Annotated[Optional[str], typer.Option("--from", help="Only messages from these nodes (n1,n2).")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="Only messages to these nodes.")]
SeedOpt = Annotated[int, typer.Option("--seed", show_default=False,
                                      help="Seed for this fault's randomness (default: from the cluster's seed).")]


# `delay -5ms` must reach our parser (and its one-line error), not be taken for an option.
_NUMBERS = {"ignore_unknown_options": True}


def _value(parse: Any, text: Optional[str]) -> Any:
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise LabError(str(exc)) from None


def _rule_links(rule: Any) -> str:
    return f"{','.join(rule.src) or '*'} -> {','.join(rule.dst) or '*'}"


def _fault_summary(state: Any) -> None:
    if not state.rules:
        out.print("no faults")
    labels = [rule.label for rule in state.rules]
    for rule in state.rules:
        # A partition is one rule a direction under one label: say which direction each is.
        links = f" ({_rule_links(rule)})" if labels.count(rule.label) > 1 else ""
        out.print(f"[bold]{rule.id}[/] {rule.label}{links}", highlight=False)
    if state.partition_groups:
        out.print("groups: " + " | ".join(state.partition_groups), highlight=False)


@app.command()
def partition(
    groups: Annotated[Optional[list[str]], typer.Argument(metavar="GROUP", help="Groups like `n1,n2 n3,n4,n5` (others form one more group), or `n1->n2`.")] = None,
    isolate: Annotated[Optional[str], typer.Option("--isolate", help="Cut one node (an id, `leader` or `random`) off from all.")] = None,
    majority: Annotated[bool, typer.Option("--majority", help="Split in two with the leader on the minority side.")] = False,
    minority_third: Annotated[bool, typer.Option("--minority-third", help="Cut a third of the nodes off.")] = False,
    ring: Annotated[bool, typer.Option("--ring", help="Each node sees a different majority.")] = False,
    bridge: Annotated[bool, typer.Option("--bridge", help="Two halves joined by one node that sees both.")] = False,
    random_halves: Annotated[bool, typer.Option("--random-halves", help="Two random halves.")] = False,
    for_: ForOpt = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed for random shapes.")] = None,
    name: NameOpt = None,
) -> None:
    """Partition the network (replaces any partition in force). Messages across it vanish."""
    shapes = [w for w, on in (("majority", majority), ("minority-third", minority_third), ("ring", ring),
                              ("bridge", bridge), ("random-halves", random_halves)) if on]
    if isolate is not None:
        shapes.append(f"isolate:{isolate}")
    if groups and shapes or len(shapes) > 1:
        raise LabError("give either groups or one shape (--isolate, --majority, --ring, ...), not several")
    spec = shapes or groups or []
    state = find_cluster(name).partition(*spec, for_s=_value(_parse_for, for_), seed=seed)
    _fault_summary(state)


def _parse_for(text: str) -> float:
    from chaoslab.net.parse import parse_for

    return parse_for(text)


def _parse_timeout(text: str) -> float:
    from chaoslab.net.parse import parse_for

    return parse_for(text, "--timeout")


def _links(nodes: Optional[str]) -> Any:
    """``--from`` / ``--to`` as the Cluster API takes them: absent is every node; given, even
    empty, is parsed (so ``--to ''`` is refused rather than read as every node)."""
    return () if nodes is None else nodes


def _probability(text: str) -> float:
    from chaoslab.net.parse import parse_probability

    return parse_probability(text)


def _duration(text: str) -> float:
    from chaoslab.net.parse import parse_duration

    return parse_duration(text)


ProbabilityArg = Annotated[str, typer.Argument(help="Share of messages affected: 20% or 0.2.")]


def _probability_fault(kind: str, doc: str) -> None:
    """Register `drop`, `duplicate` or `reorder`: the same options, a different Cluster method."""

    def command(
        probability: ProbabilityArg,
        from_: FromOpt = None, to: ToOpt = None, for_: ForOpt = None, seed: SeedOpt = 0, name: NameOpt = None,
    ) -> None:
        fault = getattr(find_cluster(name), kind)
        _fault_summary(fault(_value(_probability, probability), src=_links(from_), dst=_links(to),
                             for_s=_value(_parse_for, for_), seed=seed))

    command.__doc__ = doc
    app.command(kind, context_settings=_NUMBERS)(command)


_probability_fault("drop", "Drop messages at random (`drop 100%` equals a partition of those links).")
_probability_fault("duplicate", "Deliver some messages twice.")
_probability_fault("reorder", "Reorder messages by holding some back so later ones overtake.")


@app.command(context_settings=_NUMBERS)
def delay(
    amount: Annotated[str, typer.Argument(help="Added latency, e.g. 50ms.")],
    jitter: Annotated[str, typer.Option("--jitter", help="± this much, e.g. 10ms.")] = "0ms",
    dist: Annotated[str, typer.Option("--dist", help="Jitter distribution: uniform or normal.")] = "uniform",
    from_: FromOpt = None, to: ToOpt = None, for_: ForOpt = None, seed: SeedOpt = 0, name: NameOpt = None,
) -> None:
    """Delay messages (links stay in order unless reordered too)."""
    _fault_summary(find_cluster(name).delay(_value(_duration, amount), jitter_s=_value(_duration, jitter), dist=dist,
                                        src=_links(from_), dst=_links(to), for_s=_value(_parse_for, for_), seed=seed))


@app.command()
def heal(
    name: NameOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Clear every fault, not only partitions.")] = False,
) -> None:
    """Remove partitions (with --all, every network fault)."""
    c = find_cluster(name)
    _fault_summary(c.clear() if all_ else c.heal())


@app.command()
def clear(name: NameOpt = None) -> None:
    """Remove every network fault."""
    _fault_summary(find_cluster(name).clear())


@app.command()
def faults(name: NameOpt = None, as_json: JsonOpt = False) -> None:
    """Active network faults and per-link message counters."""
    from chaoslab.net.proto import to_proto
    from chaoslab.wire.plain import to_plain

    state = find_cluster(name).faults()
    if as_json:
        print(json.dumps(to_plain(to_proto(state))))
        return
    _fault_summary(state)
    now = time.time()
    rules = Table("id", "fault", "links", "expires", box=box.SIMPLE_HEAD, pad_edge=False, title="rules", title_justify="left")
    for r in state.rules:
        rules.add_row(r.id, r.label, _rule_links(r), f"in {r.expires_at - now:.1f}s" if r.expires_at else "-")
    if state.rules:
        out.print(rules)
    links = Table("link", "sent", "deliv", "drop", "dup", "flight", "delay", "reord", "bytes", "msg/s", box=box.SIMPLE_HEAD,
                  pad_edge=False, title="links", title_justify="left")
    for c in state.links:
        links.add_row(f"{c.src}->{c.dst}", *(str(v) for v in (c.sent, c.delivered, c.dropped, c.duplicated, c.in_flight, c.delayed,
                                                                c.reordered, c.bytes)), f"{c.rate:.0f}")
    out.print(links)


# -- key-value client ------------------------------------------------------------

kv_app = typer.Typer(help="Talk to a cluster's key-value store, where its algorithm serves one (finds the leader, retries until --timeout).",
                     no_args_is_help=True)
app.add_typer(kv_app, name="kv")
TimeoutOpt = Annotated[str, typer.Option("--timeout", help="Give up after this long; says if the outcome is unknown.")]

# Keys and values may start with "-" (`kv put neg -1`): what is not one of the command's own
# options is taken as an argument (`--` also ends the options).
_KV = {"ignore_unknown_options": True}
ValueArg = Annotated[Optional[str], typer.Argument(help="The value (or give --value-file).", show_default=False)]
ValueFileOpt = Annotated[Optional[Path], typer.Option(
    "--value-file", help="Read the value from this file (`-`: standard input), for large ones.", show_default=False)]


def _value_of(value: Optional[str], value_file: Optional[Path]) -> str:
    """VALUE or the contents of --value-file (exactly one), as text."""
    if (value is None) == (value_file is None):
        raise LabError("give a VALUE or --value-file PATH (`-` for standard input), not both or neither")
    if value_file is None:
        return value or ""
    try:
        data = sys.stdin.buffer.read() if str(value_file) == "-" else value_file.read_bytes()
    except OSError as exc:
        raise LabError(f"--value-file {value_file}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise LabError(f"--value-file {value_file}: not UTF-8 text (values are text)") from None


def _kv(name: Optional[str], op: str, *args: Any, timeout: str) -> None:
    """Run one KV operation and print its answer. Exit 0 done, 1 not found / cas mismatch, 2 not acknowledged."""
    from chaoslab.client import KVClient

    cluster = find_cluster(name)
    with KVClient.for_cluster(cluster, timeout=_value(_parse_timeout, timeout)) as client:
        result = getattr(client, op)(*args)
    if result.ok:
        if op == "get":
            print(result.value)
        else:
            out.print(f"ok (index {result.index}, via {result.node})", highlight=False)
        return
    detail = f": current value {result.value!r}" if result.code_name == "cas_mismatch" else ""
    err.print(f"{result.code_name.replace('_', ' ')}{detail}", highlight=False)
    raise typer.Exit(1)


@kv_app.command("get", context_settings=_KV)
def kv_get(key: str, name: NameOpt = None, timeout: TimeoutOpt = "5s") -> None:
    """Print a key's value (linearizable read)."""
    _kv(name, "get", key, timeout=timeout)


@kv_app.command("put", context_settings=_KV)
def kv_put(key: str, value: ValueArg = None, value_file: ValueFileOpt = None, name: NameOpt = None,
           timeout: TimeoutOpt = "5s") -> None:
    """Set a key (the value size limit is raft.max_value_bytes, 1 MiB unless set)."""
    _kv(name, "put", key, _value_of(value, value_file), timeout=timeout)


@kv_app.command("cas", context_settings=_KV)
def kv_cas(
    key: str,
    value: str,
    expect: Annotated[Optional[str], typer.Option("--expect", help="The value KEY must hold now.")] = None,
    absent: Annotated[bool, typer.Option("--absent", help="Succeed only if KEY does not exist.")] = False,
    name: NameOpt = None,
    timeout: TimeoutOpt = "5s",
) -> None:
    """Compare and set: write VALUE only if KEY holds --expect (or is --absent)."""
    if (expect is None) == (not absent):
        raise LabError("kv cas needs exactly one of --expect VALUE or --absent")
    _kv(name, "cas", key, None if absent else expect, value, timeout=timeout)


@kv_app.command("append", context_settings=_KV)
def kv_append(key: str, value: ValueArg = None, value_file: ValueFileOpt = None, name: NameOpt = None,
              timeout: TimeoutOpt = "5s") -> None:
    """Append to a key's value (a missing key counts as empty)."""
    _kv(name, "append", key, _value_of(value, value_file), timeout=timeout)


@kv_app.command("delete", context_settings=_KV)
def kv_delete(key: str, name: NameOpt = None, timeout: TimeoutOpt = "5s") -> None:
    """Delete a key."""
    _kv(name, "delete", key, timeout=timeout)


def _run_dashboard(cluster: Any, refresh: float, once: bool, as_json: bool) -> int:
    from chaoslab.dashboard import STATUS_LOG_TAIL, run_dashboard
    from chaoslab.lab.cluster import status_to_dict

    deadline = min(1.0, 2.0 / refresh)  # a slow poll must not hold frames back

    def fetch() -> dict[str, Any]:
        return status_to_dict(cluster.status(log_tail=STATUS_LOG_TAIL, timeout=deadline, faults=True))

    return run_dashboard(fetch, cluster.run.events, refresh_hz=refresh, once=once, as_json=as_json,
                         console=out, name=cluster.name)


@app.command()
def dashboard(
    name: NameOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Print one frame and exit.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Stream the snapshots it renders, one JSON line each.")] = False,
    refresh: Annotated[float, typer.Option("--refresh", min=1, max=10, help="Frames per second.")] = 5.0,
) -> None:
    """Live view of the cluster: nodes, Raft logs, links, events. Ctrl-C leaves the cluster running."""
    raise typer.Exit(_run_dashboard(find_cluster(name), refresh, once, as_json))


# -- checking histories ------------------------------------------------------------


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="History files: JSON lines, Jepsen EDN or jepsen.util log lines.")],
    model: Annotated[str, typer.Option("--model", "-m", help="register, cas-register, kv, counter or set.")] = "kv",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a file.")] = False,
    timeout: Annotated[str, typer.Option("--timeout", help="Give up on a file after this long (verdict unknown).")] = "60s",
    html: Annotated[Optional[Path], typer.Option("--html", help="Write the timeline here (a directory for several files).")] = None,
) -> None:
    """Is each history linearizable? Exit 0 all valid, 1 one invalid, 2 unknown or bad input."""
    from chaoslab.check import HistoryError, check_history, get_model
    from chaoslab.check.html import render_html
    from chaoslab.check.report import render_text, to_dict

    limit = _value(_duration, timeout)
    _value(get_model, model)  # an unknown model is bad input before any file is read (ModelError is a ValueError)
    worst = 0
    for path in files:
        try:
            result = check_history(path, model, timeout=limit)
        except HistoryError as exc:
            _error(str(exc))
            if as_json:
                print(json.dumps({"file": str(path), "verdict": "error", "error": str(exc)}))
            worst = 2
            continue
        if as_json:
            print(json.dumps(to_dict(result), default=_plain))
        else:
            print(render_text(result))
        if html is not None:
            target = html / f"{path.stem}.html" if len(files) > 1 else html
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render_html(result), encoding="utf-8")
            if not as_json:
                print(f"  timeline: {target}")
        worst = max(worst, result.exit_code)
    raise typer.Exit(worst)


# -- scripted chaos runs ------------------------------------------------------------


@app.command("run")
def run_(
    files: Annotated[list[Path], typer.Argument(help="Scenario files (faults/*.toml); each runs on its own fresh cluster.")],
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed for every random choice (default: random, shown).")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="The quick profile: every time scaled by the file's quick_scale.")] = False,
    report_dir: Annotated[Optional[Path], typer.Option("--report-dir", help="Put run directories here (default HOME/runs).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs' report.json contents as one JSON list.")] = False,
    algorithm: Annotated[Optional[str], typer.Option("--algorithm", metavar="NAME|MODULE:ATTR",
                         help="Run the files against another algorithm or build (e.g. one with a planted bug).")] = None,
    settings: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE",
                        help="An algorithm setting on top of the files' [cluster.set] (repeatable).")] = None,
) -> None:
    """Run scenarios: a fresh cluster, clients, timed faults, verdicts. Exit 0 as expected, 1 violation, 2 unknown/error."""
    run_files(files, seed=seed, quick=quick, report_dir=report_dir, as_json=as_json, algorithm=algorithm,
              settings=settings or ())


def run_files(files: Sequence[Path], *, seed: int | None = None, quick: bool = False, report_dir: Path | None = None,
              as_json: bool = False, algorithm: str | None = None, settings: Sequence[str] = ()) -> NoReturn:
    """``chaoslab run``'s work, for commands that write a scenario and run it (``chaoslab
    maelstrom test``): every file is checked before any cluster starts; exits with the worst code."""
    import random
    import signal

    from chaoslab.chaos.display import RunDisplay, summary_table
    from chaoslab.chaos.parse import load_scenario
    from chaoslab.chaos.report import HTML, verdict_label
    from chaoslab.chaos.runner import run

    scenarios = [load_scenario(path, algorithm=algorithm, settings=settings) for path in files]  # all bad input is found before any cluster starts
    # `kill` (or a CI job's timeout) tears a run's cluster down as Ctrl-C does: a run's cluster
    # is nobody's to stop once its run is gone.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    chosen = seed if seed is not None else random.randrange(1, 2**31)
    reports = []
    for scenario in scenarios:
        try:
            if as_json or not err.is_terminal:  # progress bars are for people watching, not for logs
                result = run(scenario, chosen, quick=quick, home=State.home, report_dir=report_dir)
            else:
                with RunDisplay(err) as display:
                    result = run(scenario, chosen, quick=quick, home=State.home, report_dir=report_dir, progress=display)
        except KeyboardInterrupt:
            _error(f"interrupted: {scenario.name}'s cluster is down (replay: {_replay(scenario, chosen, quick)})")
            raise typer.Exit(130) from None
        reports.append(result.report)
        if as_json:
            continue
        label = verdict_label(result.report)
        out.print(f"[bold]{scenario.name}[/]: {label} (exit {result.exit_code}, seed {result.seed})", highlight=False)
        out.print(f"  report: {result.run_dir / HTML}", highlight=False, soft_wrap=True)
        for v in result.verdicts:  # what went wrong, in the log itself: a CI reader sees why at once
            if v.status in ("invalid", "unknown"):
                out.print(f"  {v.name}: {v.status}: {v.summary}", highlight=False, markup=False, soft_wrap=True)
        for line in [*(f"{e['label']}: {e['error']}" for e in result.report["step_errors"]), *result.report["notes"]]:
            out.print(f"  {line}", style="dim", highlight=False, markup=False, soft_wrap=True)
        if result.error:
            _error(f"{scenario.name}: {result.error}")
        if not result.ok:
            out.print(f"  seed {result.seed} — replay: [bold]{result.replay}[/]", highlight=False, soft_wrap=True)
    if as_json:
        print(json.dumps(reports))
    else:
        out.print(summary_table(reports))
    raise typer.Exit(max(r["exit_code"] for r in reports))


def _replay(scenario: Any, seed: int, quick: bool) -> str:
    from chaoslab.chaos.report import replay_command

    return replay_command(scenario.path, seed, quick, scenario.replay_args)


@app.command()
def runs(as_json: JsonOpt = False) -> None:
    """Past `chaoslab run` runs with their verdicts, newest last."""
    from chaoslab.chaos.display import runs_table
    from chaoslab.chaos.report import list_runs

    found = list_runs(State.home)
    if as_json:
        print(json.dumps([{"run_dir": str(path), **report} for path, report in found]))
    elif not found:
        out.print("no runs here yet; start one with `chaoslab run faults/FILE.toml`")
    else:
        out.print(runs_table(found))


@app.command()
def report(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="A run directory, or its name under HOME/runs (a prefix will do).")],
    open_: Annotated[bool, typer.Option("--open", help="Open report.html in a browser.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """A past run's summary and verdicts, and where its report.html is."""
    from chaoslab.chaos.display import summary_table, verdicts_table
    from chaoslab.chaos.report import HTML, find_run, read_report

    path = find_run(run_ref, State.home)
    content = read_report(path)
    if as_json:
        print(json.dumps(content))
        return
    out.print(summary_table([content]))
    out.print(verdicts_table(content))
    if content.get("error"):
        out.print(f"error: {content['error']}", highlight=False)
    html = path / HTML
    out.print(f"report: {html}" if html.exists() else f"no {HTML} in {path}", highlight=False)
    if content.get("exit_code"):
        out.print(f"replay: {content.get('replay')}", highlight=False)
    if open_ and html.exists():
        import webbrowser

        webbrowser.open(html.resolve().as_uri())


def _plain(value: Any) -> Any:
    """JSON for what a history may hold besides JSON's own types (EDN sets, ...)."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def _add_algorithm_commands() -> None:
    """Each algorithm's own commands (``AlgorithmSpec.cli``) join the app. A plug-in that
    cannot be loaded costs its commands, never the rest of the CLI."""
    from chaoslab.algorithms.registry import get_algorithm, load_ref

    for name in available():
        try:
            ref = get_algorithm(name).cli
            if ref:
                app.add_typer(load_ref(ref))
        except Exception:  # noqa: BLE001 - e.g. an installed plug-in broken by an upgrade
            continue



def _builtin_command(argv: list[str]) -> bool:
    """Does ``argv`` run one of chaoslab's own commands? Then the algorithms' commands (which
    cost loading every spec, ~0.1 s) need not be added; for help and for their names they are."""
    words = iter(argv)
    for word in words:
        if word == "--home":
            next(words, None)
        elif not word.startswith("-"):
            own = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands if c.callback}
            return word in own | {g.name for g in app.registered_groups}
    return False


def _error(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)  # "[[step]]" is text


def main() -> None:
    try:  # typer vendors click since 0.17; before, it used click itself
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover
        from click.exceptions import ClickException

    try:
        if not _builtin_command(sys.argv[1:]):
            _add_algorithm_commands()
        code = app(standalone_mode=False)
    except LabError as exc:
        _error(str(exc))
        sys.exit(2)
    except ClickException as exc:
        # Usage errors (unknown option, missing argument, a value of the wrong type) get
        # one line too, with where to look, not click's usage block and error box.
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help is printed already
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        _error(exc.format_message() + hint)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code or 0)

"""One pure builder per dashboard panel: snapshot (+ events, ``now``, width) → renderable.

Nothing here reads a clock, a file or a socket; relative times are computed
from the ``now`` the caller passes. Every builder copes with missing pieces
(a node without status, a cluster without faults) by saying so in the frame.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .snapshot import (
    detail,
    detail_kind,
    fmt_ago,
    fmt_duration,
    fmt_rate,
    get,
    nodes,
    num,
    text,
)
from .style import (
    BAD,
    DIM,
    LINK_GLYPH,
    LINK_STYLE,
    ROLE_STYLE,
    STATE_GLYPH,
    STATE_STYLE,
    WARN,
    role_text,
    state_text,
    term_colour,
    term_text,
)

__all__ = [
    "WIDE",
    "bully_panel",
    "byzantine_panel",
    "describe_event",
    "down_panel",
    "events_panel",
    "header",
    "link_states",
    "network_panel",
    "nodes_panel",
    "raft_panel",
]

WIDE = 110  # from this width on, panels show their optional columns
NARROW = 72  # below this width, panels drop their least useful columns
HEARD_WARN_S = 0.5  # a follower silent this long is close to starting an election
LEADER_ROLES = frozenset({"leader", "coordinator", "commander"})

def _dash() -> Text:
    return Text("–", style=DIM)


Snapshot = Mapping[str, Any]
Node = Mapping[str, Any]


# --------------------------------------------------------------------------- helpers


def _panel(body: RenderableType, title: str, *, border: str = "bright_black", subtitle: str | None = None,
           expand: bool = True) -> Panel:
    return Panel(
        body,
        title=Text(title, style="bold"),
        title_align="left",
        subtitle=Text(subtitle, style=DIM) if subtitle else None,
        subtitle_align="right",
        border_style=border,
        box=box.ROUNDED,
        padding=(0, 1),
        expand=expand,
    )


def _table(*, header: bool = True) -> Table:
    return Table(
        box=None,
        show_header=header,
        header_style="bold",
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
        show_edge=False,
    )


def _status(node: Node) -> Mapping[str, Any] | None:
    status = node.get("status")
    return status if isinstance(status, Mapping) else None


def _node_state(node: Node) -> str:
    """The supervisor's process state, or ``no answer`` when an up node gave no status."""
    state = text(node, "state", default="?")
    if state == "up" and _status(node) is None and text(node, "error"):
        return "no answer"
    return state


def _algorithm(snapshot: Snapshot) -> str:
    algo = text(snapshot, "algorithm")
    if algo:
        return algo
    for node in nodes(snapshot):
        kind = detail_kind(node)
        if kind:
            return kind
    return "?"


def _kinds(snapshot: Snapshot) -> set[str]:
    kinds = {k for k in (detail_kind(n) for n in nodes(snapshot)) if k}
    algo = text(snapshot, "algorithm")
    if algo in ("raft", "bully", "byzantine"):
        kinds.add(algo)
    return kinds


def _ids(snapshot: Snapshot) -> list[str]:
    return [text(n, "id", default="?") for n in nodes(snapshot)]


def _count(value: int) -> str:
    if value < 1000:
        return str(value)
    if value < 999_500:
        return f"{value / 1000:.1f}k" if value < 9950 else f"{value / 1000:.0f}k"
    return f"{value / 1e6:.1f}M"


def _no_status_text(node: Node) -> Text:
    state = _node_state(node)
    return Text(f"{STATE_GLYPH.get(state, '?')} {state}", style=STATE_STYLE.get(state, DIM))


def _leaders(snapshot: Snapshot) -> list[tuple[int, str]]:
    """(term, id) of every node that reports a leader-like role, highest term first."""
    found = []
    for node in nodes(snapshot):
        status = _status(node)
        if status is not None and text(status, "role") in LEADER_ROLES:
            found.append((num(status, "term"), text(node, "id", default="?")))
    return sorted(found, key=lambda x: (-x[0], x[1]))


# --------------------------------------------------------------------------- header


def header(snapshot: Snapshot, *, now: float, snapshot_age: float | None = None) -> RenderableType:
    """One line: cluster, algorithm, size, seed, uptime; on the right, who leads."""
    algo = _algorithm(snapshot)
    left = Text()
    left.append(text(snapshot, "cluster", default="?"), style="bold cyan")
    left.append(f" · {algo} ×{len(nodes(snapshot))}")
    if get(snapshot, "seed") is not None:
        left.append(f" · seed {num(snapshot, 'seed')}")
    started = num(snapshot, "started_at")
    if started:
        left.append(f" · up {fmt_duration(now - started)}")

    right = Text(justify="right")
    if snapshot_age is not None and snapshot_age >= 2.0:
        right.append(f"! stale {fmt_duration(snapshot_age)}", style=WARN)
        right.append("  ")
    right.append_text(_leader_summary(snapshot, algo))

    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True)
    grid.add_row(left, right)
    return grid


def _leader_summary(snapshot: Snapshot, algo: str) -> Text:
    word = {"bully": "coordinator", "byzantine": "commander"}.get(algo, "leader")
    unit = {"bully": "epoch", "byzantine": "round"}.get(algo, "term")
    if algo == "byzantine":
        commander = next((text(detail(n, "byzantine"), "commander") for n in nodes(snapshot)
                          if text(detail(n, "byzantine"), "commander")), "")
        if commander:
            return Text(f"commander {commander}", style="green")
    leaders = _leaders(snapshot)
    if not leaders:
        out = Text(f"no {word}", style=WARN)
        electing = _electing(snapshot)
        if electing:
            out.append(" · electing: ", style=WARN)
            out.append(", ".join(electing))
        return out
    per_term = Counter(term for term, _ in leaders)
    clash = [t for t, c in per_term.items() if c > 1]
    if clash and algo == "raft":
        ids = " ".join(i for t, i in leaders if t == clash[0])
        return Text(f"✕ {per_term[clash[0]]} leaders in term {clash[0]}: {ids}", style=BAD)
    term, lead = leaders[0]
    out = Text(f"{word} {lead}", style="bold green")
    out.append(f" · {unit} ")
    out.append_text(term_text(term))
    if len(leaders) > 1:
        out.append("  stale: ", style=WARN)
        out.append(" ".join(f"{i}({unit[0]}{t})" for t, i in leaders[1:]), style=WARN)
    return out


def _electing(snapshot: Snapshot) -> list[str]:
    """``n3 (term 4, 2 votes)`` for every node campaigning right now, highest term first."""
    found = []
    for node in nodes(snapshot):
        status = _status(node)
        if status is None or text(status, "role") not in ("candidate", "electing"):
            continue
        term = num(status, "term")
        votes = num(detail(node, "raft"), "votes")
        extra = f", {votes} vote{'s' if votes != 1 else ''}" if detail_kind(node) == "raft" else ""
        found.append((term, f"{text(node, 'id', default='?')} (term {term}{extra})"))
    return [label for _, label in sorted(found, key=lambda x: -x[0])]


# --------------------------------------------------------------------------- nodes


def nodes_panel(snapshot: Snapshot, *, width: int = 80) -> Panel:
    """Each node: id, pid, process state, role, term, whom it follows, log indexes, last heard."""
    algo = _algorithm(snapshot)
    wide = width >= WIDE
    narrow = width < NARROW  # below this, pid and applied index make way
    raft = "raft" in _kinds(snapshot)
    unit = {"bully": "epoch", "byzantine": "round"}.get(algo, "term")
    follows = {"bully": "coord", "byzantine": "cmdr"}.get(algo, "leader")

    table = _table()
    table.add_column("node", no_wrap=True, style="bold")
    if not narrow:
        table.add_column("pid", justify="right", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("role", no_wrap=True)
    table.add_column(unit, justify="right", no_wrap=True)
    table.add_column(follows, no_wrap=True)
    if raft:
        table.add_column("commit", justify="right", no_wrap=True)
        if not narrow:
            table.add_column("appl", justify="right", no_wrap=True)
        table.add_column("log", justify="right", no_wrap=True)
    table.add_column("heard", justify="right", no_wrap=True)
    if wide:
        table.add_column("uptime", justify="right", no_wrap=True)
        table.add_column("msgs in/out", justify="right", no_wrap=True)

    notes: list[Text] = []
    for node in nodes(snapshot):
        nid = text(node, "id", default="?")
        status = _status(node)
        state = _node_state(node)
        pid = num(node, "pid") or (num(status, "pid") if status else 0)
        st = state_text(text(node, "state", default="?"))  # "no answer" shows in the role column
        restarts = num(node, "restarts")
        if restarts:
            st.append(f" ↻{restarts}", style=DIM)
        row: list[RenderableType] = [nid] + ([] if narrow else [str(pid) if pid else _dash()]) + [st]
        if status is None:
            missing = _no_status_text(node) if state == "no answer" else _dash()
            row += [missing, _dash(), _dash()]
            if raft:
                row += [_dash()] * (2 if narrow else 3)
            row.append(_dash())
            if wide:
                row += [_dash(), _dash()]
            if state == "no answer" or (state not in ("crashed", "paused") and text(node, "error")):
                notes.append(Text(f"{nid}: {text(node, 'error', default='no status')}", style=WARN))
        else:
            role = text(status, "role")
            row += [role_text(role), term_text(num(status, "term")), _follows(status, nid)]
            if raft:
                r = detail(node, "raft")
                commit, applied, last = num(r, "commit_index"), num(r, "applied_index"), num(r, "last_index")
                row += [str(commit)]
                if not narrow:
                    row.append(Text(str(applied), style="" if applied >= commit else WARN))
                row.append(str(last))
            row.append(_heard(status))
            if wide:
                row.append(fmt_duration(num(status, "uptime_s")))
                row.append(f"{_count(num(status, 'messages_in'))}/{_count(num(status, 'messages_out'))}")
        table.add_row(*row, style=DIM if state in ("crashed", "paused") else "")

    if not nodes(snapshot):
        return _panel(Text("no nodes", style=DIM), "Nodes")
    body: RenderableType = table
    if notes:
        for note in notes:
            note.no_wrap = True
            note.overflow = "ellipsis"
        body = Group(table, *notes)
    return _panel(body, "Nodes")


def _follows(status: Mapping[str, Any], nid: str) -> Text:
    leader = text(status, "leader")
    if not leader:
        return Text("none", style=WARN if text(status, "role") not in LEADER_ROLES else DIM)
    if leader == nid:
        return Text("self", style="green")
    return Text(leader)


def _heard(status: Mapping[str, Any]) -> Text:
    if text(status, "role") in LEADER_ROLES:
        return Text("–", style=DIM)
    heard = num(status, "last_heard_s", default=-1)
    if heard < 0:
        return Text("never", style=DIM)
    return Text(fmt_duration(heard), style=WARN if heard >= HEARD_WARN_S else "")


# --------------------------------------------------------------------------- raft


def raft_panel(snapshot: Snapshot, *, width: int = 80) -> Panel:
    """RaftScope's view: each node's log tail aligned by index, boxes coloured by term,
    committed entries solid, and the leader's match/next index for every follower."""
    members = [n for n in nodes(snapshot) if detail_kind(n) in ("raft", None)]
    lead = _leaders(snapshot)
    leader_id = lead[0][1] if lead else ""
    leader_term = lead[0][0] if lead else 0
    progress: dict[str, Mapping[str, Any]] = {}
    leader_last = 0
    for node in members:
        if text(node, "id") == leader_id:
            r = detail(node, "raft")
            leader_last = num(r, "last_index")
            for p in get(r, "progress", default=[]) or []:
                if isinstance(p, Mapping):
                    progress[text(p, "peer")] = p

    tails: dict[str, dict[int, Mapping[str, Any]]] = {}
    hi, first_known, max_term = 0, None, 1
    for node in members:
        r = detail(node, "raft")
        entries = {num(e, "index"): e for e in get(r, "log_tail", default=[]) or [] if isinstance(e, Mapping)}
        tails[text(node, "id")] = entries
        if _status(node) is None:
            continue
        last = max([num(r, "last_index"), *entries])
        hi = max(hi, last)
        start = min(entries) if entries else num(r, "snapshot_index") + 1
        if last:
            first_known = start if first_known is None else min(first_known, start)
        max_term = max([max_term, *(num(e, "term") for e in entries.values())])

    id_w = max([len(i) for i in tails] or [2])
    cell_w = len(str(max_term)) + 2
    show_progress = bool(progress)
    inner = width - 4  # panel border and padding
    avail = inner - (id_w + 2) - 1 - ((6 + 5) if show_progress else 0)
    capacity = max(1, avail // cell_w)
    if hi == 0:
        count, lo = 0, 1
    else:
        known = hi - (first_known or 1) + 1
        count = max(1, min(capacity, known))
        lo = hi - count + 1

    table = _table()
    table.add_column("node", no_wrap=True)
    table.add_column(_ruler(lo, count, cell_w) if count else Text("log empty", style=DIM),
                     no_wrap=True, overflow="crop", header_style=DIM)
    if show_progress:
        table.add_column("match", justify="right", no_wrap=True)
        table.add_column("next", justify="right", no_wrap=True)

    for node in members:
        nid = text(node, "id", default="?")
        status = _status(node)
        role = text(status, "role") if status else ""
        label = Text(nid, style="bold")
        if role:
            label.append(" ")
            label.append(role_text(role).plain[0], style=ROLE_STYLE.get(role, ""))
        if status is None:
            cells = _no_status_text(node)
        else:
            r = detail(node, "raft")
            cells = _log_cells(tails.get(nid, {}), lo, count, cell_w, num(r, "commit_index"),
                               num(r, "snapshot_index"), num(r, "last_index"))
        row: list[RenderableType] = [label, cells]
        if show_progress:
            row += _progress_cells(progress.get(nid), nid == leader_id, leader_last)
        table.add_row(*row)

    subtitle = "[t] committed  (t) not yet  colour = term"
    title = "Raft log"
    if show_progress:
        title += f" · match/next as leader {leader_id} (term {leader_term}) sees them"
    return _panel(table, title, subtitle=subtitle)


def _ruler(lo: int, count: int, cell_w: int) -> Text:
    """Index labels above the log cells: the first index, then every multiple of 5 that fits."""
    chars = [" "] * (count * cell_w)
    free_from = 0
    for j in range(count):
        idx = lo + j
        if j and idx % 5:
            continue
        label = str(idx)
        pos = j * cell_w
        if pos < free_from or pos + len(label) > len(chars):
            continue
        chars[pos:pos + len(label)] = label
        free_from = pos + len(label) + 1
    return Text("".join(chars).rstrip() or " ")


def _log_cells(entries: Mapping[int, Mapping[str, Any]], lo: int, count: int, cell_w: int,
               commit: int, snap_index: int, last: int) -> Text:
    if count and last < lo:
        return Text(f"… log ends at {last}" if last else "empty log", style=DIM)
    out = Text(no_wrap=True, overflow="crop")
    for idx in range(lo, lo + count):
        entry = entries.get(idx)
        if entry is not None:
            term = num(entry, "term")
            colour = term_colour(term)
            if idx <= commit:
                out.append(f"[{term}]".center(cell_w), style=f"bold black on {colour}")
            else:
                out.append(f"({term})".center(cell_w), style=colour)
        elif idx <= snap_index:
            out.append("▒" * cell_w, style=DIM)
        elif idx <= last:
            out.append(" ? ".center(cell_w), style=DIM)
        else:
            out.append(" " * cell_w)
    return out


def _progress_cells(p: Mapping[str, Any] | None, is_leader: bool, leader_last: int) -> list[RenderableType]:
    if is_leader:
        return [Text("lead", style="green"), _dash()]
    if p is None:
        return [_dash(), _dash()]
    match, nxt = num(p, "match_index"), num(p, "next_index")
    active = bool(get(p, "recent_active", default=True))
    mstyle = "green" if match >= leader_last and leader_last else ""
    if not active:
        mstyle = DIM
    nstyle = WARN if text(p, "state") == "probe" else ""
    return [Text(str(match), style=mstyle), Text(str(nxt), style=nstyle if active else DIM)]


# --------------------------------------------------------------------------- network


def _matches(rule: Mapping[str, Any], src: str, dst: str) -> bool:
    srcs = get(rule, "src", default=[]) or []
    dsts = get(rule, "dst", default=[]) or []
    return (not srcs or src in srcs) and (not dsts or dst in dsts)


def link_states(rules: Iterable[Mapping[str, Any]], src: str, dst: str) -> list[str]:
    """The states of the directed link src→dst under the given rules, worst first; ``["ok"]`` if none."""
    found: set[str] = set()
    for rule in rules:
        if not _matches(rule, src, dst):
            continue
        if get(rule, "blackhole", default=False):
            found.add("blackholed")
        if num(rule, "drop") > 0:
            found.add("lossy")
        if num(rule, "delay_ms") > 0 or num(rule, "jitter_ms") > 0:
            found.add("slow")
        if num(rule, "duplicate") > 0:
            found.add("duplicating")
        if num(rule, "reorder") > 0:
            found.add("reordering")
    order = ["blackholed", "lossy", "slow", "duplicating", "reordering"]
    return [s for s in order if s in found] or ["ok"]


def _group_names(groups: Sequence[str]) -> list[tuple[str, list[str]]]:
    named = []
    for i, group in enumerate(groups):
        members = [m.strip() for m in str(group).replace(" ", ",").split(",") if m.strip()]
        named.append((chr(ord("A") + i) if i < 26 else f"G{i}", members))
    return named


def _describe_rule(rule: Mapping[str, Any], now: float) -> Text:
    rid = text(rule, "id", default="?")
    out = Text(f"{rid} ", style="bold")
    label = text(rule, "label")
    if label:
        out.append(label)
    else:
        srcs = ",".join(get(rule, "src", default=[]) or []) or "*"
        dsts = ",".join(get(rule, "dst", default=[]) or []) or "*"
        parts = []
        if get(rule, "blackhole", default=False):
            parts.append("blackhole")
        if num(rule, "drop") > 0:
            parts.append(f"drop {num(rule, 'drop') * 100:.0f}%")
        if num(rule, "delay_ms") > 0 or num(rule, "jitter_ms") > 0:
            jitter = num(rule, "jitter_ms")
            parts.append(f"delay {num(rule, 'delay_ms'):g}" + (f"±{jitter:g}" if jitter else "") + "ms")
        if num(rule, "duplicate") > 0:
            parts.append(f"dup {num(rule, 'duplicate') * 100:.0f}%")
        if num(rule, "reorder") > 0:
            parts.append(f"reorder {num(rule, 'reorder') * 100:.0f}%")
        out.append(f"{' '.join(parts) or text(rule, 'kind', default='rule')} {srcs}→{dsts}")
    expires = num(rule, "expires_at")
    if expires:
        out.append(f" (ends in {fmt_duration(expires - now)})" if expires > now else " (expired)", style=DIM)
    return out


def network_panel(snapshot: Snapshot, *, now: float, width: int = 80, expand: bool = True,
                  compact: bool = False) -> Panel:
    """The n×n directed link matrix (row → column): each link's fault state and delivered
    msg/s, the active partition as named groups, and the rules in force (one line in all
    when ``compact``)."""
    ids = _ids(snapshot)
    faults = get(snapshot, "faults")
    faults = faults if isinstance(faults, Mapping) else {}
    rules = [r for r in get(faults, "rules", default=[]) or [] if isinstance(r, Mapping)]
    counters = {
        (text(c, "src"), text(c, "dst")): c
        for c in get(faults, "links", default=[]) or []
        if isinstance(c, Mapping)
    }
    groups = _group_names(get(faults, "partition_groups", default=[]) or [])
    group_of = {m: name for name, members in groups for m in members}

    table = _table()
    table.add_column("→", no_wrap=True, header_style=DIM)
    for nid in ids:
        table.add_column(nid, justify="right", no_wrap=True)
    seen: set[str] = set()
    for src in ids:
        label = Text(src, style="bold")
        if group_of:
            label.append(f" {group_of.get(src, '-')}", style="cyan")
        cells: list[RenderableType] = [label]
        for dst in ids:
            if src == dst:
                cells.append(_dash())
                continue
            states = link_states(rules, src, dst)
            seen.update(states)
            cell = Text()
            for s in states if states[0] != "blackholed" else states[:1]:
                cell.append(LINK_GLYPH[s], style=LINK_STYLE[s])
            counter = counters.get((src, dst))
            if counter is not None:
                cell.append(" ")
                cell.append(fmt_rate(num(counter, "rate")), style=DIM if states == ["ok"] else LINK_STYLE[states[0]])
            cells.append(cell)
        table.add_row(*cells)

    lines: list[RenderableType] = [table] if len(ids) > 1 else [Text("single node: no links", style=DIM)]
    if groups:
        part = Text("partition ", style="bold")
        for i, (name, members) in enumerate(groups):
            if i:
                part.append(" │ ", style=DIM)
            part.append(f"{name}: ", style="cyan")
            part.append(" ".join(members))
        lines.append(part)
    if rules and compact:
        kinds: dict[str, list[str]] = {}
        for rule in rules:
            kind = text(rule, "kind") or ("partition" if get(rule, "blackhole", default=False) else "rule")
            kinds.setdefault(kind, []).append(text(rule, "id", default="?"))
        summary = Text("rules: ", style="bold")
        summary.append(" · ".join(f"{','.join(ids)} {kind}" for kind, ids in kinds.items()))
        summary.no_wrap, summary.overflow = True, "ellipsis"
        lines.append(summary)
    elif rules:
        for rule in rules:
            line = _describe_rule(rule, now)
            line.no_wrap, line.overflow = True, "ellipsis"
            lines.append(line)
    else:
        lines.append(Text("no faults", style=DIM))
    legend = Text(style=DIM)
    for s in ("ok", "blackholed", "lossy", "slow", "duplicating", "reordering"):
        if s == "ok" or s in seen:
            legend.append(LINK_GLYPH[s], style=LINK_STYLE[s])
            legend.append(f" {s}  ")
    legend.append("n = msg/s" if counters else "(no link counters)")
    lines.append(legend)
    return _panel(Group(*lines), "Network", expand=expand)


# --------------------------------------------------------------------------- events


def _who(event: Mapping[str, Any]) -> str:
    for key in ("node", "target"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return value
    nodes_ = event.get("nodes")
    if isinstance(nodes_, list) and nodes_:
        return ",".join(str(n) for n in nodes_)
    return str(event.get("source") or "?")


_KNOWN_KEYS = {"time", "source", "kind", "node", "target", "nodes"}


def describe_event(event: Mapping[str, Any]) -> Text:
    """One event as a short coloured phrase; unknown kinds as ``kind key=value ...``."""
    kind = str(event.get("kind") or "?")
    term = num(event, "term", default=-1)

    def with_term(out: Text) -> Text:
        if term >= 0 and "term" in event:
            out.append(" · term ")
            out.append_text(term_text(term))
        return out

    if kind == "role":
        role = str(event.get("role") or "?")
        return with_term(Text("became ").append_text(role_text(role, glyph=False)))
    if kind == "term":
        out = Text("term → ")
        out.append_text(term_text(max(term, 0)))
        return out
    if kind == "vote":
        return with_term(Text(f"voted for {event.get('candidate') or '?'}"))
    if kind == "leader":
        leader = event.get("leader") or ""
        return with_term(Text(f"follows leader {leader}" if leader else "lost its leader"))
    if kind == "spawn":
        pid = event.get("pid")
        return Text("spawned" + (f" (pid {pid})" if pid else ""), style="green")
    if kind == "crash":
        return Text("crashed", style=BAD)
    if kind == "restart":
        return Text("restarted", style="green")
    if kind == "pause":
        return Text("paused", style="magenta")
    if kind == "resume":
        return Text("resumed", style="green")
    if kind == "exit":
        code = event.get("code")
        return Text(f"exited (code {code})", style=BAD if code not in (0, "0") else DIM)
    if kind == "fault":
        action = event.get("action") or "change"
        label = event.get("label") or ""
        out = Text(f"fault {action}", style=WARN)
        if label:
            out.append(f": {label}")
        return out
    if kind == "up":
        return Text("cluster up", style="green")
    if kind == "down":
        return Text("cluster down", style=BAD)
    out = Text(kind, style="italic")
    extras = [f"{k}={v}" for k, v in event.items() if k not in _KNOWN_KEYS]
    if extras:
        out.append(" " + " ".join(extras), style=DIM)
    return out


def events_panel(events: Sequence[Mapping[str, Any]], *, now: float, limit: int = 8,
                 expand: bool = True) -> Panel:
    """The newest ``limit`` events, newest first, with times relative to ``now``."""
    recent = sorted(
        (e for e in events if isinstance(e, Mapping)),
        key=lambda e: num(e, "time"),
        reverse=True,
    )[: max(0, limit)]
    if not recent:
        return _panel(Text("no events yet", style=DIM), "Events", expand=expand)
    table = _table(header=False)
    table.add_column("when", justify="right", no_wrap=True, style=DIM)
    table.add_column("who", no_wrap=True, style="bold")
    table.add_column("what", ratio=1)  # the one column that gives way on narrow terminals
    for event in recent:
        when = fmt_ago(num(event, "time"), now) if "time" in event else "?"
        what = describe_event(event)
        what.no_wrap, what.overflow = True, "ellipsis"
        table.add_row(when, _who(event), what)
    total = len(events)
    subtitle = f"{len(recent)} of {total}" if total > len(recent) else None
    return _panel(table, "Events", subtitle=subtitle, expand=expand)


# --------------------------------------------------------------------------- bully


def bully_panel(snapshot: Snapshot, *, width: int = 80) -> Panel:
    """Who each node believes is coordinator, and whether the live nodes agree on the
    highest-priority live node (the Bully algorithm's promise)."""
    members = [n for n in nodes(snapshot) if detail_kind(n) in ("bully", None)]
    table = _table()
    table.add_column("node", no_wrap=True, style="bold")
    table.add_column("believes", no_wrap=True)
    table.add_column("prio", justify="right", no_wrap=True)
    table.add_column("electing", no_wrap=True)
    table.add_column("elections", justify="right", no_wrap=True)

    beliefs: dict[str, list[str]] = {}
    live_prio: list[tuple[int, str]] = []
    for node in members:
        nid = text(node, "id", default="?")
        status = _status(node)
        if status is None:
            table.add_row(nid, _no_status_text(node), _dash(), _dash(), _dash(), style=DIM)
            continue
        b = detail(node, "bully")
        coord = text(b, "coordinator") or text(status, "leader")
        prio = num(b, "priority")
        live_prio.append((prio, nid))
        beliefs.setdefault(coord, []).append(nid)
        electing = bool(get(b, "electing", default=False))
        table.add_row(
            nid,
            Text(coord or "none", style="green" if coord and coord == nid else ("" if coord else WARN)),
            str(prio),
            Text("◆ yes", style="bold yellow") if electing else Text("no", style=DIM),
            str(num(b, "elections_started")),
        )

    summary = Text()
    if live_prio:
        top = max(live_prio)[1]
        if len(beliefs) == 1 and "" not in beliefs:
            (coord,) = beliefs
            ok = coord == top
            summary.append("✓ " if ok else "✕ ", style="green" if ok else BAD)
            summary.append(f"all {len(live_prio)} live nodes agree: coordinator {coord}")
            if not ok:
                summary.append(f" (highest live priority is {top})", style=BAD)
        else:
            summary.append("… ", style=WARN)
            summary.append("beliefs differ: ", style=WARN)
            summary.append(" │ ".join(f"{c or 'none'} ← {' '.join(ids)}" for c, ids in sorted(beliefs.items())))
            summary.append(f"  (highest live priority: {top})", style=DIM)
    else:
        summary.append("no live nodes", style=BAD)
    return _panel(Group(table, summary), "Bully")


# --------------------------------------------------------------------------- byzantine


def _value_text(value: str) -> Text:
    if not value:
        return Text("…", style=DIM)
    return Text(value, style="bold")


def byzantine_panel(snapshot: Snapshot, *, width: int = 80) -> Panel:
    """The commander's order, what each lieutenant received (and over which relay path),
    its decision, traitors marked, and the two interactive-consistency conditions."""
    members = [n for n in nodes(snapshot) if detail_kind(n) in ("byzantine", None)]
    info = next((detail(n, "byzantine") for n in members if text(detail(n, "byzantine"), "commander")), {})
    commander = text(info, "commander")
    mode = text(info, "mode", default="om").upper()
    m = num(info, "faults")
    wide = width >= WIDE

    head = Text()
    head.append(f"{mode}({m})", style="bold")
    head.append(f" · commander {commander or '?'}")

    table = _table()
    table.add_column("node", no_wrap=True, style="bold")
    table.add_column("role", no_wrap=True)
    table.add_column("loyal", no_wrap=True)
    table.add_column("from cmdr", no_wrap=True)
    table.add_column("received" if wide else "received (tally)", overflow="fold")
    table.add_column("decision", no_wrap=True)

    order = ""
    loyal_commander = True
    decisions: dict[str, str] = {}
    pending = 0
    for node in members:
        nid = text(node, "id", default="?")
        status = _status(node)
        if status is None:
            table.add_row(nid, _no_status_text(node), _dash(), _dash(), _dash(), _dash(), style=DIM)
            continue
        b = detail(node, "byzantine")
        traitor = bool(get(b, "traitor", default=False))
        is_cmdr = nid == commander
        loyal = Text("✗ traitor", style=BAD) if traitor else Text("loyal", style=DIM)
        if is_cmdr:
            order = text(b, "order")
            loyal_commander = not traitor
            table.add_row(nid, role_text("commander"), loyal, Text("order:", style=DIM),
                          _value_text(order), _dash())
            continue
        received = [r for r in get(b, "received", default=[]) or [] if isinstance(r, Mapping)]
        direct = next((text(r, "value") for r in received
                       if [str(p) for p in get(r, "path", default=[]) or []] == [commander]), "")
        if wide:
            got = Text()
            for i, r in enumerate(received):
                if i:
                    got.append("  ")
                path = "›".join(str(p) for p in get(r, "path", default=[]) or [])
                got.append(f"{path}:", style=DIM)
                got.append(text(r, "value", default="?"))
        else:
            tally = Counter(text(r, "value", default="?") for r in received)
            got = Text(" ".join(f"{v}×{c}" for v, c in sorted(tally.items())) or "–")
        decision = text(b, "decision")
        if not traitor:
            if decision:
                decisions[nid] = decision
            else:
                pending += 1
        shown = _value_text(decision) if decision or not traitor else _dash()  # traitors need not decide
        table.add_row(nid, role_text("lieutenant"), loyal, _value_text(direct), got, shown)

    checks = Text()
    if pending:
        checks.append(f"… {pending} loyal lieutenant(s) still deciding", style=WARN)
    elif not decisions:
        checks.append("no loyal lieutenant has decided", style=DIM)
    else:
        agreed = set(decisions.values())
        if len(agreed) == 1:
            checks.append("✓ IC1 loyal lieutenants agree", style="green")
        else:
            checks.append("✕ IC1 loyal lieutenants disagree", style=BAD)
        checks.append("   ")
        if not loyal_commander:
            checks.append("IC2 n/a (commander is a traitor)", style=DIM)
        elif agreed == {order}:
            checks.append("✓ IC2 they obey the order", style="green")
        else:
            checks.append("✕ IC2 they do not obey the loyal commander", style=BAD)
    return _panel(Group(head, table, checks), "Byzantine generals")


# --------------------------------------------------------------------------- down


def down_panel(name: str | None, reason: str | None, *, now: float, last_seen: float | None = None,
               last_snapshot: Snapshot | None = None, connecting: bool = False) -> Panel:
    """What the dashboard shows when it has no live status: never a traceback."""
    cluster = name or text(last_snapshot, "cluster") or "?"
    body = Text()
    if connecting:
        body.append(f"◌ connecting to cluster '{cluster}'…", style="bold yellow")
        return _panel(body, "Cluster", border="yellow")
    body.append("✕ supervisor not reachable", style=BAD)
    body.append(f" — cluster '{cluster}' is down\n", style="bold")
    if reason:
        body.append("reason: ", style=DIM)
        body.append(f"{reason}\n")
    if last_seen is not None:
        body.append("last status: ", style=DIM)
        body.append(fmt_ago(last_seen, now))
        ids = _ids(last_snapshot) if last_snapshot else []
        if ids:
            body.append(f" ({len(ids)} nodes: {' '.join(ids)})", style=DIM)
        body.append("\n")
    body.append("retrying… Ctrl-C quits the dashboard only", style=DIM)
    return _panel(body, "Cluster", border="red")

"""``report.html``: one chaos run on one page that opens offline.

:func:`write_html` reads a run directory (``report.json``, ``history.jsonl``,
``events.jsonl``; shapes in the scripted-chaos contract) and writes
``report.html`` beside them: the header and replay command, every verdict,
the operations a violation names, and four plots on one time axis (seconds
since the workload started): who led and which faults were on, every client
operation as a bar from invoke to completion, latency and throughput. Bokeh
draws the plots (its JavaScript is inlined, so nothing is fetched) on a canvas
and keeps 50,000 operations interactive; it is imported only here, so the CLI
does not pay for it at start-up.

Reading is split from drawing: :func:`load_run` and the small pure functions
below it turn the files into plain rows; :func:`render_html` turns those into
the page.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaoslab.check.history import HistoryError, Operation, _show, read_history
from chaoslab.check.html import _esc
from chaoslab.errors import LabError
from chaoslab.events import read_events

STATUS_COLOURS = {"ok": "#2da44e", "fail": "#cf222e", "info": "#bf8700"}
VERDICT_COLOURS = {"valid": "#1a7f37", "invalid": "#cf222e", "unknown": "#9a6700", "skipped": "#6e7781",
                   "error": "#cf222e"}
F_COLOURS = ("#0969da", "#fb8500", "#8250df", "#1b7c83", "#bf3989", "#6e7781")  # in _F_ORDER, then any other
_F_ORDER = ("read", "write", "cas", "broadcast", "add", "echo")  # kv, then Maelstrom's workloads
FAULT_COLOURS = {"partition": "#fd8c73", "isolate": "#fd8c73", "crash": "#cf222e", "pause": "#8250df",
                 "drop": "#d4a72c", "delay": "#d4a72c", "duplicate": "#d4a72c", "reorder": "#d4a72c"}
MARK_STYLES = {"crash": ("#cf222e", "solid", "✕"), "restart": ("#1a7f37", "dashed", "↻"),
               "pause": ("#8250df", "solid", "❚❚"), "resume": ("#8250df", "dashed", "▶")}
HIGHLIGHT = "#d6008f"
BUCKET_S = 0.5  # throughput bucket; longer runs get wider ones so a plot keeps about _MAX_BUCKETS bars
_MAX_BUCKETS = 400
_OPS_SHOWN = 12  # a violation's operations listed before the rest fold away
_VALUE_CHARS = 60  # a value longer than this is cut in hover text and tables
_ITEMS_COUNTED = 8  # a read that returned more items than this says how many (a broadcast node's messages)


@dataclass
class Fault:
    label: str
    kind: str
    start: float
    end: float | None  # None: still on when the run ended
    nodes: list[str] = field(default_factory=list)
    source: str = ""


@dataclass
class Mark:
    """A process fault as it happened (crash, restart, pause, resume), at ``t`` seconds since t0."""

    t: float
    kind: str
    node: str


@dataclass
class Lead:
    """``node`` held a leading role from ``start`` to ``end`` (its own view: two may overlap)."""

    node: str
    start: float
    end: float
    role: str
    term: Any


@dataclass
class Run:
    """What one run directory holds, read and aligned on t0 (seconds)."""

    path: Path
    report: dict[str, Any]
    ops: list[Operation]
    extras: dict[int, dict[str, Any]]  # completion line -> {"node": ..., "error": ...}
    events: list[dict[str, Any]]  # each with "t": seconds since t0
    notes: list[str]  # what could not be read, said on the page instead of failing

    @property
    def algorithm(self) -> str:
        return str(self.report.get("algorithm") or "")

    def highlighted(self) -> dict[int, list[str]]:
        """Invoke line -> names of the verdicts that name it."""
        out: dict[int, list[str]] = {}
        for v in self.report.get("verdicts") or []:
            for line in v.get("ops") or []:
                if isinstance(line, int):
                    out.setdefault(line, []).append(str(v.get("name", "?")))
        return out

    def faults(self) -> list[Fault]:
        out = []
        for f in self.report.get("faults") or []:
            try:
                start = float(f["start"])
                end = None if f.get("end") is None else float(f["end"])
            except (KeyError, TypeError, ValueError):
                continue
            out.append(Fault(str(f.get("label") or f.get("kind") or "fault"), str(f.get("kind") or ""), start, end,
                             [str(n) for n in f.get("nodes") or []], str(f.get("source") or "")))
        return out

    def span(self) -> tuple[float, float]:
        """The time axis: from the first thing worth drawing (the election before t0, if any) to the last."""
        times = [0.0]
        for op in self.ops:
            times.append(op.call_time / 1e9 if op.call_time is not None else 0.0)
            if op.ret_time is not None:
                times.append(op.ret_time / 1e9)
        for f in self.faults():
            times += [f.start] + ([f.end] if f.end is not None else [])
        times += [e["t"] for e in self.events if e.get("kind") in _DRAWN_EVENTS]
        start, end = max(min(times), -_BEFORE_T0_S), max(times)
        return start, max(end, start + 1.0)


_DRAWN_EVENTS = frozenset({"crash", "restart", "pause", "resume", "role", "leaders"})
_BEFORE_T0_S = 10.0  # how much of the cluster's start-up (its first election) the axis shows


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabError(f"{path.parent}: no report.json (is it a run directory?)") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise LabError(f"{path}: cannot read ({e})") from None
    if not isinstance(data, dict):
        raise LabError(f"{path}: expected a JSON object")
    return data


def _completion_extras(path: Path) -> dict[int, dict[str, Any]]:
    """``node`` and ``error`` of completion lines: the checker's reader keeps neither."""
    out: dict[int, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if '"node"' not in line and '"error"' not in line:
                continue
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if isinstance(d, dict) and d.get("type") != "invoke":
                out[number] = {k: d[k] for k in ("node", "error") if d.get(k)}
    return out


def load_run(run_dir: Path) -> Run:
    """Read a run directory. Only a missing or unreadable ``report.json`` is an error (``LabError``)."""
    run_dir = Path(run_dir)
    report = _read_json(run_dir / "report.json")
    notes: list[str] = []
    ops: list[Operation] = []
    extras: dict[int, dict[str, Any]] = {}
    history = run_dir / "history.jsonl"
    if history.exists():
        try:
            ops = read_history(history)
            extras = _completion_extras(history)
        except HistoryError as e:
            if "empty history" not in str(e):
                notes.append(f"history not drawn: {e}")
    started = report.get("started_at")
    events: list[dict[str, Any]] = []
    if isinstance(started, (int, float)):
        raw, _ = read_events(run_dir / "events.jsonl")
        for e in raw:
            if isinstance(e.get("time"), (int, float)):
                events.append(dict(e, t=e["time"] - started))
        events.sort(key=lambda e: e["t"])
    else:
        notes.append("report.json has no started_at: events not aligned, not drawn")
    return Run(run_dir, report, ops, extras, events, notes)


# ---------------------------------------------------------------- rows for the plots


def marks(run: Run) -> list[Mark]:
    """Crashes, restarts, pauses and resumes: from the event log, or (none logged) from the faults."""
    found = [Mark(e["t"], e["kind"], str(e.get("node") or e.get("source") or "?"))
             for e in run.events if e.get("kind") in MARK_STYLES]
    if found:
        return found
    undo = {"crash": "restart", "pause": "resume"}
    for f in run.faults():
        if f.kind in undo:
            for node in f.nodes:
                found.append(Mark(f.start, f.kind, node))
                if f.end is not None:
                    found.append(Mark(f.end, undo[f.kind], node))
    return sorted(found, key=lambda m: m.t)


def _leads(algorithm: str) -> Any:
    """The spec's ``leads(role)``, or None when the algorithm cannot be loaded (a plug-in not installed)."""
    from chaoslab.algorithms.registry import get_algorithm

    try:
        return get_algorithm(algorithm).leads
    except Exception:  # noqa: BLE001 - any failure to load means "no role events drawn", not no page
        return None


def leaders(run: Run, end: float) -> list[Lead]:
    """Who led when. Each node's own ``role`` events when the spec says which roles lead (exact, and
    they show a deposed leader that still believes it leads); else the supervisor's ``leaders`` polls."""
    leads = _leads(run.algorithm) if run.algorithm else None
    out: list[Lead] = []
    open_: dict[str, Lead] = {}

    def close(node: str, t: float) -> None:
        lead = open_.pop(node, None)
        if lead is not None:
            lead.end = t
            out.append(lead)

    roles = [e for e in run.events if e.get("kind") in ("role", "crash")] if leads is not None else []
    if any(e["kind"] == "role" for e in roles):
        for e in roles:
            node = str(e.get("source") if e["kind"] == "role" else e.get("node"))
            if e["kind"] == "crash" or not leads(str(e.get("role") or "")):
                close(node, e["t"])
            elif node not in open_:
                open_[node] = Lead(node, e["t"], end, str(e.get("role")), e.get("term", ""))
    else:
        for e in run.events:
            if e.get("kind") != "leaders":
                continue
            now = [str(n) for n in e.get("leaders") or []]
            for node in [n for n in open_ if n not in now]:
                close(node, e["t"])
            terms = e.get("terms") if isinstance(e.get("terms"), dict) else {}
            for node in now:
                open_.setdefault(node, Lead(node, e["t"], end, "leads", terms.get(node, "")))
    for node in list(open_):
        close(node, end)
    return sorted(out, key=lambda lead: lead.start)


def node_ids(run: Run) -> list[str]:
    """The cluster's nodes: n1..nN from the report, plus any other name the events or faults use."""
    n = run.report.get("nodes")
    names = [f"n{i}" for i in range(1, n + 1)] if isinstance(n, int) else []
    seen = set(names)
    extra = {str(e["source"]) for e in run.events if e.get("kind") == "role" and e.get("source")}
    extra |= {node for f in run.faults() for node in f.nodes} | {m.node for m in marks(run)}
    return names + sorted(extra - seen)


def throughput(ops: Sequence[Operation], span: tuple[float, float]) -> dict[str, list[float]]:
    """Completions a second per bucket, by outcome (``t`` is the bucket's middle)."""
    width = BUCKET_S
    while (span[1] - span[0]) / width > _MAX_BUCKETS:
        width *= 2
    first = int(span[0] // width)
    count = int(span[1] // width) - first + 1
    rows: dict[str, list[float]] = {"t": [(first + i + 0.5) * width for i in range(count)],
                                    "ok": [0.0] * count, "fail": [0.0] * count, "info": [0.0] * count}
    for op in ops:
        if op.ret_time is None:
            continue
        i = int((op.ret_time / 1e9) // width) - first
        if 0 <= i < count:
            rows[op.status][i] += 1 / width
    rows["width"] = [width * 0.9] * count
    return rows


def _cut(text: str) -> str:
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"


def describe(op: Operation) -> str:
    """How the page names an operation: as ``chaoslab check`` does, plus what an echo brought back
    when it differs, and how many items a long read returned."""
    text = op.describe()
    if op.status != "ok":
        return text
    if op.f not in ("read", "get") and op.output is not None and op.output != op.value:
        return f"{text[: -len(' ok')]} -> {_show(op.output)}"
    if op.f in ("read", "get") and isinstance(op.output, tuple) and len(op.output) > _ITEMS_COUNTED:
        head, _, tail = text.rpartition(" -> ")
        return f"{head} -> {len(op.output)} items {tail}"
    return text


def _lines(op: Operation) -> str:
    return f"{op.call_line}-{op.ret_line}" if op.ret_line else f"{op.call_line}-"


def op_rows(run: Run, end: float) -> dict[str, list[Any]]:
    """One row per operation: bar ends, row label, outcome, hover text."""
    rows: dict[str, list[Any]] = {k: [] for k in
                                  ("start", "end", "proc", "status", "f", "desc", "lines", "ms", "node", "line")}
    for op in run.ops:
        start = (op.call_time or 0) / 1e9
        stop = op.ret_time / 1e9 if op.ret_time is not None else end
        extra = run.extras.get(op.ret_line, {})
        rows["start"].append(start)
        rows["end"].append(stop)
        rows["proc"].append(f"p{op.process}")
        rows["status"].append(op.status)
        rows["f"].append(op.f)
        rows["desc"].append(_cut(describe(op)) + (f" [{extra['error']}]" if extra.get("error") else ""))
        rows["lines"].append(_lines(op))
        rows["ms"].append(max((stop - start) * 1000, 0.001))  # log axis: no zero
        rows["node"].append(str(extra.get("node", "")))
        rows["line"].append(op.call_line)
    return rows


# ---------------------------------------------------------------- HTML around the plots


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:18px 24px;color:#1f2328;max-width:1500px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid #d0d7de}
.facts{color:#59636e}.facts b{color:#1f2328}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:13px}
pre{background:#f6f8fa;padding:6px 10px;overflow:auto;margin:4px 0;font-size:12.5px}
table{border-collapse:collapse;font-size:13px}td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
th{color:#59636e;font-weight:600}tr.hl td{background:#fff0f8}
details summary{cursor:pointer;color:#59636e}.note{color:#9a6700}
.mono{font-family:ui-monospace,monospace;font-size:12.5px}
"""


def _badge(text: str, colour: str) -> str:
    return f'<span class="badge" style="background:{colour}">{_esc(text)}</span>'


def _overall(report: Mapping[str, Any]) -> str:
    verdict = str(report.get("verdict") or "unknown")
    expect = str(report.get("expect") or "valid")
    code = report.get("exit_code")
    as_expected = bool(report.get("as_expected"))
    if expect == "violation":
        text = "violation (expected)" if as_expected else (
            "no violation found, one was expected" if verdict == "valid" else verdict)
    else:
        text = verdict if as_expected else f"{verdict} (unexpected)"
    colour = "#1a7f37" if code == 0 else "#cf222e" if code == 1 else "#9a6700"
    return _badge(text, colour) + (f" <span class='facts'>exit {_esc(code)}</span>" if code is not None else "")


def _header(run: Run) -> str:
    r = run.report
    name = r.get("scenario") or run.path.name
    facts = [("seed", r.get("seed")), ("algorithm", f"{r.get('algorithm', '?')} × {r.get('nodes', '?')}"),
             ("cluster", r.get("cluster")), ("file", r.get("file")), ("quick", "yes" if r.get("quick") else None)]
    started = r.get("started_at")
    if isinstance(started, (int, float)):
        when = datetime.datetime.fromtimestamp(started, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        facts.append(("started", when))
    if isinstance(r.get("wall_s"), (int, float)):
        facts.append(("took", f"{r['wall_s']:.1f} s"))
    ops = r.get("ops") or {}
    if ops:
        facts.append(("operations", ", ".join(f"{v:,} {k}" for k, v in ops.items())))
    out = [f"<h1>{_esc(name)} {_overall(r)}</h1>"]
    if r.get("description"):
        out.append(f"<p>{_esc(r['description'])}</p>")
    out.append("<p class='facts'>" + " · ".join(f"{k} <b>{_esc(v)}</b>" for k, v in facts if v not in (None, ""))
               + "</p>")
    if r.get("error"):
        out.append(f"<p style='color:#cf222e'><b>error:</b> {_esc(r['error'])}</p>")
    if r.get("replay"):
        out.append(f"<div class='facts'>replay:</div><pre>{_esc(r['replay'])}</pre>")
    out += [f"<p class='note'>{_esc(n)}</p>" for n in run.notes]
    return "".join(out)


def _details(details: Any) -> str:
    """Multi-line strings (a checker's explanation) as they are; the rest as indented JSON."""
    if not details:
        return ""
    texts = {k: v for k, v in details.items() if isinstance(v, str) and "\n" in v} if isinstance(details, dict) else {}
    rest = {k: v for k, v in details.items() if k not in texts} if isinstance(details, dict) else details
    body = "".join(f"<div class='facts'>{_esc(k)}:</div><pre>{_esc(v)}</pre>" for k, v in texts.items())
    if rest:
        body += f"<pre>{_esc(json.dumps(rest, indent=2, default=str, ensure_ascii=False))}</pre>"
    return f"<details><summary>details</summary>{body}</details>"


def _verdicts(run: Run) -> str:
    verdicts = run.report.get("verdicts") or []
    if not verdicts:
        return "<h2>Verdicts</h2><p class='facts'>none (the run did not get that far)</p>"
    rows = []
    for v in verdicts:
        status = str(v.get("status") or "unknown")
        ops = v.get("ops") or []
        named = f" <span class='facts'>({len(ops)} operations highlighted)</span>" if ops else ""
        rows.append(f"<tr><td><b>{_esc(v.get('name', '?'))}</b></td>"
                    f"<td>{_badge(status, VERDICT_COLOURS.get(status, '#6e7781'))}</td>"
                    f"<td>{_esc(v.get('summary', ''))}{named}{_details(v.get('details'))}</td></tr>")
    return "<h2>Verdicts</h2><table>" + "".join(rows) + "</table>"


def _violation_ops(run: Run) -> str:
    """The operations the verdicts name, as the checker describes them."""
    named = run.highlighted()
    if not named:
        return ""
    by_line = {op.call_line: op for op in run.ops}
    rows = []
    for line in sorted(named):
        op = by_line.get(line)
        why = ", ".join(dict.fromkeys(named[line]))
        if op is None:
            rows.append(f"<tr class='hl'><td>{line}</td><td>{_esc(why)}</td><td colspan=5 class='note'>"
                        "no operation invoked on this line of history.jsonl</td></tr>")
            continue
        start = (op.call_time or 0) / 1e9
        done = f"{op.ret_time / 1e9:.3f}" if op.ret_time is not None else "—"
        took = f"{(op.ret_time - (op.call_time or 0)) / 1e6:.1f} ms" if op.ret_time is not None else "—"
        extra = run.extras.get(op.ret_line, {})
        who = " · ".join(f"{k} {v}" for k, v in extra.items())
        rows.append(f"<tr class='hl'><td>{_esc(_lines(op))}</td><td>{_esc(why)}</td>"
                    f"<td class='mono'>{_esc(_cut(describe(op)))}</td><td>{start:.3f}</td><td>{done}</td>"
                    f"<td>{took}</td><td>{_esc(who)}</td></tr>")
    head = ("<tr><th>lines</th><th>verdict</th><th>operation</th><th>invoked (s)</th><th>completed (s)</th>"
            "<th>took</th><th></th></tr>")
    table = f"<table>{head}{''.join(rows[:_OPS_SHOWN])}</table>"
    if len(rows) > _OPS_SHOWN:
        table += (f"<details><summary>{len(rows) - _OPS_SHOWN} more</summary><table>{head}"
                  f"{''.join(rows[_OPS_SHOWN:])}</table></details>")
    return (f"<h2>Operations named by a verdict</h2><p class='facts'>{len(rows)} operations, outlined in "
            f"<span style='color:{HIGHLIGHT}'>■</span> on the timeline below.</p>{table}")


def _faults_table(run: Run) -> str:
    faults = run.faults()
    if not faults:
        return ""
    rows = "".join(
        f"<tr><td>{f.start:.3f}</td><td>{'—' if f.end is None else f'{f.end:.3f}'}</td><td>{_esc(f.kind)}</td>"
        f"<td>{_esc(f.label)}</td><td>{_esc(' '.join(f.nodes))}</td><td>{_esc(f.source)}</td></tr>"
        for f in faults)
    return ("<h2>Faults</h2><table><tr><th>from (s)</th><th>to (s)</th><th>kind</th><th>what</th><th>nodes</th>"
            f"<th>by</th></tr>{rows}</table>")


# ---------------------------------------------------------------- the plots (bokeh, imported here only)


@dataclass
class Plot:
    heading: str
    caption: str
    model: Any  # a bokeh figure


def _plots(run: Run) -> dict[str, Plot]:
    """The plots in page order, by name; all share one x range (seconds since t0)."""
    from bokeh.models import ColumnDataSource, FactorRange, FixedTicker, HoverTool, LabelSet, Legend, Range1d
    from bokeh.plotting import figure
    from bokeh.transform import dodge, factor_cmap
    import numpy

    x0, x1 = run.span()
    pad = (x1 - x0) * 0.01
    x_range = Range1d(x0 - pad, x1 + pad)
    faults = run.faults()
    fault_src = ColumnDataSource({
        "x0": [f.start for f in faults], "x1": [x1 if f.end is None else f.end for f in faults],
        "label": [f.label + (f" ({' '.join(f.nodes)})" if f.nodes and f.kind not in ("crash", "pause") else "")
                  for f in faults],
        "colour": [FAULT_COLOURS.get(f.kind, "#6e7781") for f in faults],
        "when": [f"{f.start:.2f}–{'end' if f.end is None else f'{f.end:.2f}'} s" for f in faults]})
    found = marks(run)
    mark_src = ColumnDataSource({
        "t": [m.t for m in found], "colour": [MARK_STYLES[m.kind][0] for m in found],
        "dash": [MARK_STYLES[m.kind][1] for m in found],
        "text": [f"{MARK_STYLES[m.kind][2]} {m.node}" for m in found]})

    def plot(frame_height: int, **kw: Any) -> Any:
        # A fixed frame (not plot) height puts the mark labels at a known distance from the top;
        # the same left border puts every plot's time axis at the same place down the page.
        # Canvas, not WebGL: in Chromium without a GPU (software GL) a 40,000-operation page drew in 2.7 s on
        # canvas against 4.2 s on WebGL; while panning, Bokeh draws a sample of the bars either way.
        p = figure(x_range=x_range, frame_height=frame_height, sizing_mode="stretch_width", min_border_left=70,
                   tools="xpan,xwheel_zoom,box_zoom,reset,save", active_drag="xpan", **kw)
        p.xaxis.axis_label = "seconds since the workload started"
        p.vstrip(x0="x0", x1="x1", source=fault_src, fill_color="colour", fill_alpha=0.16, line_alpha=0)
        p.vspan(x="t", source=mark_src, line_color="colour", line_dash="dash", line_width=1.5)
        if found:
            p.add_layout(LabelSet(x="t", y=frame_height - 14, y_units="screen", text="text", source=mark_src,
                                  text_font_size="11px", text_color="colour", x_offset=3))
        return p

    def legend_above(p: Any, items: list[Any] | None = None) -> None:
        legend = Legend(items=items) if items is not None else p.legend[0]
        legend.orientation, legend.border_line_alpha, legend.margin, legend.padding = "horizontal", 0, 0, 4
        legend.click_policy = "hide"
        if items is None:
            p.center.remove(legend)
        p.add_layout(legend, "above")

    out: dict[str, Plot] = {}
    nodes = node_ids(run)
    if nodes:
        led = leaders(run, x1)
        p = plot(max(60, 24 * len(nodes)), y_range=FactorRange(*reversed(nodes)))
        lead_src = ColumnDataSource({
            "node": [lead.node for lead in led], "start": [lead.start for lead in led],
            "end": [lead.end for lead in led], "role": [lead.role for lead in led],
            "term": [str(lead.term) for lead in led],
            "when": [f"{lead.start:.2f}–{lead.end:.2f} s" for lead in led]})
        bars = p.hbar(y="node", left="start", right="end", height=0.6, source=lead_src, fill_color="#f2cc60",
                      line_color="#9a6700")
        strips = p.renderers[0]  # plot() draws the fault strips first
        p.add_tools(HoverTool(renderers=[bars], tooltips="@node: @role (term @term) @when"),
                    HoverTool(renderers=[strips], tooltips="@label @when"))
        legend_above(p, [("leading (its own view)", [bars])] + ([("fault window", [strips])] if faults else []))
        out["leaders"] = Plot("Leaders and faults", "Each node's time in a leading role, from its own role events "
                              "(a deposed leader that has not heard yet still shows). Shaded: fault windows "
                              "(hover for which; listed at the bottom); lines: crash ✕, restart ↻, pause ❚❚, "
                              "resume ▶.", p)
    if not run.ops:
        return out

    rows = op_rows(run, x1)
    procs = sorted(set(rows["proc"]), key=lambda s: int(s[1:]) if s[1:].lstrip("-").isdigit() else 1 << 30)
    # numpy columns travel as base64 binary, lists as JSON text: float32 (µs at 100 s) halves a 50k-op page's data
    src = ColumnDataSource({k: numpy.asarray(v, dtype=numpy.float32) if k in ("start", "end", "ms") else v
                            for k, v in rows.items()})
    status_cmap = factor_cmap("status", list(STATUS_COLOURS.values()), list(STATUS_COLOURS))
    fs = sorted(set(rows["f"]), key=lambda f: (_F_ORDER.index(f) if f in _F_ORDER else len(_F_ORDER), f))
    f_cmap = factor_cmap("f", [F_COLOURS[min(i, len(F_COLOURS) - 1)] for i in range(len(fs))], fs)
    hover = "@desc<br>lines @lines · @start{0.000}–@end{0.000} s · @ms{0.0} ms<br>@f, answered by @node"

    p = plot(min(1000, max(60, 18 * len(procs))), y_range=FactorRange(*reversed(procs)))
    if len(procs) > 50:  # rows thinner than a label: every label still shown, smaller
        p.yaxis.major_label_text_font_size = f"{max(5, 1000 // len(procs) - 1)}px"
    bars = p.hbar(y="proc", left="start", right="end", height=0.7, source=src, fill_color=status_cmap,
                  line_color=None, legend_field="status")
    p.add_tools(HoverTool(renderers=[bars], tooltips=hover))
    named = run.highlighted()
    if named:
        keep = [i for i, line in enumerate(rows["line"]) if line in named]
        hl = ColumnDataSource({k: [v[i] for i in keep] for k, v in rows.items()})
        outline = p.hbar(y="proc", left="start", right="end", height=0.95, source=hl, fill_alpha=0,
                         line_color=HIGHLIGHT, line_width=3, legend_label="named by a verdict")
        # a bar of a few ms is a hairline at this scale: the marker above it is what the eye finds
        p.scatter(x="start", y=dodge("proc", 0.45, range=p.y_range), source=hl, marker="inverted_triangle",
                  size=11, color=HIGHLIGHT)
        p.add_tools(HoverTool(renderers=[outline], tooltips=hover))
    legend_above(p)
    out["ops"] = Plot("Operations", "One row per client process, one bar per operation from its invoke to its "
                      "completion, coloured by outcome (hover: what it did, its lines in history.jsonl, latency, "
                      "who answered). Drag to pan, wheel to zoom: the plots move together.", p)

    p = plot(230, y_axis_type="log")
    p.yaxis.axis_label = "ms"
    # 1-2-5 ticks: most latencies sit within one decade, which a plain log axis leaves unlabelled
    low, high = min(rows["ms"]), max(rows["ms"])
    p.yaxis.ticker = FixedTicker(ticks=[m * 10.0 ** e for e in range(-3, 7) for m in (1, 2, 5)
                                        if low / 2 <= m * 10.0 ** e <= high * 2])
    dots = p.scatter(x="start", y="ms", source=src, size=4, alpha=0.6, color=f_cmap, legend_field="f")
    p.add_tools(HoverTool(renderers=[dots], tooltips=hover))
    legend_above(p)
    out["latency"] = Plot("Latency", "Each operation's latency at its invoke time, by operation (log scale; "
                          "an unanswered one counts until it was given up).", p)

    per = throughput(run.ops, (x0, x1))
    p = plot(170)
    p.yaxis.axis_label = "ops/s"
    stack = p.vbar_stack(list(STATUS_COLOURS), x="t", width="width", source=ColumnDataSource(per),
                         color=list(STATUS_COLOURS.values()), line_color=None,
                         legend_label=list(STATUS_COLOURS))
    p.add_tools(HoverTool(renderers=stack, tooltips="@t{0.00} s: @ok{0} ok, @fail{0} fail, @info{0} info a second"))
    legend_above(p)
    out["throughput"] = Plot("Throughput", f"Operations completed per second, by outcome "
                             f"({per['width'][0] / 0.9:g} s buckets).", p)
    return out


# bokeh puts "{% extends base %}" (its own page: scripts and styles inline) before a string template.
_TEMPLATE = """{% block title %}{{ page_title }}{% endblock %}
{% block preamble %}<style>{{ style }}</style>{% endblock %}
{% block contents %}{{ top }}
{% for name, heading, caption in plots %}<h2>{{ heading }}</h2><p class="facts">{{ caption }}</p>
{{ embed(roots[name]) }}
{% endfor %}{{ bottom }}{% endblock %}
"""


def render_html(run: Run) -> str:
    """The whole page: bokeh's JavaScript inline, so it opens with no network."""
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    plots = _plots(run)
    title = f"{run.report.get('scenario') or run.path.name}: {run.report.get('verdict', '?')}"
    top = _header(run) + _verdicts(run) + _violation_ops(run)
    if not run.ops:
        top += "<p class='facts'>No client operations in history.jsonl: nothing to draw per operation.</p>"
    bottom = _faults_table(run)
    if not plots:
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{_esc(title)}</title>"
                f"<style>{_STYLE}</style></head><body>{top}{bottom}</body></html>\n")
    for name, plot in plots.items():
        plot.model.name = name
    variables = {"page_title": _esc(title), "style": _STYLE, "top": top, "bottom": bottom,
                 "plots": [(name, _esc(p.heading), _esc(p.caption)) for name, p in plots.items()]}
    # Each plot a root of one document: the template places them between our sections, and the
    # shared x range still pans and zooms them together.
    roots = [p.model for p in plots.values()]
    return file_html(roots, INLINE, title, template=_TEMPLATE, template_variables=variables)


def write_html(run_dir: Path) -> Path:
    """Write ``<run_dir>/report.html`` from the run's files and return its path."""
    run = load_run(Path(run_dir))
    out = run.path / "report.html"
    out.write_text(render_html(run), encoding="utf-8")
    return out

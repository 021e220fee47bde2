"""A self-contained HTML timeline of a checked history, in the manner of Porcupine's.

One section per partition (key), one row per process, one bar per operation
from its invoke to its completion (to the right edge when its outcome is
unknown). The linearization the search found is drawn on the bars: each
linearized operation carries its place in the order and the state after it
(hover). For an invalid history the failing key comes first, with the longest
partial linearization found, and the operation that could not be placed in
red. No script or style is fetched from anywhere: the file is all there is.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from chaoslab.check.checker import CheckResult
from chaoslab.check.history import Operation, _show

_MAX_OPS = 3000  # a browser draws this many bars without strain; bigger histories show their first partitions
_ROW = 26
_PX = 14  # horizontal pixels per event, at least

_STYLE = """
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:16px}h2{font-size:14px;margin:18px 0 4px}
.valid{color:#1a7f37}.invalid{color:#cf222e}.unknown{color:#9a6700}
.tl{position:relative;border-left:1px solid #ccc;margin-left:60px;overflow:visible}
.row{position:absolute;left:-60px;width:56px;text-align:right;color:#666;font-size:12px}
.op{position:absolute;height:18px;border-radius:3px;font-size:11px;line-height:18px;padding:0 3px;
 white-space:nowrap;overflow:hidden;box-sizing:border-box;border:1px solid #8c959f;background:#eaeef2}
.op.lin{background:#ddf4ff;border-color:#54aeff}.op.info{border-style:dashed}
.op.bad{background:#ffebe9;border-color:#cf222e;font-weight:bold}
.op .n{color:#0969da;font-weight:bold;margin-right:3px}
.op:hover{z-index:2;overflow:visible;background:#fff8c5}
.legend span{display:inline-block;padding:0 6px;margin-right:8px;border:1px solid #8c959f;border-radius:3px}
pre{background:#f6f8fa;padding:8px;overflow:auto}
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _partition_svg(ops: Sequence[Operation], order: dict[int, tuple[int, Any]], culprit: Operation | None) -> str:
    """The bars of one partition: positions renumbered so that only its own events take room."""
    points = sorted({op.call for op in ops} | {op.done for op in ops if op.done is not None})
    x = {p: i for i, p in enumerate(points)}
    end = len(points)
    px = max(_PX, min(64, 1400 // max(end, 1)))  # short histories get room for their labels
    processes = sorted({op.process for op in ops}, key=lambda p: (str(type(p)), p))
    row = {p: i for i, p in enumerate(processes)}
    parts = [f'<div class="tl" style="height:{len(processes) * _ROW + 4}px;width:{(end + 1) * px}px">']
    for p in processes:
        parts.append(f'<div class="row" style="top:{row[p] * _ROW}px">p{_esc(p)}</div>')
    for op in ops:
        left = x[op.call] * px
        right = (x[op.done] if op.done is not None and op.status != "info" else end) * px + px // 2
        classes = ["op"]
        label = op.describe().split(" ", 1)[1]
        title = f"{op.describe()} (lines {op.call_line}-{op.ret_line or '…'})"
        number = ""
        if op.id in order:
            place, state = order[op.id]
            classes.append("lin")
            number = f'<span class="n">{place}</span>'
            title += f"\nlinearized #{place}; state after: {_show(state)}"
        if op.status == "info":
            classes.append("info")
        if culprit is not None and op.id == culprit.id:
            classes.append("bad")
            title += "\ncannot be linearized"
        parts.append(
            f'<div class="{" ".join(classes)}" style="top:{row[op.process] * _ROW}px;left:{left}px;'
            f'width:{max(right - left, 8)}px" title="{_esc(title)}">{number}{_esc(label)}</div>'
        )
    parts.append("</div>")
    return "".join(parts)


def render_html(result: CheckResult) -> str:
    """The whole page for one history."""
    from chaoslab.check.report import render_text

    by_key: dict[Any, list[Operation]] = {}
    for op in result.operations:
        by_key.setdefault(op.key, []).append(op)
    sections: list[tuple[Any, dict[int, tuple[int, Any]], Operation | None, str]] = []
    failure = result.failure
    if failure is not None:
        order = {op.id: (i + 1, s) for i, (op, s) in enumerate(zip(failure.partial, failure.states))}
        sections.append((failure.key, order, failure.culprit,
                         f"not linearizable: {len(failure.partial)} operations linearized before it got stuck"))
    for part in result.partitions:
        if failure is not None and part.key == failure.key:
            continue
        order = {op.id: (i + 1, st) for i, (op, st) in enumerate(zip(part.linearization, part.states))}
        sections.append((part.key, order, None, part.verdict))
    body = [f"<h1>{_esc(result.source)}: <span class='{result.verdict}'>{_esc(result.verdict)}</span></h1>",
            f"<pre>{_esc(render_text(result))}</pre>",
            '<p class="legend"><span style="background:#ddf4ff">linearized (number: its place)</span>'
            '<span>not linearized</span><span style="border-style:dashed">outcome unknown</span>'
            '<span style="background:#ffebe9;border-color:#cf222e">cannot be placed</span>'
            " Hover a bar for its lines and the state after it.</p>"]
    drawn = 0
    for index, (key, order, culprit, note) in enumerate(sections):
        ops = by_key.get(key, [])
        if drawn and drawn + len(ops) > _MAX_OPS:
            body.append(f"<p>{len(sections) - index:,} more partitions not drawn "
                        f"(the page stops at {_MAX_OPS:,} operations).</p>")
            break
        drawn += len(ops)
        title = "history" if key is None else f"key {_show(key)}"
        body.append(f"<h2>{_esc(title)} <small>({_esc(note)}; {len(ops)} operations)</small></h2>")
        body.append(_partition_svg(ops, order, culprit))
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{_esc(result.source)}: {_esc(result.verdict)}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")

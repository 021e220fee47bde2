"""What ``chaoslab run`` / ``runs`` / ``report`` show: a progress bar per scenario, then tables.

Renderables only; the CLI prints them. Everything reads ``report.json``'s
shape, so a past run prints the same as one that just finished.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from chaoslab.chaos.report import verdict_label
from chaoslab.chaos.runner import RunProgress

__all__ = ["RunDisplay", "runs_table", "summary_table", "verdicts_table"]

_STYLE = {"valid": "green", "invalid": "bold red", "unknown": "yellow", "error": "bold yellow", "skipped": "dim"}


def _verdict_text(report: dict[str, Any]) -> Text:
    label = verdict_label(report)
    style = "green" if report.get("exit_code") == 0 else _STYLE.get(str(report.get("verdict")), "")
    return Text(label, style=style)


class RunDisplay:
    """One progress bar per scenario: its phase, current step, operations and elapsed/total seconds."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(bar_width=24),
            TextColumn("{task.completed:>5.1f}/{task.total:.0f}s"), TextColumn("{task.fields[ops]:>6} ops"),
            TextColumn("[dim]{task.fields[phase]}[/] {task.fields[step]}"),
            console=console, transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RunDisplay:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def __call__(self, p: RunProgress) -> None:
        task = self.tasks.get(p.scenario)
        if task is None:
            task = self.tasks[p.scenario] = self.progress.add_task(p.scenario, total=max(p.total, 0.001),
                                                                   ops=0, phase="", step="")
        self.progress.update(task, completed=p.elapsed, ops=p.ops, phase=p.phase, step=p.step)


def _runs_layout(first: str, counts: Sequence[str]) -> Table:
    """A table of runs: a first column cut short rather than wrapped (one line a run reads best in
    a CI log), right-aligned counts, then verdict and time."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(first, overflow="ellipsis", min_width=14)
    for header in counts:  # widths that fit their figures: the first column gives way, not these
        table.add_column(header, justify="right", no_wrap=True, min_width=max(len(header), 5))
    table.add_column("verdict", no_wrap=True)  # as wide as the verdicts shown: the names need the room
    table.add_column("time", justify="right", no_wrap=True, width=6)
    return table


def _outcome(r: dict[str, Any]) -> tuple[Text, str]:
    return _verdict_text(r), f"{float(r.get('wall_s') or 0):.1f}s"


def _quick(r: dict[str, Any]) -> str:
    return " (quick)" if r.get("quick") else ""


def summary_table(reports: Sequence[dict[str, Any]]) -> Table:
    """The end-of-run table: scenario, ops, ok/fail/info, faults applied, verdict, time."""
    table = _runs_layout("scenario", ("ops", "ok/fail/info", "faults"))
    if reports and all(r.get("quick") for r in reports):
        table.caption = "quick profile"
    for r in reports:
        ops = r.get("ops") or {}
        marker = "" if table.caption else _quick(r)
        table.add_row(r.get("scenario", "?") + marker, str(ops.get("invoke", 0)),
                      f"{ops.get('ok', 0)}/{ops.get('fail', 0)}/{ops.get('info', 0)}", str(len(r.get("faults") or [])),
                      *_outcome(r))
    return table


def verdicts_table(report: dict[str, Any]) -> Table:
    """One line per verdict of a run: its name, status and summary."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("summary")
    for v in report.get("verdicts") or []:
        status = str(v.get("status", "?"))
        table.add_row(v.get("name", "?"), Text(status, style=_STYLE.get(status, "")), v.get("summary", ""))
    return table


def runs_table(runs: Sequence[tuple[Path, dict[str, Any]]]) -> Table:
    """Past runs, oldest first: the run directory (when, which scenario), seed, ops, faults, verdict, time."""
    table = _runs_layout("run", ("seed", "ops", "faults"))
    for path, r in runs:
        table.add_row(path.name + _quick(r), str(r.get("seed", "")), str((r.get("ops") or {}).get("invoke", 0)),
                      str(len(r.get("faults") or [])), *_outcome(r))
    return table

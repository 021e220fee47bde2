"""A run's directory and its ``report.json``: where runs live, how they are named, found and listed.

``<home>/runs/<YYYYmmdd-HHMMSS>-<scenario>/`` (or ``<report dir>/...``) holds
``history.jsonl``, ``events.jsonl``, ``report.json`` and ``report.html``
(the shapes are in the issue-12 contract). ``report.json`` is written last, so
a directory with one holds a finished run.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chaoslab.errors import LabError
from chaoslab.lab.rundir import home_dir

__all__ = [
    "EVENTS", "HISTORY", "HTML", "REPORT", "RUNS", "exit_code_label", "find_run", "list_runs", "new_run_dir",
    "read_report", "replay_command", "runs_home", "verdict_label", "write_report",
]

RUNS = "runs"
HISTORY = "history.jsonl"
EVENTS = "events.jsonl"
REPORT = "report.json"
HTML = "report.html"


def runs_home(home: str | os.PathLike[str] | None = None) -> Path:
    """Where ``chaoslab run`` keeps its runs: ``<home>/runs``."""
    return home_dir(home) / RUNS


def _slug(name: str) -> str:
    text = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.")
    return text or "scenario"


def new_run_dir(base: Path, scenario: str, when: float | None = None) -> Path:
    """Create ``base/<YYYYmmdd-HHMMSS>-<scenario>``; a second run in the same second gets ``-2``, ..."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if when is None else when))
    base.mkdir(parents=True, exist_ok=True)
    stem = f"{stamp}-{_slug(scenario)}"
    for n in range(1, 1000):
        path = base / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise LabError(f"too many runs named {stem} in {base}")


def write_report(run_dir: Path, report: dict[str, Any]) -> Path:
    """Write ``report.json`` whole (through a temporary file, so a reader never sees half of it)."""
    path = run_dir / REPORT
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(path)
    return path


def read_report(run_dir: Path) -> dict[str, Any]:
    path = run_dir / REPORT
    try:
        report = json.loads(path.read_text())
    except FileNotFoundError:
        raise LabError(f"{run_dir} holds no {REPORT} (not a finished run)") from None
    except ValueError as exc:
        raise LabError(f"{path}: not JSON ({exc})") from None
    if not isinstance(report, dict):
        raise LabError(f"{path}: not a run report")
    return report


def list_runs(home: str | os.PathLike[str] | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Every finished run under ``<home>/runs``, oldest first (newest last), with its report."""
    base = runs_home(home)
    if not base.is_dir():
        return []
    found = []
    for path in base.iterdir():
        if (path / REPORT).is_file():
            try:
                found.append((path, read_report(path)))
            except LabError:
                continue  # a run being written, or a file someone broke: not a run to list
    return sorted(found, key=lambda item: (float(item[1].get("started_at") or 0), item[0].name))


def find_run(ref: str, home: str | os.PathLike[str] | None = None) -> Path:
    """A run by path, by directory name under ``<home>/runs``, or by a unique prefix of that name."""
    path = Path(ref)
    if (path / REPORT).is_file():
        return path
    base = runs_home(home)
    if (base / ref / REPORT).is_file():
        return base / ref
    runs = list_runs(home)
    matches = [p for p, _ in runs if p.name.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise LabError(f"{ref!r} names several runs: {', '.join(p.name for p in matches)}")
    known = ", ".join(p.name for p, _ in runs[-5:]) or "none yet"
    raise LabError(f"no run {ref!r} (a run directory, or a name in {base}; latest: {known})")


def replay_command(file: str | os.PathLike[str], seed: int, quick: bool, extra: Sequence[str] = ()) -> str:
    """The command that runs the same scenario with the same seed again (``extra``: its ``--algorithm``/``--set``)."""
    tail = "".join(f" {shlex.quote(a)}" for a in extra)
    return f"chaoslab run {shlex.quote(str(file))} --seed {seed}" + (" --quick" if quick else "") + tail


def verdict_label(report: dict[str, Any]) -> str:
    """``valid``, ``invalid``, ``violation (expected)``, ``unknown`` or ``error``, for people."""
    verdict = report.get("verdict", "unknown")
    if report.get("expect") == "violation" and verdict == "invalid" and report.get("as_expected"):
        return "violation (expected)"
    if report.get("expect") == "violation" and verdict == "valid":
        return "valid (a violation was expected)"
    return str(verdict)


def exit_code_label(code: int) -> str:
    return {0: "as expected", 1: "violation", 2: "unknown or error", 130: "interrupted"}.get(code, str(code))

"""House rules for the Raft core and the simulator, checked on their source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import chaoslab.algorithms as algorithms_pkg
import chaoslab.sim as sim_pkg

ALGORITHM_ROOT = Path(algorithms_pkg.__file__).parent
# Driver-side adapters (storage, services, panels) sit beside a core in <algorithm>/adapters/.
CORE_FILES = sorted(p for p in ALGORITHM_ROOT.rglob("*.py") if "adapters" not in p.relative_to(ALGORITHM_ROOT).parts)
SIM_FILES = sorted(Path(sim_pkg.__file__).parent.glob("*.py"))

# No I/O, no clock, no threads, no unseeded randomness in a core.
CORE_FORBIDDEN = {"grpc", "time", "random", "threading", "socket", "os", "asyncio", "subprocess", "chaoslab.runtime"}
# The simulator may build seeded rngs, but never reads a clock or starts threads.
SIM_FORBIDDEN = {"grpc", "time", "threading", "socket", "asyncio", "subprocess", "chaoslab.runtime", "datetime"}


def runtime_imports(path: Path) -> set[str]:
    """Modules imported at run time (imports under ``if TYPE_CHECKING:`` are type hints only)."""
    tree = ast.parse(path.read_text())
    hinted: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hinted.update(id(n) for child in node.body for n in ast.walk(child))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hinted:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def forbidden(found: set[str], banned: set[str]) -> set[str]:
    return {m for m in found if any(m == b or m.startswith(b + ".") for b in banned)}


class TestPurity:
    @pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ALGORITHM_ROOT)))
    def test_cores_import_no_io_clock_or_randomness(self, path: Path) -> None:
        """Nothing under chaoslab/algorithms imports grpc, time, random, threading, socket or os."""
        assert forbidden(runtime_imports(path), CORE_FORBIDDEN) == set()

    @pytest.mark.parametrize("path", SIM_FILES, ids=lambda p: p.name)
    def test_simulator_reads_no_clock_and_starts_no_threads(self, path: Path) -> None:
        """chaoslab/sim runs on virtual time in one thread: no time, threading, sockets or grpc."""
        assert forbidden(runtime_imports(path), SIM_FORBIDDEN) == set()

    def test_the_checker_sees_a_forbidden_import(self, tmp_path: Path) -> None:
        """The import scan finds a real import and skips TYPE_CHECKING-only ones."""
        source = tmp_path / "x.py"
        source.write_text("from typing import TYPE_CHECKING\nimport time\nif TYPE_CHECKING:\n    import random\n")
        assert forbidden(runtime_imports(source), CORE_FORBIDDEN) == {"time"}

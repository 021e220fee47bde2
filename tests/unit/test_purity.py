"""House rules checked on the source: pure cores, a simulator without clocks, and the layer table.

The layer table is ARCHITECTURE.md's own: :class:`TestLayers` parses it from
there, so the document and the code cannot drift apart.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import chaoslab
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


# ---------------------------------------------------------------- the layer table

PACKAGE_ROOT = Path(chaoslab.__file__).parent  # chaoslab/
REPO_ROOT = PACKAGE_ROOT.parent
ARCHITECTURE = REPO_ROOT / "ARCHITECTURE.md"


@dataclass(frozen=True)
class Row:
    """One row of the table: modules under ``pattern`` may import what ``allowed`` names."""

    pattern: str  # "chaoslab/lab/", "chaoslab/cli.py", "chaoslab/algorithms/*/adapters/"
    layers: frozenset[str]  # other rows, by pattern
    packages: frozenset[str]  # third-party import names ("grpc", "google.protobuf")

    def matches(self, path: str) -> bool:
        """Does the module at ``path`` (``chaoslab/lab/cluster.py``) belong to this row?"""
        if not self.pattern.endswith("/"):
            return fnmatch.fnmatchcase(path, self.pattern)
        parts, folder = path.split("/"), self.pattern.rstrip("/").split("/")
        return len(parts) > len(folder) and all(fnmatch.fnmatchcase(p, f) for p, f in zip(parts, folder))


def read_table(text: str) -> list[Row]:
    """The rows of the first table under ``## Layers``: first cell the folder, last the imports.

    In the last cell, a backticked name ending in ``/`` or ``.py`` is another row
    (relative to ``chaoslab/``); any other backticked name is a third-party package.
    Rows outside ``chaoslab/`` (the .proto files) hold no Python and are skipped.
    """
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`chaoslab/"):
            continue
        (pattern,) = re.findall(r"`([^`]+)`", cells[0])
        names = re.findall(r"`([^`]+)`", cells[-1])
        layers = frozenset("chaoslab/" + n for n in names if n.endswith(("/", ".py")))
        packages = frozenset(n for n in names if not n.endswith(("/", ".py")))
        rows.append(Row(pattern, layers, packages))
    return rows


ROWS = read_table(ARCHITECTURE.read_text())


def row_of(path: str, rows: list[Row] = ROWS) -> Row | None:
    """The most specific row holding ``path``: a file row beats a folder, a deeper folder a shallower."""
    matching = [r for r in rows if r.matches(path)]
    return max(matching, key=lambda r: (not r.pattern.endswith("/"), r.pattern.count("/")), default=None)


def module_path(name: str, root: Path = REPO_ROOT) -> str | None:
    """``chaoslab.lab.cluster`` -> ``chaoslab/lab/cluster.py`` (or the package's ``__init__.py``)."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(root).as_posix()
    return None


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every module ``module``'s source imports at run time.

    Imports at any depth count (inside functions too); those under ``if
    TYPE_CHECKING:`` do not. Relative imports are resolved; ``from x import y``
    yields ``x.y`` when ``y`` is a module of its own, else ``x``.
    """
    tree = ast.parse(source)
    hinted: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hinted.update(id(n) for child in node.body for n in ast.walk(child))
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in hinted:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package[: len(package) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if module_path(sub) else base))
    return found


def layer_violations(path: str, source: str, rows: list[Row] = ROWS) -> list[str]:
    """Every import of the module at ``path`` that its row does not allow, one line each."""
    row = row_of(path, rows)
    if row is None:
        return [f"{path} is in no row of the layer table in ARCHITECTURE.md"]
    name = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    bad = []
    for line, imported in imported_modules(source, name, path.endswith("__init__.py")):
        top = imported.split(".")[0]
        if top == "chaoslab":
            target = module_path(imported)
            target_row = row_of(target, rows) if target else None
            if target_row is None:
                bad.append(f"{path}:{line} imports {imported}, which no row of the table holds")
            elif target_row != row and target_row.pattern not in row.layers:
                bad.append(f"{path}:{line} imports {imported} ({target_row.pattern}), "
                           f"which the row {row.pattern} does not allow")
        elif top not in sys.stdlib_module_names and not any(
            imported == p or imported.startswith(p + ".") for p in row.packages
        ):
            bad.append(f"{path}:{line} imports {imported}, a package the row {row.pattern} does not allow")
    return list(dict.fromkeys(bad))  # one line per import, however many names it takes


PACKAGE_FILES = sorted(p.relative_to(REPO_ROOT).as_posix() for p in PACKAGE_ROOT.rglob("*.py"))


class TestLayers:
    def test_the_table_is_read(self) -> None:
        """ARCHITECTURE.md's layer table parses into rows, with the adapters' row among them."""
        patterns = [r.pattern for r in ROWS]
        assert len(patterns) == len(set(patterns)) >= 10
        assert {"chaoslab/algorithms/", "chaoslab/algorithms/*/adapters/", "chaoslab/process/"} <= set(patterns)

    def test_the_table_names_only_its_own_rows(self) -> None:
        """Every row a "may import" cell names is a row of the table (no typos, no stale names)."""
        patterns = {r.pattern for r in ROWS}
        assert {(r.pattern, layer) for r in ROWS for layer in r.layers if layer not in patterns} == set()

    @pytest.mark.parametrize("path", PACKAGE_FILES)
    def test_every_module_imports_only_what_its_row_allows(self, path: str) -> None:
        """Each module's imports stay within its own row, the rows it may import, its packages
        and the standard library."""
        assert layer_violations(path, (REPO_ROOT / path).read_text()) == []

    def test_the_checker_has_teeth(self) -> None:
        """A core importing an adapter (even inside a function, even as ``from pkg import adapters``),
        the simulator importing the proxy, and an unlisted package are all caught."""
        core = "chaoslab/algorithms/raft/fake.py"
        assert row_of(core).pattern == "chaoslab/algorithms/"
        assert row_of("chaoslab/algorithms/raft/adapters/fake.py").pattern == "chaoslab/algorithms/*/adapters/"
        assert row_of("chaoslab/algorithms/raft/adapters/cli.py").pattern == "chaoslab/algorithms/*/adapters/cli.py"
        assert layer_violations("chaoslab/algorithms/raft/adapters/panel.py", "import typer\n")
        assert not layer_violations("chaoslab/algorithms/raft/adapters/cli.py", "import typer\nimport chaoslab.sim\n")
        assert layer_violations(core, "def f():\n    from chaoslab.algorithms.raft.adapters import wal\n")
        assert layer_violations(core, "from chaoslab.algorithms.raft import adapters\n")
        assert layer_violations(core, "from . import adapters\n")
        assert layer_violations(core, "import chaoslab.seeds\n")
        assert not layer_violations(core, "from chaoslab.algorithms.raft import core\nimport math\n")
        assert not layer_violations(core, "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import chaoslab.sim\n")
        assert layer_violations("chaoslab/sim/fake.py", "from chaoslab.net.proxy import ProxyServer\n")
        assert not layer_violations("chaoslab/sim/fake.py", "from chaoslab.net.rules import FaultTable\n")
        assert layer_violations("chaoslab/process/fake.py", "import grpc\n")
        assert layer_violations("chaoslab/nowhere.py", "")

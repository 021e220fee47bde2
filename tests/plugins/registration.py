"""Register the plug-in algorithms in tests/plugins the way an installed package would.

An installed package declares ``[project.entry-points."chaoslab.algorithms"]``;
pip turns that into ``entry_points.txt`` in its ``.dist-info`` folder, which is
all ``importlib.metadata`` reads. :func:`install` writes such a folder, so the
tests exercise the real discovery path without installing anything.
"""

from __future__ import annotations

from pathlib import Path

PLUGINS = Path(__file__).resolve().parent

ENTRY_POINTS = {"echo": "echo.spec:SPEC", "buggy_raft": "buggy_raft.spec:SPEC"}


def install(site: Path) -> list[str]:
    """Write a dist-info for the plug-ins into ``site``; return the paths to put on sys.path / PYTHONPATH."""
    dist = site / "chaoslab_test_plugins-0.1.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: chaoslab-test-plugins\nVersion: 0.1\n")
    lines = "".join(f"{name} = {ref}\n" for name, ref in ENTRY_POINTS.items())
    (dist / "entry_points.txt").write_text(f"[chaoslab.algorithms]\n{lines}")
    return [str(PLUGINS), str(site)]

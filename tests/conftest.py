"""Shared pytest options and fixtures."""

import pytest


# --- golden files (dashboard frames): `pytest --update-golden` rewrites them ---
def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files (tests/golden/) from the current output instead of comparing",
    )
    # --- long simulator profiles: tests marked `slow` run only with --run-slow ---
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


# --- plug-in algorithms (tests/plugins), registered through a real entry point ---
@pytest.fixture
def plugin_algorithms(tmp_path_factory, monkeypatch):
    """Make tests/plugins' algorithms (``echo``) known by name, in this process and in the
    processes a cluster starts (through PYTHONPATH), as an installed package would."""
    import os
    import sys
    from pathlib import Path

    from chaoslab.algorithms.registry import get_algorithm

    sys.path.insert(0, str(Path(__file__).parent / "plugins"))
    try:
        from registration import install
    finally:
        sys.path.pop(0)
    paths = install(tmp_path_factory.mktemp("site"))
    for path in reversed(paths):
        monkeypatch.syspath_prepend(path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    get_algorithm.cache_clear()
    yield paths
    get_algorithm.cache_clear()

"""Polling with deadlines: how to wait for a cluster to do something, instead of sleeping.

Used by :class:`chaoslab.lab.cluster.Cluster` and shipped to users' tests
through :mod:`chaoslab.testing`. No imports beyond the standard library, so
the pytest plugin stays light.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["holds_for", "wait_until"]

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, *, interval: float = 0.05,
               what: str = "condition") -> T:
    """Call ``predicate`` every ``interval`` seconds until it returns something truthy; return that.

    Raises ``TimeoutError`` naming ``what`` when ``timeout`` seconds pass first.
    The last try starts after the deadline, so a slow predicate (a status
    call on a busy machine) cannot use up the time and fail untried. The way
    to wait for anything a cluster does, instead of sleeping and hoping.
    """
    deadline = time.monotonic() + timeout
    while True:
        late = time.monotonic() > deadline
        result = predicate()
        if result:
            return result
        if late:
            raise TimeoutError(f"{what} not reached within {timeout:g}s")
        time.sleep(interval)


def holds_for(predicate: Callable[[], Any], seconds: float, *, interval: float = 0.1) -> bool:
    """True if ``predicate()`` is truthy at every check for ``seconds`` (checked every ``interval``).

    The counterpart of :func:`wait_until` for things that must *not* happen:
    an isolated node never becomes leader, a cut link never delivers.
    Returns False at the first check that fails.
    """
    deadline = time.monotonic() + seconds
    while True:
        if not predicate():
            return False
        if time.monotonic() >= deadline:
            return True
        time.sleep(interval)


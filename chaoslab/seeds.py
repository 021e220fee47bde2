"""Every seeded random choice in chaoslab, derived one way from a seed and labels.

A seed names a run: the simulator, the node processes, the fault proxy, the
supervisor and the ``Cluster`` API all take their ``random.Random`` from
:func:`derive_rng`, one stream per purpose (``derive_rng(seed, "node", "n3", 2)``
for n3's third incarnation), so streams do not disturb each other and the
same labels give the same stream in the simulator and in a real cluster.

Pure and standard-library only, so every layer may import it. Algorithm cores
never do: their rng is handed to them by the driver.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["derive_rng", "derive_seed"]


def derive_seed(seed: object, *labels: object) -> int:
    """A stable 64-bit seed from ``seed`` and ``labels``.

    blake2b of their text joined by a unit separator, never ``hash()``: the
    same on every run, platform and ``PYTHONHASHSEED``.
    """
    text = "\x1f".join(str(p) for p in (seed, *labels)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def derive_rng(seed: object, *labels: object) -> random.Random:
    """An rng for one purpose (``"net"``, ``("node", "n3", 2)``...), independent of the others."""
    return random.Random(derive_seed(seed, *labels))

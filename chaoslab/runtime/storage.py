"""Durable state on disk: written and fsynced before anyone is told.

Each algorithm's persisted changes go to a storage with two methods:
``load()`` returns what the algorithm's factory takes on restart, and
``save(persists)`` makes a batch of changes durable with one fsync. An
algorithm names its own storage in its spec (Raft: a write-ahead log);
algorithms whose persisted change is their whole durable state keep one JSON
document.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

from chaoslab.algorithms import AlgorithmSpec
from chaoslab.algorithms.registry import load_ref


class Storage(Protocol):
    def load(self) -> Any: ...

    def save(self, persists: list[Any]) -> None: ...

    def close(self) -> None: ...


class DurableFile:
    """A small JSON document replaced atomically (write temp, fsync, rename, fsync dir).

    Either the old or the new document survives a crash at any point; never a mix.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Any:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None

    def save(self, persists: list[Any]) -> None:
        """Only the last state of a batch matters: each one is the whole durable state."""
        if not persists:
            return
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, json.dumps(persists[-1], sort_keys=True).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def close(self) -> None:
        pass


def storage_for(algorithm: AlgorithmSpec, data_dir: Path) -> Storage:
    """The storage the algorithm's spec names, or one JSON document."""
    if algorithm.storage is None:
        return DurableFile(data_dir / "state.json")
    return load_ref(algorithm.storage)(data_dir)

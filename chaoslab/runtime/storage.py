"""Durable state on disk: written atomically and fsynced before anyone is told."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


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

    def save(self, value: Any) -> None:
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, json.dumps(value, sort_keys=True).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

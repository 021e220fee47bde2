"""The run directory's layout: where each process of a cluster finds and leaves its files.

```
.chaoslab/<name>/          mode 0700
  spec.json                what the user asked for
  cluster.json             the same plus bound ports (written by the supervisor)
  supervisor.pid           the supervisor's pid (the cluster is "running" while it lives)
  pids.json                node and proxy pids, kept current by the supervisor
  control.sock             the supervisor's Control service
  proxy.sock               the proxy's control service (supervisor only)
  events.jsonl             every process's events, one JSON object a line
  draws.json               how many seeded draws each kind of random choice made (replay)
  supervisor.log, proxy.log, startup-error
  nodes/<id>/node.log, nodes/<id>/state.json ...
```
Finding a cluster's directory (the home, ``CHAOSLAB_HOME``, ``--name``) is the
lab's business: :mod:`chaoslab.lab.rundir`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

# sun_path is 108 bytes on Linux; leave room for the "unix:" prefix.
_MAX_SOCKET_PATH = 100


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists"; it is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    spec = property(lambda self: self.path / "spec.json")
    cluster = property(lambda self: self.path / "cluster.json")
    supervisor_pid_file = property(lambda self: self.path / "supervisor.pid")
    pids = property(lambda self: self.path / "pids.json")
    events = property(lambda self: self.path / "events.jsonl")
    draws = property(lambda self: self.path / "draws.json")
    startup_error = property(lambda self: self.path / "startup-error")
    supervisor_log = property(lambda self: self.path / "supervisor.log")
    proxy_log = property(lambda self: self.path / "proxy.log")

    def node_dir(self, node_id: str) -> Path:
        return self.path / "nodes" / node_id

    def node_log(self, node_id: str) -> Path:
        return self.node_dir(node_id) / "node.log"

    def socket_path(self, name: str) -> Path:
        """A unix socket path short enough for sun_path.

        Deep working directories would overflow it, so long paths move to a
        private 0700 directory under the system temp dir, named by a hash of
        the run directory (the supervisor removes it on shutdown).
        """
        direct = self.path / name
        if len(str(direct)) <= _MAX_SOCKET_PATH:
            return direct
        digest = hashlib.sha1(str(self.path).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"chaoslab-{os.getuid()}-{digest}" / name

    def control_address(self) -> str:
        return f"unix:{self.socket_path('control.sock')}"

    def proxy_address(self) -> str:
        return f"unix:{self.socket_path('proxy.sock')}"

    def supervisor_pid(self) -> int:
        try:
            return int(self.supervisor_pid_file.read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def running(self) -> bool:
        return pid_alive(self.supervisor_pid())

    def state(self) -> str:
        """``running``, or ``stale`` when the supervisor is gone but the directory is not."""
        return "running" if self.running() else "stale"

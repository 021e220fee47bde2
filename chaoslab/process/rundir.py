"""The run directory's layout: where each process of a cluster finds and leaves its files.

```
.chaoslab/<name>/          mode 0700
  spec.json                what the user asked for
  secret                   the cluster's secret (0600): every call to a node or the proxy carries it
  cluster.json             the same plus bound ports (written by the supervisor)
  supervisor.pid           the supervisor's pid (the cluster is "running" while it lives)
  pids.json                node and proxy pids, kept current by the supervisor
  control.sock             the supervisor's Control service
  sockets                  where the sockets are instead, when this path is too long for them
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

import os
import secrets
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from chaoslab.errors import LabError

# sun_path is 108 bytes on Linux; leave room for the "unix:" prefix.
_MAX_SOCKET_PATH = 100
_LONGEST_SOCKET_NAME = len("control.sock")


def check_private_dir(path: Path) -> None:
    """LabError unless ``path`` is a directory (not a symlink to one) owned by us with mode 0700."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise LabError(f"the cluster's socket directory {path} is gone ({exc.strerror})") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) != 0o700:
        raise LabError(f"the cluster's socket directory {path} is not a private (0700) directory of ours; "
                       "refusing to use it (someone may have put their own sockets there)")


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


SUPERVISOR_MODULE = "chaoslab.lab.supervisor"


def _command_line(pid: int) -> list[bytes] | None:
    """A live process's arguments; None when they cannot be read (gone, or hidden from us)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None


def _supervises(args: list[bytes], path: Path) -> bool:
    return SUPERVISOR_MODULE.encode() in args and str(path).encode() in args


def find_supervisor(path: Path) -> int:
    """The pid of the live supervisor of run directory ``path``, found by its command line
    (``python -m chaoslab.lab.supervisor PATH``); 0 if there is none."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            args = _command_line(int(entry))
            if args is not None and _supervises(args, path) and pid_alive(int(entry)):
                return int(entry)
    return 0


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
    sockets_file = property(lambda self: self.path / "sockets")
    secret_file = property(lambda self: self.path / "secret")

    def write_secret(self) -> str:
        """Make the cluster's secret (32 random bytes, hex) in a new 0600 file; return it. Once,
        by ``up``, before any process starts; the run directory itself is 0700."""
        secret = secrets.token_hex(32)
        fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        return secret

    def secret(self) -> str:
        """The cluster's secret, which every call to its nodes and proxy carries
        (:mod:`chaoslab.wire.auth`); LabError if it cannot be read (not our cluster)."""
        try:
            secret = self.secret_file.read_text().strip()
        except FileNotFoundError:
            raise LabError(f"{self.secret_file} is missing: the run directory is incomplete (`chaoslab down` removes it)") from None
        except OSError as exc:
            raise LabError(f"cannot read {self.secret_file} ({exc.strerror}): only the cluster's owner may talk to it") from None
        if not secret:
            raise LabError(f"{self.secret_file} is empty: the run directory is damaged (`chaoslab down` removes it)")
        return secret

    def node_dir(self, node_id: str) -> Path:
        return self.path / "nodes" / node_id

    def node_log(self, node_id: str) -> Path:
        return self.node_dir(node_id) / "node.log"

    def socket_path(self, name: str) -> Path:
        """Where the unix socket ``name`` (``control.sock``, ``proxy.sock``) lives: in the run
        directory, or, when its path is too long for sun_path, in the private directory the
        supervisor made for them (:meth:`make_socket_dir`)."""
        return self.socket_dir() / name

    def _sockets_fit(self) -> bool:
        return len(str(self.path)) + 1 + _LONGEST_SOCKET_NAME <= _MAX_SOCKET_PATH

    def socket_dir(self) -> Path:
        """The directory of the cluster's unix sockets. A fallback directory is trusted only if
        it is still what the supervisor made: a real directory (not a symlink), ours, 0700;
        otherwise LabError, so that no one else's socket is ever talked to."""
        if self._sockets_fit():
            return self.path
        try:
            recorded = Path(self.sockets_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            raise LabError(f"cluster {self.name!r} is not answering (its supervisor has not made its sockets)") from None
        check_private_dir(recorded)
        return recorded

    def make_socket_dir(self) -> Path:
        """Make the sockets' directory (the supervisor, once, before it binds) and return it.

        A run directory deep enough that a socket path would overflow sun_path (108 bytes)
        gets a fresh directory under the system temp dir with a random name (``mkdtemp``:
        created exclusively, mode 0700, so another user can neither plant it first nor share
        it), recorded in the run directory, which only we can read. The supervisor removes
        it on shutdown.
        """
        if self._sockets_fit():
            return self.path
        base = tempfile.gettempdir()
        if len(base) + 32 + _LONGEST_SOCKET_NAME > _MAX_SOCKET_PATH:
            base = "/tmp"
        made = Path(tempfile.mkdtemp(prefix=f"chaoslab-{os.getuid()}-", dir=base))
        tmp = self.sockets_file.with_suffix(".tmp")
        tmp.write_text(f"{made}\n")
        tmp.replace(self.sockets_file)
        return made

    def control_address(self) -> str:
        return f"unix:{self.socket_path('control.sock')}"

    def proxy_address(self) -> str:
        return f"unix:{self.socket_path('proxy.sock')}"

    def supervisor_pid(self) -> int:
        """The live supervisor's pid: the one ``supervisor.pid`` names while it lives; else (the
        file missing, holding garbage, or naming a dead pid) the one found by its command line,
        so that a damaged pid file never passes a running cluster off as stale (and ``down``
        never deletes its directory under its processes). 0: none."""
        pid = self.recorded_pid()
        if pid > 0 and pid_alive(pid):
            return pid
        return find_supervisor(self.path)

    def recorded_pid(self) -> int:
        """What ``supervisor.pid`` says, alive or not (0 when it is missing or not a number)."""
        try:
            return int(self.supervisor_pid_file.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def running(self) -> bool:
        return self.supervisor_pid() > 0

    def state(self) -> str:
        """``running``, or ``stale`` when the supervisor is gone but the directory is not."""
        return "running" if self.running() else "stale"

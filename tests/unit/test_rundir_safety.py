"""Finding a cluster's supervisor and claiming a cluster name: the run directory's guards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chaoslab.errors import LabError
from chaoslab.lab.rundir import claim_name, make_home
from chaoslab.process.rundir import RunDir
from chaoslab.testing import wait_until


class TestSupervisorPid:
    @pytest.fixture
    def impostor(self, tmp_path: Path):  # type: ignore[no-untyped-def]
        """A process whose command line reads like the supervisor of tmp_path/c."""
        run = RunDir(tmp_path / "c")
        run.path.mkdir()
        proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", "chaoslab.lab.supervisor",
                                 str(run.path)], stdin=subprocess.PIPE)
        # Popen returns while the child is still inside exec: its /proc cmdline reads empty for
        # a moment, and a search then rightly finds no supervisor.
        assert wait_until(lambda: b"chaoslab.lab.supervisor" in Path(f"/proc/{proc.pid}/cmdline").read_bytes(), 5)
        yield run, proc
        proc.kill()
        proc.wait()

    def test_garbage_pid_file_falls_back_to_the_process_table(self, impostor) -> None:  # type: ignore[no-untyped-def]
        """supervisor.pid holding garbage (or missing) does not make a live supervisor look gone."""
        run, proc = impostor
        run.supervisor_pid_file.write_text("garbage\n")
        assert run.supervisor_pid() == proc.pid and run.state() == "running"
        run.supervisor_pid_file.unlink()
        assert run.supervisor_pid() == proc.pid

    def test_a_dead_pid_falls_back_too(self, impostor) -> None:  # type: ignore[no-untyped-def]
        """A pid file naming a process that is gone does not hide the live supervisor either."""
        run, proc = impostor
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        run.supervisor_pid_file.write_text(f"{dead.pid}\n")
        assert run.supervisor_pid() == proc.pid

    def test_no_supervisor_is_stale(self, tmp_path: Path) -> None:
        """No pid file and no such process: stale."""
        run = RunDir(tmp_path / "gone")
        run.path.mkdir()
        assert run.supervisor_pid() == 0 and not run.running()


class TestClaimName:
    def test_second_claim_of_a_name_is_refused_while_the_first_holds(self, tmp_path: Path) -> None:
        """While one `up` holds a name, another is told it is being started; after, it may claim it."""
        with claim_name(tmp_path, "raft"):
            with pytest.raises(LabError, match="being started by another `chaoslab up`"):
                with claim_name(tmp_path, "raft"):
                    pass
            with claim_name(tmp_path, "bully"):  # other names are free
                pass
        with claim_name(tmp_path, "raft"):
            pass
        assert list(tmp_path.iterdir()) == []  # no lock file left behind


class TestMakeHome:
    def test_a_file_or_a_path_under_a_file_is_one_line(self, tmp_path: Path) -> None:
        """A home that is a file, or under a file, is a LabError, not an OSError."""
        afile = tmp_path / "f"
        afile.write_text("x")
        with pytest.raises(LabError, match="is a file"):
            make_home(afile)
        with pytest.raises(LabError, match="Not a directory"):
            make_home(afile / "sub")
        make_home(tmp_path / "a" / "b")
        assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700


class TestClusterFile:
    @pytest.mark.parametrize("content", [b'{"name": ', b"\xff\xfe", b"[1, 2]", b'{"name": "x"}', b'{"unknown": 1}', b"null"])
    def test_a_damaged_cluster_file_is_one_line(self, tmp_path: Path, content: bytes) -> None:
        """Bad JSON, bad UTF-8 or the wrong shape: a LabError naming the file, on one line."""
        from chaoslab.process.spec import ClusterSpec

        path = tmp_path / "spec.json"
        path.write_bytes(content)
        with pytest.raises(LabError, match="spec.json is not a readable cluster file") as caught:
            ClusterSpec.load(path)
        assert "\n" not in str(caught.value)

    def test_a_missing_one_too(self, tmp_path: Path) -> None:
        from chaoslab.process.spec import ClusterSpec

        with pytest.raises(LabError, match="cluster.json is missing"):
            ClusterSpec.load(tmp_path / "cluster.json")


class TestSocketDirectory:
    @pytest.fixture
    def deep(self, tmp_path: Path) -> RunDir:
        """A run directory whose path is too long for a unix socket beside it."""
        run = RunDir(tmp_path / ("d" * 60) / ("e" * 60) / "raft")
        run.path.mkdir(parents=True, mode=0o700)
        return run

    def test_short_paths_keep_their_sockets(self, tmp_path: Path) -> None:
        """A run directory short enough holds its own sockets; nothing is made elsewhere."""
        run = RunDir(tmp_path / "c")
        run.path.mkdir()
        assert run.make_socket_dir() == run.path and run.socket_path("control.sock") == run.path / "control.sock"

    def test_long_paths_get_a_fresh_private_directory(self, deep: RunDir) -> None:
        """The fallback is new (random name), 0700, ours, recorded in the run directory, and short."""
        made = deep.make_socket_dir()
        try:
            st = made.lstat()
            assert made.is_dir() and not made.is_symlink() and st.st_uid == os.getuid() and st.st_mode & 0o777 == 0o700
            assert deep.socket_path("control.sock") == made / "control.sock"
            assert len(f"unix:{made / 'control.sock'}") < 108
            again = deep.make_socket_dir()
            assert again != made  # never a name someone could guess and take first
            shutil.rmtree(again)
        finally:
            shutil.rmtree(made)

    def test_a_planted_directory_is_never_used(self, deep: RunDir, tmp_path: Path) -> None:
        """Another user's directory at the old predictable name, with their control.sock in it, is ignored."""
        import hashlib
        import tempfile

        digest = hashlib.sha1(str(deep.path).encode()).hexdigest()[:16]
        planted = Path(tempfile.gettempdir()) / f"chaoslab-{os.getuid()}-{digest}"
        planted.mkdir(mode=0o777, exist_ok=True)
        (planted / "control.sock").write_text("theirs")
        try:
            made = deep.make_socket_dir()
            assert made != planted and deep.socket_path("control.sock").parent == made
            shutil.rmtree(made)
        finally:
            shutil.rmtree(planted)

    @pytest.mark.parametrize("tamper", ["mode", "symlink", "owner"])
    def test_a_tampered_directory_is_refused(self, deep: RunDir, tmp_path: Path, tamper: str) -> None:
        """If the recorded directory is no longer a private one of ours (opened up, swapped for a
        symlink, owned by someone else), clients refuse to use it rather than talk to a stranger."""
        made = deep.make_socket_dir()
        try:
            if tamper == "mode":
                made.chmod(0o777)
            elif tamper == "symlink":
                hostile = tmp_path / "hostile"
                hostile.mkdir(mode=0o700)
                made.rmdir()
                made.symlink_to(hostile)
            else:
                if os.getuid() != 0:
                    pytest.skip("changing a directory's owner needs root")
                os.chown(made, 65534, 65534)
            with pytest.raises(LabError, match="not a private .* directory of ours"):
                deep.control_address()
        finally:
            if made.is_symlink():
                made.unlink()
            else:
                shutil.rmtree(made, ignore_errors=True)

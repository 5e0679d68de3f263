"""Where a job's scheduler and files are: this machine, or a cluster reached over SSH.

A job record's `tunnel` (`{"kind": "local"}` or the ssh host/user/port/identity) picks the
`JobHost`; `Job` runs scheduler commands (sacct, squeue, scancel), lists its log files and reads
them through it. Over SSH the commands go through NeMo-Run's `SSHTunnel` and files are read with
SFTP from an offset, so following a log moves only its new bytes. One connection per cluster is
kept for the life of the process.
"""

from __future__ import annotations

import contextlib
import fnmatch
import getpass
import glob
import io
import os
import posixpath
import re
import shlex
import stat
import subprocess
from functools import cache
from typing import Any, Protocol

from nemotron.kit.run._profiles import BaseProfile, SlurmProfile
from nemotron.kit.run._shared import shared_root
from nemotron.kit.run._sshverify import verified_login
from nemotron.kit.run.errors import ExecutorError, ProfileValueError

__all__ = ["ClusterFiles", "JobHost", "cluster_files", "job_host", "ssh_tunnel", "tunnel_record"]

_TIMEOUT = 30


class JobHost(Protocol):
    """Scheduler commands and a job's files, wherever they are."""

    def run(self, args: list[str]) -> str:
        """Run a command; its stdout (a failing command gives what it printed)."""
        ...

    def files(self, patterns: list[str]) -> dict[str, int]:
        """Regular files matching the glob `patterns`: path -> size, in natural order."""
        ...

    def read(self, path: str, start: int = 0) -> bytes:
        """The bytes of `path` from offset `start` to its current end."""
        ...


class LocalHost:
    """The scheduler and the job's files are on this machine."""

    def run(self, args: list[str]) -> str:
        try:
            res = subprocess.run(
                args, capture_output=True, text=True, timeout=_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise ExecutorError(f"`{shlex.join(args)}` failed: {err}") from err
        return res.stdout

    def files(self, patterns: list[str]) -> dict[str, int]:
        found = {}
        for path in (p for pattern in patterns for p in glob.glob(pattern, recursive=True)):
            with contextlib.suppress(OSError):
                info = os.stat(path)
                if stat.S_ISREG(info.st_mode):
                    found[path] = info.st_size
        return _sorted(found)

    def read(self, path: str, start: int = 0) -> bytes:
        with open(path, "rb") as fh:
            fh.seek(start)
            return fh.read()


class SSHHost:
    """The scheduler and the job's files are on a cluster reached through NeMo-Run's SSHTunnel.

    Key-based authentication only (an `identity`, the ssh agent or default keys): status and
    logs never prompt for a password.
    """

    def __init__(self, settings: dict[str, Any]) -> None:
        self._settings = settings
        self._tunnel: Any = None

    @property
    def where(self) -> str:
        s = self._settings
        return f"{s['user']}@{s['host']}" + (f":{s['port']}" if s.get("port") else "")

    def _session(self) -> Any:
        """The connected fabric Connection (reconnects when the last one dropped)."""
        if self._tunnel is None:
            self._tunnel = ssh_tunnel(self._settings)
            self._tunnel.auth_handler = self._tunnel.fallback_auth_handler = _no_prompt
        try:  # NeMo-Run prints "Connecting to ..." and exits the process when auth fails
            with contextlib.redirect_stdout(io.StringIO()):
                self._tunnel.connect()
        except (Exception, SystemExit) as err:
            why = "authentication failed" if isinstance(err, SystemExit) else str(err)
            raise ExecutorError(
                f"cannot reach {self.where} over ssh ({why}); "
                "check the profile's host, port, user and identity"
            ) from None
        return self._tunnel.session

    def run(self, args: list[str]) -> str:
        session = self._session()
        try:
            res = session.run(shlex.join(args), hide=True, warn=True, timeout=_TIMEOUT)
        except Exception as err:
            raise ExecutorError(f"`{shlex.join(args)}` on {self.where} failed: {err}") from err
        return str(res.stdout)

    def files(self, patterns: list[str]) -> dict[str, int]:
        sftp = self.sftp()
        return _sorted({p: n for pattern in patterns for p, n in _sftp_glob(sftp, pattern)})

    def sftp(self) -> Any:
        """The connection's paramiko SFTP client."""
        return self._session().sftp()

    def read(self, path: str, start: int = 0) -> bytes:
        with self.sftp().open(path, "rb") as fh:
            fh.seek(start)
            return bytes(fh.read())


class ClusterFiles:
    """A cluster's files as its login node sees them, read over SFTP.

    What kit-artifacts' `read_metadata(..., files=)` needs (`isdir`, `exists`, `cat_file`): a
    path input of a job on the cluster is checked there, not on this machine.
    """

    def __init__(self, host: SSHHost) -> None:
        self._host = host
        self.where = host.where
        """`user@host[:port]`, for messages."""

    def _mode(self, path: str) -> int | None:
        try:
            return int(self._host.sftp().stat(path).st_mode or 0)
        except OSError:  # missing, or not readable from the login node: not there for a job
            return None

    def isdir(self, path: str) -> bool:
        mode = self._mode(path)
        return mode is not None and stat.S_ISDIR(mode)

    def exists(self, path: str) -> bool:
        return self._mode(path) is not None

    def cat_file(self, path: str) -> bytes:
        return self._host.read(path)


def cluster_files(profile: BaseProfile | None) -> ClusterFiles | None:
    """The files a profile's jobs see when they are not this machine's: its cluster's over ssh.

    None for profiles whose jobs see this machine's files (local, Slurm with the local tunnel).
    """
    if not isinstance(profile, SlurmProfile) or profile.tunnel != "ssh":
        return None
    host = job_host(tunnel_record(profile))
    assert isinstance(host, SSHHost)
    return ClusterFiles(host)


def _no_prompt(*_: Any) -> Any:
    raise PermissionError("key-based ssh authentication failed")


def _sftp_glob(sftp: Any, pattern: str) -> list[tuple[str, int]]:
    """(path, size) of the regular files matching `pattern` (`*`, `?`, `[...]` per level)."""
    folders = ["/" if pattern.startswith("/") else ""]
    parts = [p for p in pattern.split("/") if p]
    found: list[tuple[str, int]] = []
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if not last and not glob.has_magic(part):
            folders = [posixpath.join(f, part) for f in folders]
            continue
        matches = []
        for folder in folders:
            try:
                entries = sftp.listdir_attr(folder or ".")
            except OSError:
                continue
            for entry in entries:
                name, mode = entry.filename, entry.st_mode or 0
                if not fnmatch.fnmatchcase(name, part) or (
                    name.startswith(".") and not part.startswith(".")
                ):
                    continue
                path = posixpath.join(folder, name)
                if last and stat.S_ISREG(mode):
                    found.append((path, entry.st_size or 0))
                elif not last and stat.S_ISDIR(mode):
                    matches.append(path)
        folders = matches
    return found


def _sorted(files: dict[str, int]) -> dict[str, int]:
    """Digit runs read as numbers: restart 2 before restart 10."""

    def natural(path: str) -> list[tuple[int, int, str]]:
        return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", path)]

    return {p: files[p] for p in sorted(files, key=natural)}


@cache
def _ssh_host(*settings: tuple[str, Any]) -> SSHHost:
    return SSHHost(dict(settings))


def job_host(tunnel: dict[str, Any] | None) -> JobHost:
    """The host a job record's `tunnel` points at (no tunnel: this machine)."""
    if tunnel and tunnel.get("kind") == "ssh":
        return _ssh_host(*sorted(tunnel.items()))
    return LocalHost()


def tunnel_record(profile: SlurmProfile) -> dict[str, Any]:
    """How to reach `profile`'s cluster again, as saved in job records (a key's path, no secret)."""
    if profile.tunnel != "ssh":
        return {"kind": "local", "shared_root": shared_root(profile)}
    for key in ("host", "remote_job_dir"):
        if not getattr(profile, key):
            raise ProfileValueError(
                profile.name, key, None, "an ssh tunnel needs host and remote_job_dir"
            )
    return {
        "kind": "ssh",
        "host": profile.host,
        "user": profile.user or getpass.getuser(),
        "port": profile.port,
        "identity": os.path.expanduser(profile.identity) if profile.identity else None,
        "job_dir": profile.remote_job_dir,
        "known_hosts": os.path.expanduser(profile.known_hosts) if profile.known_hosts else None,
        "shared_root": shared_root(profile),
    }


def ssh_tunnel(settings: dict[str, Any]) -> Any:
    """NeMo-Run's SSHTunnel for a `tunnel_record`, checking the host key against known_hosts.

    NeMo-Run's tunnel (fabric's `Connection`) accepts and remembers any host key; ours logs in
    only to a host whose key is known (key-based authentication only: no password prompt).
    """
    import functools

    from nemotron.kit.run import _nemo_run as nr

    run = nr.import_nemo_run()
    tunnel = run.SSHTunnel(
        host=settings["host"],
        user=settings["user"],
        port=settings.get("port"),
        identity=settings.get("identity"),
        job_dir=settings["job_dir"],
    )
    nr.set_login(tunnel, functools.partial(verified_login, tunnel, settings.get("known_hosts")))
    return tunnel

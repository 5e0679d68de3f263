"""Crash-safe local file writes: temp file + fsync + `os.replace` (+ fsync of the folder)."""

from __future__ import annotations

import contextlib
import os

from nemotron.kit.artifacts.processes import pid_alive

_HOST = os.uname().nodename.replace("-", "_")  # gethostname() without importing socket


def temp_name(stem: str = "tmp") -> str:
    """A unique name `<host>-<pid>-<random>-<stem>` that says who made it (for clean-up)."""
    return f"{_HOST}-{os.getpid()}-{os.urandom(6).hex()}-{stem}"


def fsync_dir(path: str) -> None:
    """Persist a folder's entries (a rename into it) on POSIX file systems."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file_synced(path: str, data: bytes) -> None:
    """Write `data` to a new file at `path` and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes, temp_dir: str | None = None) -> None:
    """Replace `path` with `data` so readers see the old or the new content, never a mix.

    The temp file goes in `temp_dir` (same file system) or beside `path`.
    """
    folder = os.path.dirname(path)
    tmp = os.path.join(temp_dir or folder, "." + temp_name(os.path.basename(path)))
    try:
        write_file_synced(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def owner_gone(entry: str, max_age_s: float, mtime: float, now: float) -> bool:
    """True when a temp entry named by `temp_name` belongs to a dead process or is stale."""
    host, _, rest = entry.lstrip(".").partition("-")
    pid_text = rest.partition("-")[0]
    if host == _HOST and pid_text.isdigit():
        return not pid_alive(int(pid_text)) or now - mtime > max_age_s
    return now - mtime > max_age_s

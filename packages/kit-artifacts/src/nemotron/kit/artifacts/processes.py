"""Whether a local process is still running: the one implementation every kit package uses.

kit-artifacts asks it before cleaning up a crashed publisher's temp files, kit-run before
signalling or giving up on a local job. A pid is reused once its process is gone, so a caller
that recorded `process_start(pid)` passes it back: a process started at another time is
another process. Standard library only, like `secrets`.
"""

from __future__ import annotations

import os

__all__ = ["pid_alive", "process_start"]


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (None without it: gone, or no /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()  # the name may hold a ')'
    except OSError:
        return None


def _start(fields: list[str]) -> int | None:
    try:
        return int(fields[19])  # field 22 of stat (fields[0] is field 3, the state)
    except (IndexError, ValueError):
        return None


def process_start(pid: int) -> int | None:
    """When process `pid` started (clock ticks after boot); None without /proc or the process."""
    fields = _stat_fields(pid)
    return _start(fields) if fields else None


def pid_alive(pid: int, started: int | None = None) -> bool:
    """Whether process `pid` runs on this host; a zombie (exited, not yet reaped) counts as dead.

    With `started` (an earlier `process_start(pid)`), a process under that pid that started at
    another time is someone else's and counts as dead. A process owned by another user counts
    as alive. Where `/proc` is missing (macOS), a zombie or a reused pid cannot be told apart.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat_fields(pid)
    if not fields:
        return True
    if fields[0] == "Z":
        return False
    return started is None or _start(fields) in (started, None)

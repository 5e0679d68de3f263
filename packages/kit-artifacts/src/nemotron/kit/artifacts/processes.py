"""Whether a local process is still running: the one implementation every kit package uses.

kit-artifacts asks it before cleaning up a crashed publisher's temp files, kit-run before
signalling or giving up on a local job. Standard library only, like `secrets`.
"""

from __future__ import annotations

import os

__all__ = ["pid_alive"]


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this host; a zombie (exited, not yet reaped) counts as dead.

    A process owned by another user counts as alive. Where `/proc` is missing (macOS), a zombie
    cannot be told apart and counts as alive.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # the state follows the last ')' (the command name may hold one)
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True

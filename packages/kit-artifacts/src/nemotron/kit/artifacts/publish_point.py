"""The publish point: a job's cancel and its first publish exclude each other through one file.

A job runner (kit-run's local backend) names a latch file in `$NEMOTRON_PUBLISH_LATCH`. The
first of two parties to create it wins, atomically (`O_CREAT | O_EXCL`):

- the job, on its first `Registry.publish`/`alias` (`pass_publish_point()`): from then on the job
  is past its publish point and is left to finish its publish;
- a canceller (`claim_cancel()`): the job is stopped, and a publish it reaches later raises
  `PublishCancelledError` instead of registering anything.

Without the variable (a plain `python script.py`) nothing is checked. Standard library only.
"""

from __future__ import annotations

import os

from nemotron.kit.artifacts.errors import RunError

__all__ = [
    "LATCH_ENV",
    "PublishCancelledError",
    "claim_cancel",
    "latch_state",
    "pass_publish_point",
]

LATCH_ENV = "NEMOTRON_PUBLISH_LATCH"
PUBLISHING = "publishing"
CANCELLED = "cancelled"


class PublishCancelledError(RunError):
    """The job was cancelled before its publish point: nothing was published."""

    def __init__(self, latch: str) -> None:
        self.latch = latch
        super().__init__(f"the job was cancelled before it published ({latch}); nothing published")


def _claim(path: str, outcome: str) -> str:
    """Create the latch holding `outcome`; return the outcome the latch holds afterwards.

    The content is written first and linked into place, so a reader never sees an empty latch.
    """
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(f"{outcome} {os.getpid()}\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return latch_state(path) or outcome
    finally:
        os.unlink(tmp)
    return outcome


def latch_state(path: str | os.PathLike[str]) -> str | None:
    """`"publishing"`, `"cancelled"`, or None while neither side has claimed the latch."""
    try:
        with open(path) as fh:
            words = fh.read().split()
    except FileNotFoundError:
        return None
    return words[0] if words else None


def pass_publish_point() -> None:
    """Called by the registry before it publishes: claim the latch, or refuse when cancelled.

    Raises:
        PublishCancelledError: A canceller claimed the latch first.
    """
    path = os.environ.get(LATCH_ENV)
    if path and _claim(path, PUBLISHING) == CANCELLED:
        raise PublishCancelledError(path)


def claim_cancel(path: str | os.PathLike[str]) -> bool:
    """Claim the latch for a cancel: True when the job may be stopped (it has not published)."""
    return _claim(os.fspath(path), CANCELLED) == CANCELLED

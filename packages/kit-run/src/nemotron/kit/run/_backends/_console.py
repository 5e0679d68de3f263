"""Ctrl-C while attached to a job: ask, then cancel (or leave it running)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nemotron.kit.run._job import Job

__all__ = ["confirm_cancel", "follow_or_cancel", "keeps_running"]


def confirm_cancel(job: Job) -> bool:
    """Ask whether to cancel `job` (yes without a terminal to ask on)."""
    if not sys.stdin or not sys.stdin.isatty():
        return True
    try:
        answer = input(f"\ncancel job {job.id}? [Y/n] ").strip().lower()
    except (EOFError, KeyboardInterrupt):
        return True
    return answer in ("", "y", "yes")


def keeps_running(job: Job, echo: Callable[[str], Any] | None) -> None:
    """Say how to follow a job left running."""
    if echo is not None:
        echo(f"job {job.id} keeps running; `nemotron jobs logs {job.id}` follows it")


def follow_or_cancel(
    job: Job, follow: Callable[[], Any], echo: Callable[[str], Any] | None
) -> None:
    """Run `follow()`; on Ctrl-C ask, then cancel the job, or leave it running and re-raise."""
    try:
        follow()
    except KeyboardInterrupt:
        if not confirm_cancel(job):
            keeps_running(job, echo)
            raise
        job.cancel()

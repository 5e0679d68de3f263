"""Errors of nemotron.kit.artifacts, and the roots every kit package's errors derive from.

    NemotronError                 anything kit raises on purpose
    ├── UserError                 a mistake the user can fix (bad name, file, key); CLI exit 2
    │   └── ... (per package)
    └── RunError                  a failure while doing the work (job failed, I/O); CLI exit 1

`str(err)` is one line that says what is wrong, where, and how to fix it.
"""

from __future__ import annotations


class NemotronError(Exception):
    """Base of every error kit raises on purpose."""

    exit_code = 1


class UserError(NemotronError):
    """A mistake in the user's input: printed as one line, exit code 2."""

    exit_code = 2


class RunError(NemotronError):
    """A failure while running (a job failed, storage broke): exit code 1."""

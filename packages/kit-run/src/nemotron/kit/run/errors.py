"""Errors of nemotron.kit.run.

    NemotronError (kit-artifacts)
    ├── UserError
    │   └── RunConfigError                 anything wrong in env.toml or a launch request
    │       ├── EnvFileError               env.toml missing, unreadable or not valid TOML
    │       ├── ProfileNotFoundError       no such profile (lists the ones that exist)
    │       ├── ProfileCycleError          `extends` chain loops
    │       ├── UnknownProfileKeyError     a key no executor kind knows (with a suggestion)
    │       ├── ProfileValueError          a value of the wrong type or out of range
    │       └── JobNotFoundError           no job record with that id
    └── RunError
        ├── JobFailedError                 a job ended in failure (exit code + log tail)
        ├── ChainStepFailedError           a step of a JobChain did not succeed (later ones cancelled)
        └── ExecutorError                  NeMo-Run could not build or submit

`str(err)` is one line naming the file, profile or key and what fixes it.
"""

from __future__ import annotations

from pathlib import Path

from nemotron.kit.artifacts.errors import RunError, UserError

__all__ = [
    "ChainStepFailedError",
    "EnvFileError",
    "ExecutorError",
    "JobFailedError",
    "JobNotFoundError",
    "ProfileCycleError",
    "ProfileNotFoundError",
    "ProfileValueError",
    "RunConfigError",
    "UnknownProfileKeyError",
]


class RunConfigError(UserError):
    """A mistake in env.toml or in how a job was requested."""


class EnvFileError(RunConfigError):
    """env.toml is missing, unreadable or not valid TOML."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        self.path = path
        super().__init__(message)


class ProfileNotFoundError(RunConfigError):
    """The named profile does not exist."""

    def __init__(
        self,
        profile: str,
        available: list[str],
        path: Path | None,
        searched: list[Path] | None = None,
    ) -> None:
        self.profile = profile
        self.available = available
        self.path = path
        self.searched = searched or []
        if path is None:
            where = ", ".join(str(p) for p in self.searched) or "."
            msg = (
                f"profile {profile!r} not found: there is no env.toml (looked in {where}); "
                "create one or pass --env-file / set NEMOTRON_ENV_FILE"
            )
        elif available:
            msg = (
                f"profile {profile!r} not found in {path}; "
                f"available profiles: {', '.join(available)}"
            )
        else:
            msg = f"profile {profile!r} not found in {path}, which defines no profiles"
        super().__init__(msg)


class ProfileCycleError(RunConfigError):
    """`extends` refers back to a profile already in the chain."""

    def __init__(self, chain: list[str], path: Path) -> None:
        self.chain = chain
        self.path = path
        super().__init__(
            f"{path}: profile inheritance loops: {' -> '.join(chain)}; remove one `extends`"
        )


class UnknownProfileKeyError(RunConfigError):
    """A key that the profile's executor kind does not accept."""

    def __init__(
        self, profile: str, key: str, path: Path | None, suggestion: str | None, kind: str
    ) -> None:
        self.profile = profile
        self.key = key
        self.path = path
        self.suggestion = suggestion
        hint = f"did you mean {suggestion!r}?" if suggestion else f"see docs/env-toml.md ({kind})"
        super().__init__(f"{path}: [{profile}] unknown key {key!r} for a {kind} profile; {hint}")


class ProfileValueError(RunConfigError):
    """A profile value of the wrong type or out of range."""

    def __init__(self, profile: str, key: str, path: Path | None, problem: str) -> None:
        self.profile = profile
        self.key = key
        self.path = path
        self.problem = problem
        super().__init__(f"{f'{path}: ' if path else ''}[{profile}] {key}: {problem}")


class JobNotFoundError(RunConfigError):
    """No job record with the given id."""

    def __init__(self, job_id: str, jobs_dir: Path) -> None:
        self.job_id = job_id
        self.jobs_dir = jobs_dir
        super().__init__(f"no job {job_id!r} in {jobs_dir}; `nemotron jobs list` shows the ids")


class JobFailedError(RunError):
    """A job finished in a failed state."""

    def __init__(self, job_id: str, state: str, exit_code: int | None, log_tail: str) -> None:
        self.job_id = job_id
        self.state = state
        self.returncode = exit_code
        self.log_tail = log_tail
        code = f" (exit code {exit_code})" if exit_code is not None else ""
        last = log_tail.strip().splitlines()[-1] if log_tail.strip() else "no log output"
        super().__init__(f"job {job_id} {state}{code}: {last}")


class ChainStepFailedError(RunError):
    """A step of a `JobChain` did not succeed; the steps after it were cancelled."""

    def __init__(
        self, step: str, job_id: str, state: str, logs: list[str], cancelled: list[str]
    ) -> None:
        self.step = step
        self.job_id = job_id
        self.state = state
        self.logs = logs
        self.cancelled = cancelled
        after = f"; cancelled {', '.join(cancelled)}" if cancelled else ""
        super().__init__(
            f"step {step!r} (job {job_id}) ended {state}{after}; logs: {', '.join(logs)}"
        )


class ExecutorError(RunError):
    """NeMo-Run could not build the executor or submit the job."""

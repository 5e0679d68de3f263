"""`LaunchRequest`: everything `launch()` decided about one job, handed to its backend."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nemotron.kit.artifacts.secrets import redact
from nemotron.kit.run._shipping import JobFile

if TYPE_CHECKING:
    from nemotron.kit.run._job import Job
    from nemotron.kit.run._profiles import Profile

__all__ = ["LaunchRequest"]


@dataclass(frozen=True)
class LaunchRequest:
    """One job as planned: the profile (launcher applied), command, environment and files.

    Attributes:
        profile: The profile the job runs on, with the stage's launcher applied.
        command: The job's command line; shipped files appear as their placeholders.
        plain_env: Variables that may be written down (the executor, the sbatch script).
        secret_env: Secret-named variables: they reach the job through the environment only.
        files: Files shipped with the job (its config, the container setup script).
        depends_on: Jobs that must succeed first.
        detach: Return once the job is submitted.
        check: Attached: raise JobFailedError when the job fails.
        echo: Where attached output and dry-run text go (None = silent).
        array: Slurm job array indices (`0-3`), or None.
    """

    profile: Profile
    command: list[str]
    plain_env: dict[str, str] = field(default_factory=dict)
    secret_env: dict[str, str] = field(default_factory=dict)
    files: tuple[JobFile, ...] = ()
    depends_on: tuple[Job, ...] = ()
    detach: bool = False
    check: bool = True
    echo: Callable[[str], Any] | None = print
    array: str | None = None

    @property
    def masking_env(self) -> dict[str, str]:
        """Variables whose secret values must not be written: the caller's and the job's."""
        return {**os.environ, **self.secret_env}

    def mask(self, text: str) -> str:
        """`text` with every secret value of `masking_env` masked."""
        return str(redact(text, self.masking_env))

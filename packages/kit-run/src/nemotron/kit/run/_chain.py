"""`JobChain`: jobs that run one after another, each only if the one before succeeded.

    chain = JobChain("cluster", detach=False)
    chain.submit("prep", "my.prep")                        # launch() keyword arguments
    chain.submit("train", "my.train", ["--config", cfg])   # afterok prep
    chain.follow()                                         # ChainStepFailedError names the step

On Slurm every step is submitted at once with `#SBATCH --dependency=afterok:<id>` on its
predecessors; a dry run renders those lines with placeholder ids (`afterok:<job-name>`). On
other profiles the chain runs the steps in order: attached, each in turn (a failure stops the
chain before the next is launched); detached, each step's worker waits for its predecessor.
`follow()` waits for the steps in order and, at the first that did not succeed, cancels every
later step and raises `ChainStepFailedError` naming the step, its state and its log files.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from nemotron.kit.run._backends import backend_for
from nemotron.kit.run._job import Job
from nemotron.kit.run._launch import launch, resolve_profile
from nemotron.kit.run._profiles import BaseProfile
from nemotron.kit.run._records import TERMINAL_STATES
from nemotron.kit.run.errors import ChainStepFailedError

__all__ = ["JobChain"]


class JobChain:
    """An ordered chain of launches on one profile (see the module docstring).

    Args:
        profile: env.toml profile name or profile object (None: `[cli] default_profile`/local).
        detach: Submit and return; `follow()` is then up to the caller (`--batch`).
        dry_run: Render every step (with placeholder dependency ids); submit nothing.
        echo: Where attached output and rendered scripts go (None = silent).
        env_file: env.toml path (default: discovery).
    """

    def __init__(
        self,
        profile: str | BaseProfile | None = None,
        *,
        detach: bool = False,
        dry_run: bool = False,
        echo: Callable[[str], Any] | None = print,
        env_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.profile = resolve_profile(profile, env_file)
        self.detach = detach
        self.dry_run = dry_run
        self.echo = echo
        self.env_file = env_file
        self.steps: list[tuple[str, Job]] = []

    @property
    def scheduled(self) -> bool:
        """True when the scheduler holds the chain (Slurm `afterok`): all steps go in at once."""
        return backend_for(self.profile).schedules_dependencies

    @property
    def jobs(self) -> list[Job]:
        return [job for _, job in self.steps]

    def submit(
        self,
        step: str,
        script_or_module: str,
        args: Sequence[Any] = (),
        *,
        after: Sequence[str] | None = None,
        **launch_kwargs: Any,
    ) -> Job:
        """Launch `step` after the steps named in `after` (default: the previous step).

        `launch_kwargs` go to `launch()` (env, name, config, array, launcher, ...).

        Raises:
            ChainStepFailedError: attached on a profile without a scheduler, the step (or one
                before it) did not succeed; the later steps are not launched.
        """
        names = [name for name, _ in self.steps]
        wanted = names[-1:] if after is None else list(after)
        unknown = [name for name in wanted if name not in names]
        if unknown:
            raise ValueError(f"step {step!r} comes after unknown step(s) {unknown}; have {names}")
        depends_on = [job for name, job in self.steps if name in wanted]
        in_turn = not (self.dry_run or self.scheduled or self.detach)
        job = launch(
            script_or_module,
            args,
            profile=self.profile,
            depends_on=depends_on,
            detach=not in_turn and not self.dry_run,
            dry_run=self.dry_run,
            check=False,
            echo=self.echo if (in_turn or self.dry_run) else None,
            env_file=self.env_file,
            **launch_kwargs,
        )
        self.steps.append((step, job))
        if in_turn:
            self._check(step, job)
        return job

    def follow(self, poll: float = 1.0) -> None:
        """Wait for every step in order; at the first that did not succeed, cancel the rest.

        Raises:
            ChainStepFailedError: naming the failed step, its state and its logs.
        """
        if self.dry_run:
            return
        for step, job in self.steps:
            job.wait(poll=poll)
            self._check(step, job)

    def cancel(self) -> None:
        """Cancel every step that has not ended."""
        for _, job in self.steps:
            if job.status() not in TERMINAL_STATES:
                job.cancel()

    def _check(self, step: str, job: Job) -> None:
        state = job.status()
        if state == "SUCCEEDED":
            return
        later = [name for name, _ in self.steps[self._index(step) + 1 :]]
        self.cancel()
        logs = [*job.log_files(), *job.scheduler_log_files()] or [str(job.folder)]
        raise ChainStepFailedError(step, job.id, state, logs, later)

    def _index(self, step: str) -> int:
        return next(i for i, (name, _) in enumerate(self.steps) if name == step)

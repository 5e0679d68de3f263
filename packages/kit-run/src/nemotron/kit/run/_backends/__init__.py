"""Backends: how a job of each executor kind is rendered, submitted, followed, queried, cancelled.

    backend = backend_for(profile)        # the one place the executor kind is decided
    text = backend.render(job, request)   # a dry run: exactly what would be submitted
    backend.submit(job, request)          # start it; the record gets its handle and logs
    backend.attach(job, request)          # follow it to its end (Ctrl-C asks, then cancels)
    backend_of(job.record).status(job)    # later, from the record alone
    backend_of(job.record).cancel(job)

| kind                              | backend      | module                     |
|-----------------------------------|--------------|----------------------------|
| local                             | `local`      | `_backends/local.py`       |
| slurm                             | `slurm`      | `_backends/slurm.py`       |
| slurm with `ray = true`           | `ray-slurm`  | `_backends/ray_slurm.py`   |
| docker, skypilot, lepton, dgxcloud| `nemo-run`   | `_backends/nemo_run.py`    |

Only the local backend runs without NeMo-Run; the others build a NeMo-Run executor
(`executor()`, what `build_executor` returns) and reach NeMo-Run through `_nemo_run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nemotron.kit.run._executors import plain_env
from nemotron.kit.run._profiles import BaseProfile, Profile, profile_kind

if TYPE_CHECKING:
    from nemotron.kit.run._job import Job
    from nemotron.kit.run._records import JobRecord
    from nemotron.kit.run._request import LaunchRequest

__all__ = ["Backend", "backend_for", "backend_of", "build_executor", "can_start_ray"]


class Backend(Protocol):
    """What every backend does with a job (`request` is what `launch()` decided)."""

    name: str
    """`local`, `slurm`, `ray-slurm` or `nemo-run`."""
    schedules_dependencies: bool
    """True when the scheduler holds `afterok` dependencies (the whole chain goes in at once)."""
    arrays: bool
    """True when it takes job arrays (`launch(array=...)`)."""
    asks_scheduler: bool
    """True when `status` asks a scheduler (False: this machine's processes tell)."""

    def prepare(self, request: LaunchRequest, folder: Path) -> LaunchRequest:
        """The request as the job runs there (its interpreter, wrappers, file arguments);
        `folder` is the job record's, holding the shipped files' copies under `files/`."""
        ...

    def render(self, job: Job, request: LaunchRequest) -> str:
        """A dry run: exactly what would be submitted (nothing is)."""
        ...

    def submit(self, job: Job, request: LaunchRequest) -> None:
        """Start the job; its record gets the scheduler's handle, log files and SUBMITTED."""
        ...

    def attach(self, job: Job, request: LaunchRequest) -> None:
        """After `submit`: stream the job's output to `request.echo` until it ends."""
        ...

    def status(self, job: Job) -> str:
        """Refresh the job's state from wherever it runs (record the end) and return it."""
        ...

    def cancel(self, job: Job) -> bool:
        """Stop the job; False when it is left to finish (a local job past its publish point)."""
        ...

    def executor(self, profile: Any, env: dict[str, str], detach: bool) -> Any:
        """The NeMo-Run executor for `profile` (see `build_executor`)."""
        ...


def _backend(kind: str, ray: bool) -> Backend:
    """The backend of executor kind `kind` (`ray`: a Slurm profile's Ray cluster)."""
    if kind == "local":
        from nemotron.kit.run._backends.local import LocalBackend

        return LocalBackend()
    if kind == "slurm" and ray:
        from nemotron.kit.run._backends.ray_slurm import RaySlurmBackend

        return RaySlurmBackend()
    if kind == "slurm":
        from nemotron.kit.run._backends.slurm import SlurmBackend

        return SlurmBackend()
    from nemotron.kit.run._backends.nemo_run import NeMoRunBackend

    return NeMoRunBackend()


def backend_for(profile: BaseProfile) -> Backend:
    """The backend that runs jobs of `profile` (a Ray profile it cannot run: one error line)."""
    if profile.ray:
        from nemotron.kit.run._backends.ray_slurm import check_ray_profile

        check_ray_profile(profile)  # before anything is written
    return _backend(profile_kind(profile), profile.ray)


def backend_of(record: JobRecord) -> Backend:
    """The backend that answers `status`/`cancel` for a recorded job (by its executor kind;
    a Ray cluster on Slurm is a Slurm job to query and cancel)."""
    return _backend(record.executor, ray=False)


def build_executor(
    profile: Profile, *, env: dict[str, str] | None = None, detach: bool = False
) -> Any:
    """Build the NeMo-Run executor for `profile`.

    Args:
        profile: A profile from `load_env_profile`.
        env: Extra variables for the job (secret-named ones are left out; `launch` passes them
            through the environment).
        detach: Pick the Slurm `batch_partition` instead of `run_partition`.

    Returns:
        A `nemo_run` executor (`LocalExecutor`, `SlurmExecutor`, ...).
    """
    return backend_for(profile).executor(profile, plain_env(profile, env), detach)


def can_start_ray(profile: BaseProfile) -> bool:
    """Whether jobs of `profile` can get a Ray cluster over its nodes (Slurm with `ray = true`,
    applied by `for_launcher`); elsewhere a Ray job is one process starting its own Ray."""
    return backend_for(profile).name == "ray-slurm"

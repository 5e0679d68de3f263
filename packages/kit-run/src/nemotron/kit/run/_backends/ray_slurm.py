"""The Ray-on-Slurm backend: a Ray cluster over the profile's nodes; the command runs on its head.

A Slurm profile with `ray = true` and a stage whose launcher is `ray` come here. The sbatch
script is NeMo-Run's Ray template (`ray.sub.j2`, through `_nemo_run.slurm_ray_script`), built
from the same SlurmExecutor as other Slurm jobs; the shipped files go to
`<cluster dir>/configs/nemotron/`. Status and cancel are the Slurm backend's.

Not yet (issue 14, the `ray` lane): attaching follows nothing (the job is left SUBMITTED), the
Slurm id is recorded only when NeMo-Run reports one, and a laptop (ssh) profile has no job dir.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING, Any

from nemotron.kit.run import _nemo_run as nr
from nemotron.kit.run._backends.slurm import SlurmBackend
from nemotron.kit.run._records import save_record, write_atomic
from nemotron.kit.run._shipping import placeholder, ship_ray, substitute

if TYPE_CHECKING:
    from nemotron.kit.run._job import Job
    from nemotron.kit.run._request import LaunchRequest

__all__ = ["RaySlurmBackend"]


class RaySlurmBackend(SlurmBackend):
    """NeMo-Run's Ray template on Slurm (see the module docstring)."""

    name = "ray-slurm"
    arrays = False

    def _planned(self, job: Job, request: LaunchRequest, *, upload: bool) -> tuple[Any, str, str]:
        """(executor, the command on the head node, the sbatch script); files shipped when
        `upload`."""
        executor = self.configured_executor(job, request)
        record = job.record
        cluster_dir = os.path.join(executor.tunnel.job_dir or str(job.folder), record.id)
        paths = ship_ray(executor.tunnel, cluster_dir, request.files, upload=upload)
        command = shlex.join(substitute(request.command, paths))
        record.command = substitute(record.command, paths)
        record.files = {
            paths[placeholder(f)]: str(job.folder / "files" / f.name) for f in request.files
        }
        return executor, command, nr.slurm_ray_script(record.id, cluster_dir, executor, command)

    def render(self, job: Job, request: LaunchRequest) -> str:
        return self._planned(job, request, upload=False)[2]

    def submit(self, job: Job, request: LaunchRequest) -> None:
        executor, command, script = self._planned(job, request, upload=True)
        write_atomic(job.folder / "submission.sh", request.mask(script))
        record = job.record
        record.backend_id = nr.ray_job_id(record.id, executor, command)
        record.state = "SUBMITTED"
        save_record(record, job._root)

    def attach(self, job: Job, request: LaunchRequest) -> None:
        """Nothing to follow yet (see the module docstring)."""

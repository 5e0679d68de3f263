"""Files shipped with a job (its config): written where the job itself can read them.

A `JobFile` in `launch()`'s args stands for the file's path *as the job sees it*. The file is
written into NeMo-Run's job directory (`<job dir>/configs/<name>`, through the executor's
`package_configs`), which NeMo-Run already syncs to the cluster (rsync over an ssh tunnel) and
mounts into containers at `/nemo_run`; without a container NeMo-Run rewrites `/nemo_run` in the
sbatch script to the cluster-side job directory. A copy is kept in the job record (`files/`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nemotron.kit.run._nemo_run import RUNDIR

__all__ = [
    "JobFile",
    "placeholder",
    "ship_into_job_dir",
    "substitute",
]

_SUBDIR = "nemotron"


@dataclass(frozen=True)
class JobFile:
    """A text file shipped with the job; in `launch` args it stands for its job-side path.

    Attributes:
        name: File name (no folders), e.g. `tiny.yaml`.
        text: Its contents. Secrets must not be in it (kit-run masks the values of secret
            environment variables as a last line of defence; secrets reach jobs as env vars).
    """

    name: str

    text: str

    def __post_init__(self) -> None:
        if not self.name or Path(self.name).name != self.name or self.name.startswith("."):
            raise ValueError(f"JobFile name must be a plain file name, got {self.name!r}")


def placeholder(item: JobFile) -> str:
    """The token standing for `item` in a command until its job-side path is known."""
    return f"<shipped:{item.name}>"


def substitute(args: Sequence[str], paths: dict[str, str]) -> list[str]:
    """`args` with each placeholder replaced by its path."""
    return [paths.get(a, a) for a in args]


def ship_into_job_dir(executor: Any, files: Sequence[JobFile]) -> dict[str, str]:
    """Write `files` into an assigned executor's job dir; {placeholder: job-side path}.

    The job-side path is what NeMo-Run's `package_configs` returns (`/nemo_run/configs/...` for
    remote executors, the local path for the local one). For Slurm without a container the
    returned path is the cluster-side job directory, exactly what NeMo-Run writes in the
    sbatch script.
    """
    if not files:
        return {}
    paths = executor.package_configs(*[(f"{_SUBDIR}/{f.name}", f.text) for f in files])
    job_side = [_without_container(executor, p) for p in paths]
    return {placeholder(f): p for f, p in zip(files, job_side, strict=True)}


def _without_container(executor: Any, path: str) -> str:
    from nemotron.kit.run._nemo_run import import_nemo_run

    if (
        isinstance(executor, import_nemo_run().SlurmExecutor)
        and executor.container_image is None
        and path.startswith(RUNDIR + "/")
    ):
        cluster_dir = os.path.join(executor.tunnel.job_dir, Path(executor.job_dir).name)
        return cluster_dir + path[len(RUNDIR) :]
    return path

"""`run.engine=slurm-array`: the shard plan as one Slurm job array plus a merge job, via kit-run.

The stage script, run where sbatch works for `run.profile`, submits two jobs, a kit-run `JobChain`,
running the same stage with the same config (output and local input paths made absolute: the
output folder, which holds the ledger, must be shared by the cluster's nodes), shipped with each
job:

1. `<stage>-shards`, an array of `run.array_tasks` tasks (`run.array_role=task`): task `t` runs
   the shards at plan positions `p % N == t` (on the local pool of its node) and records each
   in the plan's ledger, with `array_task` and `array_job` added to its record.
2. `<stage>-merge`, `afterok` on the array (`run.array_role=merge`): every shard is in the
   ledger, so the local engine only joins them, in plan order, and publishes the artifact. The
   bytes are those of a local run.

The submitter then follows the chain (`run.detach=true` returns at once): when a task of the
array fails the merge job is cancelled; `--dry-run` prints both sbatch scripts (the merge's with
`--dependency=afterok:<array job>`) and submits nothing.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.data_prep._config import asset_path
from nemotron.recipes.nano3.data_prep._sources import Shard
from nemotron.recipes.nano3.data_prep.errors import ArrayJobFailedError, DataPrepConfigError

ROLES = ("", "task", "merge")


class ArrayTaskDone(Exception):
    """Raised through the stage by an array task once its shards are recorded: the join and the
    publishing are the merge job's."""

    def __init__(self, task: int, shards: int) -> None:
        self.task, self.shards = task, shards
        super().__init__(f"array task {task}: {shards} shards recorded; the merge job joins them")


def array_share(shards: list[Shard], task: int, tasks: int) -> list[Shard]:
    """The shards array task `task` of `tasks` runs: plan positions `p % tasks == task`."""
    return [s for p, s in enumerate(shards) if p % tasks == task]


def array_task_id() -> int:
    """This Slurm array task's index (`SLURM_ARRAY_TASK_ID`)."""
    value = os.environ.get("SLURM_ARRAY_TASK_ID", "")
    if not value.isdigit():
        raise DataPrepConfigError(
            "run.array_role",
            "`task` runs inside a Slurm job array task (SLURM_ARRAY_TASK_ID is not set); "
            "leave it empty, the engine sets it on the jobs it submits",
        )
    return int(value)


def check_array_config(run: Any) -> None:
    """Fail early on settings the array engine cannot use."""
    if run.array_role not in ROLES:
        raise DataPrepConfigError(
            "run.array_role", f"must be empty, `task` or `merge`, got {run.array_role!r}"
        )
    if run.engine == "slurm-array" and run.array_tasks < 1:
        raise DataPrepConfigError("run.array_tasks", f"must be at least 1, got {run.array_tasks}")


def _job_config(cfg: Any) -> dict[str, Any]:
    """The config as plain data, with the output folder and local input paths made absolute
    (the jobs start in another working directory)."""
    data = dataclasses.asdict(cfg)
    data["output_dir"] = str(Path(cfg.output_dir).expanduser().resolve())
    for source in data.get("sources", []):
        path = asset_path(source["path"])
        if "://" not in path and Path(path).expanduser().exists():
            source["path"] = str(Path(path).expanduser().resolve())
    tokenizer = asset_path(str(data.get("tokenizer") or ""))
    if tokenizer and Path(tokenizer).expanduser().exists():
        data["tokenizer"] = str(Path(tokenizer).expanduser().resolve())
    data["run"].update(array_role="", detach=False)
    return data


def _container_job_config(cfg: Any, source: tuple[Path, list[str]]) -> dict[str, Any]:
    """For a container profile, whose jobs see none of this machine's paths: the config as
    composed, interpolations kept (they resolve in each job: `output_dir` under the shared
    `NEMOTRON_DATA_DIR`, the same folder for every task and the merge; `@nano3/` assets in the
    shipped code), as `--run PROFILE` ships a stage's config."""
    from omegaconf import OmegaConf

    from nemotron.kit.config import compose

    file, overrides = source
    composed = OmegaConf.to_container(compose(type(cfg), file, overrides), resolve=False)
    assert isinstance(composed, dict)
    data = {str(key): value for key, value in composed.items()}
    data["run"].update(array_role="", detach=False)
    return data


def submit_array(
    stage: str, cfg: Any, *, dry_run: bool = False, source: tuple[Path, list[str]] | None = None
) -> Any:
    """Submit the array and its merge job for `stage` (`pretrain`, `sft`, `rl`) with `cfg`.

    Both jobs are one kit-run `JobChain` (the merge `afterok` the array), each array task and
    the merge one process (launcher `task`), each with the config shipped with it.

    Args:
        source: The config file and overrides `cfg` was composed from: for a container profile
            the jobs get that composition unresolved (see `_container_job_config`).

    Returns the merge job's `Job` (None for a dry run); waits for it unless `run.detach`.
    """
    from omegaconf import OmegaConf

    from nemotron.kit.run import JobChain, JobFile
    from nemotron.kit.run.errors import ChainStepFailedError

    run = cfg.run
    check_array_config(run)
    if not run.profile:
        raise DataPrepConfigError(
            "run.profile",
            "engine=slurm-array needs the env.toml profile to submit to, e.g. run.profile=my-cluster",
        )
    from nemotron.kit.run import load_env_profile

    in_container = bool(getattr(load_env_profile(run.profile), "container_image", None))
    data = _container_job_config(cfg, source) if in_container and source else _job_config(cfg)
    config = JobFile(f"{stage}.yaml", OmegaConf.to_yaml(OmegaConf.create(data)))
    module = f"nemotron.recipes.nano3.data_prep.{stage}"
    name = f"nano3-data-prep-{stage}"
    chain = JobChain(run.profile, dry_run=dry_run, echo=print if dry_run else None)
    if dry_run:
        print(f"# job array {name}-shards: {run.array_tasks} tasks on profile {run.profile!r}")
    shards = chain.submit(
        "shards",
        module,
        ["--config", config, "run.array_role=task"],
        name=f"{name}-shards",
        array=f"0-{run.array_tasks - 1}",
        launcher="task",
    )
    if dry_run:
        print(f"# merge job {name}-merge (afterok on the array: joins the shards, publishes)")
    merge = chain.submit(
        "merge",
        module,
        ["--config", config, "run.array_role=merge"],
        name=f"{name}-merge",
        launcher="task",
    )
    if dry_run:
        return None
    print(
        f"{stage} data: job array {shards.record.backend_id} ({run.array_tasks} tasks, "
        f"job {shards.id}) -> merge {merge.record.backend_id} (afterok, job {merge.id})"
    )
    if not run.detach:
        try:
            chain.follow()
        except ChainStepFailedError as err:
            failed = shards if err.step == "shards" else merge
            raise ArrayJobFailedError(failed.id, failed.state, failed.logs(tail=20)) from err
    return merge

"""The Ray-on-Slurm backend: NeMo-Run's Ray template (`ray.sub.j2`); the command runs on the head.

A Slurm profile with `ray = true` and a stage whose launcher is `ray` (RL) come here. The sbatch
script is NeMo-Run's template, rendered unchanged (`_nemo_run.slurm_ray_script`); kit-run does
the rest as for any container job on Slurm:
- the job's folder is `<job dir>/<job id>` (`remote_job_dir` over ssh, else
  `<shared_root>/experiments`): the script (`ray.sub`), the shipped files (`configs/nemotron/`)
  and the logs (`logs/`: `ray-job.log` = the command's output, `ray-head.log`, the sbatch trace);
- our code and its dependencies, Ray included (`extras=("ray",)`: the image has no Ray), are
  shipped to the shared root (`_jobcode`); `PATH` gets their `bin/` for `ray start`/`ray status`;
- secrets go through the job's secrets file (`_secretfile`), sourced untraced and deleted by the
  command's wrapper on the head (the batch script deletes it too if it exits before: an EXIT
  trap): the template prints the head's environment (`env`) into its log, so they must not be
  in the batch script's environment;
- `sbatch --parsable` gives the Slurm job id, recorded as the job's handle: `afterok` chains
  (`JobChain`, `nano3 pipe`), attach, status, logs and cancel are the Slurm backend's.
The template starts the head with pyxis options (`--container-name=ray-head`, ...): a Ray profile
needs `container_image` (`check_ray_profile`, before anything is written).
"""

from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nemotron.kit.run import _nemo_run as nr
from nemotron.kit.run._backends.slurm import SlurmBackend, _dependency_handle, slurm_executor
from nemotron.kit.run._executors import executor_summary
from nemotron.kit.run._hosts import tunnel_record
from nemotron.kit.run._jobcode import prepare_job_code, upload_job_code
from nemotron.kit.run._profiles import SlurmProfile
from nemotron.kit.run._records import save_record, write_atomic
from nemotron.kit.run._secretfile import job_secrets, secrets_for_job, secrets_path
from nemotron.kit.run._shared import shared_root
from nemotron.kit.run._shipping import JobFile, placeholder, substitute
from nemotron.kit.run.errors import ExecutorError, ProfileValueError

if TYPE_CHECKING:
    from nemotron.kit.run._job import Job
    from nemotron.kit.run._request import LaunchRequest

__all__ = ["COMMAND_FILE", "RaySlurmBackend", "check_ray_profile"]

COMMAND_FILE = "nemotron-ray-job.sh"
"""The wrapper the head runs: loads the secrets (untraced, then deletes them), execs the command."""
_CONFIGS = "configs/nemotron"


def check_ray_profile(profile: Any) -> None:
    """One clear error for a Ray Slurm profile the template cannot run (no container image)."""
    if isinstance(profile, SlurmProfile) and profile.ray and not profile.container_image:
        raise ProfileValueError(
            profile.name,
            "container_image",
            None,
            "a Ray cluster on Slurm starts in containers (NeMo-Run's ray.sub.j2 uses pyxis): "
            "set container_image, or ray = false",
        )


def _command_file(command: list[str], secrets_file: str | None) -> JobFile:
    lines = ["#!/bin/bash", "# nemotron: the job's command, run on the Ray head (ray.sub.j2)"]
    if secrets_file:
        quoted = shlex.quote(secrets_file)
        lines.append(
            f"{{ set +vx; }} 2>/dev/null; if [ -f {quoted} ]; then . {quoted}; rm -f {quoted}; fi"
        )
    return JobFile(COMMAND_FILE, "\n".join([*lines, "exec " + shlex.join(command), ""]))


def _template_env(plain_env: dict[str, str], bin_dir: str, cpus: int | None) -> dict[str, str]:
    """The template's `export K=V` lines take V as shell text: values quoted, PATH extended."""
    env = {k: shlex.quote(v) for k, v in plain_env.items()}
    env["PATH"] = f'{shlex.quote(bin_dir)}:"$PATH"'
    if cpus:  # the template's default is 128 CPUs for the head (8 GPUs x 16)
        env["CPUS_PER_WORKER"] = str(cpus)
    return env


def _shown(script: str, wrapper_path: str, wrapper: JobFile) -> str:
    """The sbatch script, then (as comments) the wrapper its COMMAND runs on the head."""
    lines = [f"# {wrapper_path}: COMMAND runs it on the Ray head", *wrapper.text.splitlines()]
    return script.rstrip("\n") + "\n\n" + "\n".join(f"# {line}" for line in lines) + "\n"


@dataclass(frozen=True)
class _Plan:
    """One Ray job as it will be submitted."""

    executor: Any
    cluster_dir: str
    logs: str
    """The template's log folder (`<cluster_dir>/logs`)."""
    log_prefix: str
    files: dict[str, str]
    """Cluster path -> text: the shipped files and the command's wrapper."""
    script: str
    shown: str
    """The script and the wrapper it runs, as a dry run prints them."""
    secrets_file: str | None
    secrets: dict[str, str]


class RaySlurmBackend(SlurmBackend):
    """NeMo-Run's Ray template on Slurm (see the module docstring)."""

    name = "ray-slurm"
    arrays = False

    def _planned(self, job: Job, request: LaunchRequest) -> _Plan:
        """Executor, job dir, shipped files and the script of this job; the record updated."""
        profile = request.profile
        assert isinstance(profile, SlurmProfile)
        check_ray_profile(profile)
        record = job.record
        shared = shared_root(profile)
        code = self._job_code = prepare_job_code(profile.container_python, extras=("ray",))
        env = {**request.plain_env, **code.job_env(shared)}
        if request.plain_env.get("PYTHONPATH"):
            env["PYTHONPATH"] += ":" + request.plain_env["PYTHONPATH"]
        executor = slurm_executor(profile, {}, request.detach)
        executor.env_vars = _template_env(
            {**executor.env_vars, **env}, code.remote_bin(shared), profile.cpus_per_task
        )
        if request.depends_on:
            executor.dependencies = [_dependency_handle(d) for d in request.depends_on]
            executor.dependency_type = "afterok"
        root = executor.tunnel.job_dir or os.path.join(shared, "experiments")
        cluster_dir = os.path.join(root, record.id)
        secrets = job_secrets(profile, request.secret_env)
        secrets_file = secrets_path(profile, record.id) if secrets else None
        if secrets_file:  # a cluster that never reaches the command deletes the file as it exits
            executor.setup_lines = f"trap {shlex.quote('rm -f ' + shlex.quote(secrets_file))} EXIT"
        paths = {placeholder(f): f"{cluster_dir}/{_CONFIGS}/{f.name}" for f in request.files}
        record.command = substitute(request.command, paths)
        wrapper = _command_file(record.command, secrets_file)
        wrapper_path = paths[placeholder(wrapper)] = f"{cluster_dir}/{_CONFIGS}/{wrapper.name}"
        files = [*request.files, wrapper]
        record.files = {paths[placeholder(f)]: str(job.folder / "files" / f.name) for f in files}
        write_atomic(job.folder / "files" / wrapper.name, wrapper.text, mode=0o600)
        script = nr.slurm_ray_script(
            record.name, cluster_dir, executor, f"bash {shlex.quote(wrapper_path)}"
        )
        record.executor_summary = executor_summary(executor) | {"ray": True}
        record.tunnel = tunnel_record(profile)
        logs, prefix = nr.ray_logs(executor)
        return _Plan(
            executor=executor,
            cluster_dir=cluster_dir,
            logs=logs,
            log_prefix=prefix,
            files={paths[placeholder(f)]: f.text for f in files},
            script=script,
            shown=_shown(script, wrapper_path, wrapper),
            secrets_file=secrets_file,
            secrets=secrets,
        )

    def render(self, job: Job, request: LaunchRequest) -> str:
        return self._planned(job, request).shown

    def submit(self, job: Job, request: LaunchRequest) -> None:
        plan = self._planned(job, request)
        write_atomic(job.folder / "submission.sh", request.mask(plan.shown))
        tunnel, cluster_dir = plan.executor.tunnel, plan.cluster_dir
        tunnel.connect()
        assert self._job_code is not None and isinstance(request.profile, SlurmProfile)
        upload_job_code(self._job_code, tunnel, shared_root(request.profile))
        tunnel.run(f"mkdir -p {shlex.quote(cluster_dir + '/' + _CONFIGS)} {shlex.quote(plan.logs)}")
        _put(tunnel, plan.files | {f"{cluster_dir}/ray.sub": plan.script})
        record = job.record
        try:
            if plan.secrets_file:
                with secrets_for_job(tunnel, plan.secrets_file, plan.secrets):
                    slurm_id = _sbatch(tunnel, cluster_dir)
            else:
                slurm_id = _sbatch(tunnel, cluster_dir)
        except Exception as err:
            job._finish("FAILED", None, f"submission failed: {err}")
            raise ExecutorError(f"job {job.id}: sbatch of the Ray cluster failed: {err}") from err
        record.backend_id = slurm_id
        record.handle = f"slurm_tunnel://nemo_run/{slurm_id}"
        record.log_files = [os.path.join(plan.logs, f"{plan.log_prefix}job.log")]
        record.scheduler_log_files = [os.path.join(plan.logs, f"sbatch_*_{slurm_id}.out")]
        record.state = "SUBMITTED"
        save_record(record, job._root)


def _put(tunnel: Any, texts: dict[str, str]) -> None:
    """Write each text to its path on the cluster through the tunnel (SFTP or a local copy)."""
    with tempfile.TemporaryDirectory() as tmp:
        for index, (path, text) in enumerate(texts.items()):
            local = Path(tmp, str(index))
            local.write_text(text, encoding="utf-8")
            tunnel.put(str(local), path)


def _sbatch(tunnel: Any, cluster_dir: str) -> str:
    """Submit `ray.sub` from the job's folder (its working directory); the Slurm job id."""
    result = tunnel.run(f"cd {shlex.quote(cluster_dir)} && sbatch --parsable ray.sub", warn=True)
    slurm_id = result.stdout.strip().split(";")[0]
    if result.return_code != 0 or not slurm_id.isdigit():
        raise ExecutorError(f"sbatch said: {(result.stderr or result.stdout).strip()}")
    return slurm_id

"""The Slurm backend: sbatch through NeMo-Run's SlurmExecutor, here or over an ssh tunnel.

- Container jobs get our code built and uploaded by kit-run (`_jobcode`), the profile's
  `setup` run in the container before the command (a shipped `nemotron-setup.sh`), and the
  shared root mounted (`_shared`).
- Secrets go through a file that lives only until the job starts (`_secretfile`).
- `afterok` dependencies and job arrays are the scheduler's; a dry run names a dependency that
  has no Slurm id yet by its job name (`afterok:<name>`).
- Status comes from `sacct` (`squeue` until the job reaches the accounting database) on the
  tunnel's host; a job whose dependency failed is cancelled (Slurm would keep it pending).
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nemotron.kit.run import _nemo_run as nr
from nemotron.kit.run._backends._console import follow_or_cancel
from nemotron.kit.run._backends._experiment import ExperimentRun
from nemotron.kit.run._executors import executor_summary, launcher, packager, ships_job_code
from nemotron.kit.run._hosts import ssh_tunnel, tunnel_record
from nemotron.kit.run._jobcode import JobCode, prepare_job_code, upload_job_code
from nemotron.kit.run._profiles import SlurmProfile
from nemotron.kit.run._records import TERMINAL_STATES, save_record, write_atomic
from nemotron.kit.run._secretfile import (
    job_secrets,
    secrets_for_job,
    secrets_path,
    secrets_path_in,
    source_line,
)
from nemotron.kit.run._shared import job_env, job_mounts, shared_root
from nemotron.kit.run._shipping import JobFile, placeholder

if TYPE_CHECKING:
    from nemotron.kit.run._job import Job
    from nemotron.kit.run._request import LaunchRequest

__all__ = ["SlurmBackend", "slurm_executor"]

_SLURM_STATES = {
    "PENDING": "PENDING",
    "REQUEUED": "PENDING",
    "CONFIGURING": "RUNNING",
    "RUNNING": "RUNNING",
    "COMPLETING": "RUNNING",
    "SUSPENDED": "RUNNING",
    "RESIZING": "RUNNING",
    "COMPLETED": "SUCCEEDED",
    "CANCELLED": "CANCELLED",
    "FAILED": "FAILED",
    "TIMEOUT": "FAILED",
    "NODE_FAIL": "FAILED",
    "OUT_OF_MEMORY": "FAILED",
    "BOOT_FAIL": "FAILED",
    "DEADLINE": "FAILED",
    "PREEMPTED": "FAILED",
}

# A job array has one sacct row per task; the row that speaks for the whole array comes first.
_ROW_ORDER = ("RUNNING", "PENDING", "UNKNOWN", "FAILED", "CANCELLED", "SUCCEEDED")

_NEVER_STARTS = "a job it depends on did not succeed, so it could never start (cancelled)"


def _overall(rows: list[str]) -> str:
    """The `State|ExitCode` row of a job, or of a job array as a whole: running while any task
    runs or waits, else failed or cancelled if any task was, else succeeded."""

    def order(row: str) -> int:
        state = _SLURM_STATES.get(row.partition("|")[0].split(" ")[0], "UNKNOWN")
        return _ROW_ORDER.index(state) if state in _ROW_ORDER else 2

    return min(rows, key=order, default="")


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def slurm_executor(profile: SlurmProfile, env: dict[str, str], detach: bool) -> Any:
    """NeMo-Run's SlurmExecutor for `profile` (`detach`: the `batch_partition`)."""
    run = nr.import_nemo_run()

    if profile.tunnel == "ssh":
        tunnel: Any = ssh_tunnel(tunnel_record(profile))
    else:
        tunnel = run.LocalTunnel(job_dir="")  # job_dir "" = the local experiments folder
    partition = (profile.batch_partition if detach else profile.run_partition) or profile.partition
    code = packager(profile)
    env_vars = {**job_env(profile), **env}
    if profile.tunnel == "local" and type(code) is run.Packager and not profile.container_image:
        # Nothing is copied: the job imports the code where it is.
        env_vars = {
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")])
            ),
            **env_vars,
        }
    starter = launcher(profile)
    return run.SlurmExecutor(
        account=profile.account or "",
        partition=partition,
        job_name_prefix=profile.job_name_prefix,
        time=profile.time,
        nodes=profile.nodes,
        ntasks_per_node=profile.ntasks_per_node,
        gpus_per_node=profile.gpus_per_node or None,
        cpus_per_task=profile.cpus_per_task,
        mem=profile.mem,
        exclusive=profile.exclusive or None,
        qos=profile.qos,
        gres=profile.gres,
        constraint=profile.constraint,
        container_image=profile.container_image or None,  # "" (cleared by extends) = none
        container_mounts=job_mounts(profile),
        srun_args=list(profile.srun_args) or None,
        # in a container, the profile's setup runs in it, before the command (see prepare)
        setup_lines=None if profile.container_image else "\n".join(profile.setup) or None,
        env_vars=env_vars,
        tunnel=tunnel,
        packager=code,
        launcher=starter,
        torchrun_nproc_per_node=profile.gpus_per_node if starter else None,
        poll_estimated_start_time=False,
    )


def _container_setup(profile: SlurmProfile) -> JobFile:
    """The profile's `setup` lines as a script that then runs the command, in the container."""
    lines = ["#!/bin/bash", "# the profile's setup, run in the container before the job", "set -e"]
    return JobFile("nemotron-setup.sh", "\n".join([*lines, *profile.setup, 'exec "$@"', ""]))


def _dependency_handle(dep: Job) -> str:
    """The Slurm handle `afterok` names; a dry-run job's stands for the id sbatch would give."""
    if dep.record.handle:
        return dep.record.handle
    return f"slurm_tunnel://nemo_run/<{dep.record.name}>"


class SlurmBackend:
    """sbatch through NeMo-Run; status, logs and scancel on the tunnel's host."""

    name = "slurm"
    schedules_dependencies = True
    arrays = True
    asks_scheduler = True

    def __init__(self) -> None:
        self._run: ExperimentRun | None = None
        self._job_code: JobCode | None = None
        self._secret_file: str | None = None
        self._secrets: dict[str, str] = {}

    # ------------------------------------------------------------------ planning
    def prepare(self, request: LaunchRequest, folder: Path) -> LaunchRequest:
        """The interpreter the job runs, and a container's setup script in front of the command."""
        profile = request.profile
        assert isinstance(profile, SlurmProfile)
        command = list(request.command)
        if profile.tunnel == "local" and not profile.container_image:
            command[0] = sys.executable  # the job runs on this machine's filesystem
        if not (ships_job_code(profile) and profile.setup):
            return replace(request, command=command)
        setup = _container_setup(profile)
        setup = JobFile(setup.name, request.mask(setup.text))
        return replace(
            request,
            command=["bash", placeholder(setup), *command],
            files=(*request.files, setup),
        )

    def executor(self, profile: Any, env: dict[str, str], detach: bool) -> Any:
        return slurm_executor(profile, env, detach)

    def configured_executor(self, job: Job, request: LaunchRequest) -> Any:
        """The executor for this job: shipped code, secrets file, dependencies, array."""
        profile = request.profile
        assert isinstance(profile, SlurmProfile)
        plain_env = dict(request.plain_env)
        if ships_job_code(profile):
            self._job_code = prepare_job_code(profile.container_python)
            shipped = self._job_code.job_env(shared_root(profile))
            if plain_env.get("PYTHONPATH"):
                shipped["PYTHONPATH"] += ":" + plain_env["PYTHONPATH"]
            plain_env |= shipped
        executor = slurm_executor(profile, plain_env, request.detach)
        self._secrets = job_secrets(profile, request.secret_env)
        if self._secrets:
            self._secret_file = secrets_path(profile, job.id)
            executor.setup_lines = "\n".join(
                filter(None, [source_line(self._secret_file), executor.setup_lines])
            )
        if request.depends_on:
            executor.dependencies = [_dependency_handle(d) for d in request.depends_on]
            executor.dependency_type = "afterok"
        if request.array is not None:
            executor.array = request.array
        job.record.executor_summary = executor_summary(executor)
        job.record.tunnel = tunnel_record(profile)
        return executor

    # ---------------------------------------------------------------- protocol
    def render(self, job: Job, request: LaunchRequest) -> str:
        self._run = ExperimentRun(job, request, shell_text=True)
        self._run.start(self.configured_executor(job, request), None)
        return self._run.rendered()

    def submit(self, job: Job, request: LaunchRequest) -> None:
        profile = request.profile
        assert isinstance(profile, SlurmProfile)
        executor = self.configured_executor(job, request)

        def go(exp: Any) -> None:
            if self._job_code is not None:
                upload_job_code(self._job_code, executor.tunnel, shared_root(profile))
            with (
                secrets_for_job(executor.tunnel, self._secret_file, self._secrets)
                if self._secret_file
                else contextlib.nullcontext()
            ):
                exp.run(detach=True, tail_logs=False)

        run = self._run = ExperimentRun(job, request, shell_text=True)
        run.start(executor, go)
        record = job.record
        nr_job = run.nr_job
        record.handle = nr_job.handle
        record.backend_id = nr_job.handle.rsplit("/", 1)[-1] if nr_job.handle else None
        # The task's folder where the job runs (through an ssh tunnel: on the cluster).
        task_dir = os.path.join(nr_job.executor.tunnel.job_dir, Path(nr_job.executor.job_dir).name)
        # NeMo-Run: srun writes the command's output to log-<name>_<jobid>_<restart>.out;
        # sbatch_<name>_<jobid>.out holds the batch script's own `set -x` trace.
        # Each array task is its own Slurm job id: every log of this experiment is the job's.
        log_id = "*" if request.array is not None else record.backend_id
        record.log_files = [os.path.join(task_dir, f"log-*_{log_id}_*.out")]
        sched_id = f"{record.backend_id}_*" if request.array is not None else record.backend_id
        record.scheduler_log_files = [os.path.join(task_dir, f"sbatch_*_{sched_id}.out")]
        nr.drop_bookkeeping(nr_job.executor.tunnel, task_dir)
        sbatch = os.path.join(record.experiment_dir or "", f"{record.name}_sbatch.sh")
        if os.path.isfile(sbatch):
            write_atomic(job.folder / "submission.sh", request.mask(Path(sbatch).read_text()))
        record.state = "SUBMITTED"
        save_record(record, job._root)
        if request.detach:
            run.close()

    def attach(self, job: Job, request: LaunchRequest) -> None:
        try:
            follow_or_cancel(job, lambda: job.wait(poll=1.0, on_output=request.echo), request.echo)
        finally:
            if self._run is not None:
                self._run.close()

    def status(self, job: Job) -> str:
        rec = job.record
        if rec.state in TERMINAL_STATES or not rec.backend_id:
            return rec.state
        job_id = rec.backend_id
        out = job.host.run(["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "State,ExitCode"])
        line = _overall(out.strip().splitlines())
        if not line:  # not in the accounting database yet
            queued = job.host.run(["squeue", "-h", "-j", job_id, "-o", "%T"]).strip()
            state = _SLURM_STATES.get(queued.split(" ")[0], rec.state) if queued else rec.state
            job._update(state)
            return job.state
        raw_state, _, raw_code = line.partition("|")
        state = _SLURM_STATES.get(raw_state.split(" ")[0], "UNKNOWN")
        code = int(raw_code.split(":")[0]) if raw_code.split(":")[0].isdigit() else None
        if state in TERMINAL_STATES:
            message = "" if state == "SUCCEEDED" else _last_line(job.logs(tail=20))
            job._finish(state, code, message)
        elif state == "PENDING" and self._never_starts(job, job_id):
            _scancel(job)
            job._finish("CANCELLED", None, _NEVER_STARTS)
        else:
            job._update(state)
        return job.state

    @staticmethod
    def _never_starts(job: Job, job_id: str) -> bool:
        """Slurm keeps a job whose `afterok` dependency failed pending forever."""
        reason = job.host.run(["squeue", "-h", "-j", job_id, "-o", "%r"]).strip()
        return reason == "DependencyNeverSatisfied"

    def cancel(self, job: Job) -> bool:
        if job.record.backend_id:
            _scancel(job)
        job._finish("CANCELLED", None, "cancelled by user")
        return True


def _scancel(job: Job) -> None:
    """scancel the job, and delete its secrets file: a job that never started has not read it
    (a cancelled one, or one whose `afterok` dependency failed)."""
    rec = job.record
    assert rec.backend_id is not None
    job.host.run(["scancel", rec.backend_id])
    if rec.tunnel and rec.tunnel.get("shared_root"):
        job.host.run(["rm", "-f", secrets_path_in(rec.tunnel["shared_root"], rec.id)])

"""The other NeMo-Run executors: Docker, SkyPilot, DGX Cloud Lepton, DGX Cloud (Run:ai).

Submitted through a NeMo-Run experiment (torchx underneath), with secrets in the submitting
process's environment for the duration. These schedulers hold no dependencies: a job waits here
for the jobs it depends on. Attached, the job is followed through its torchx app state and its
`combined.log`; a recorded job's state is the last one seen, and cancel goes through torchx.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nemotron.kit.run import _nemo_run as nr
from nemotron.kit.run._backends._console import follow_or_cancel
from nemotron.kit.run._backends._experiment import ExperimentRun
from nemotron.kit.run._executors import executor_summary, launcher, packager
from nemotron.kit.run._job import LogFollower
from nemotron.kit.run._profiles import (
    DGXCloudProfile,
    DockerProfile,
    LeptonProfile,
    SkypilotProfile,
    profile_kind,
)
from nemotron.kit.run._records import save_record, write_atomic
from nemotron.kit.run.errors import ExecutorError, RunConfigError

if TYPE_CHECKING:
    from nemotron.kit.run._job import Job
    from nemotron.kit.run._request import LaunchRequest

__all__ = ["NeMoRunBackend"]


def _common(profile: Any, env: dict[str, str]) -> dict[str, Any]:
    """The executor arguments every kind takes alike: environment, launcher, packager."""
    return {"env_vars": env, "launcher": launcher(profile), "packager": packager(profile)}


def _docker(profile: DockerProfile, env: dict[str, str]) -> Any:
    run = nr.import_nemo_run()
    return run.DockerExecutor(
        container_image=profile.container_image or "",
        num_gpus=profile.gpus_per_node or None,
        ntasks_per_node=profile.ntasks_per_node,
        runtime=profile.runtime,
        shm_size=profile.shm_size,
        ipc_mode=profile.ipc_mode,
        volumes=list(profile.container_mounts),
        **_common(profile, env),
        **({"network": profile.network} if profile.network else {}),
    )


def _skypilot(profile: SkypilotProfile, env: dict[str, str]) -> Any:
    run = nr.import_nemo_run()
    if not nr.skypilot_available():
        raise ExecutorError(
            f"profile {profile.name!r} needs SkyPilot: pip install 'kit-run[skypilot]' "
            "(in an environment without kit-lineage[wandb]: their click pins conflict)"
        )
    code = packager(profile)
    if not isinstance(code, run.GitArchivePackager):
        raise RunConfigError(
            f"profile {profile.name!r}: SkyPilot ships code with `git archive` only; "
            "launch from inside a git repository"
        )
    return run.SkypilotExecutor(
        container_image=profile.container_image,
        cloud=profile.cloud,
        region=profile.region,
        gpus=profile.gpus,
        gpus_per_node=profile.gpus_per_node or None,
        instance_type=profile.instance_type,
        num_nodes=profile.nodes,
        use_spot=profile.use_spot,
        disk_size=profile.disk_size,
        cluster_name=profile.cluster_name,
        autodown=profile.autodown,
        setup="\n".join(profile.setup) or None,
        env_vars=env,
        launcher=launcher(profile),
        torchrun_nproc_per_node=profile.gpus_per_node or None,
        packager=code,
    )


def _lepton(profile: LeptonProfile, env: dict[str, str]) -> Any:
    run = nr.import_nemo_run()
    return run.LeptonExecutor(
        container_image=profile.container_image or "",
        nemo_run_dir=profile.nemo_run_dir,
        nodes=profile.nodes,
        gpus_per_node=profile.gpus_per_node,
        nprocs_per_node=profile.gpus_per_node or profile.ntasks_per_node,
        resource_shape=profile.resource_shape,
        node_group=profile.node_group,
        shared_memory_size=profile.shared_memory_size,
        mounts=[dict(m) for m in profile.mounts],
        pre_launch_commands=list(profile.setup),
        **_common(profile, env),
    )


def _dgxcloud(profile: DGXCloudProfile, env: dict[str, str]) -> Any:
    run = nr.import_nemo_run()
    secret = profile.client_secret or os.environ.get(profile.client_secret_env, "")
    return run.DGXCloudExecutor(
        base_url=profile.base_url,
        kube_apiserver_url=profile.kube_apiserver_url,
        client_id=profile.client_id,
        client_secret=secret,
        project_name=profile.project_name,
        container_image=profile.container_image or "",
        pvc_nemo_run_dir=profile.pvc_nemo_run_dir,
        nodes=profile.nodes,
        gpus_per_node=profile.gpus_per_node,
        nprocs_per_node=profile.gpus_per_node or profile.ntasks_per_node,
        pvcs=[dict(p) for p in profile.pvcs],
        **_common(profile, env),
    )


_EXECUTORS: dict[str, Any] = {
    "docker": _docker,
    "skypilot": _skypilot,
    "lepton": _lepton,
    "dgxcloud": _dgxcloud,
}


@contextlib.contextmanager
def _exported(variables: Mapping[str, str]) -> Iterator[None]:
    """Set variables in this process's environment for the duration (submitters inherit them)."""
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class NeMoRunBackend:
    """Docker, SkyPilot, Lepton and DGX Cloud jobs through a NeMo-Run experiment."""

    name = "nemo-run"
    schedules_dependencies = False
    arrays = False
    asks_scheduler = True

    def __init__(self) -> None:
        self._run: ExperimentRun | None = None

    def prepare(self, request: LaunchRequest, folder: Path) -> LaunchRequest:
        return request

    def executor(self, profile: Any, env: dict[str, str], detach: bool) -> Any:
        return _EXECUTORS[profile_kind(profile)](profile, env)

    def _configured(self, job: Job, request: LaunchRequest) -> Any:
        executor = self.executor(request.profile, request.plain_env, request.detach)
        job.record.executor_summary = executor_summary(executor)
        return executor

    def render(self, job: Job, request: LaunchRequest) -> str:
        self._run = ExperimentRun(job, request)
        self._run.start(self._configured(job, request), None)
        return self._run.rendered()

    def submit(self, job: Job, request: LaunchRequest) -> None:
        for dep in request.depends_on:  # no scheduler-side dependencies: wait here
            if dep.wait() != "SUCCEEDED":
                job._finish("FAILED", None, f"dependency {dep.id} ended {dep.state}")
                if request.check:
                    job.raise_for_state()
                return
        executor = self._configured(job, request)

        def go(exp: Any) -> None:
            with _exported(request.secret_env):
                exp.run(detach=False, tail_logs=False)

        run = self._run = ExperimentRun(job, request)
        run.start(executor, go)
        record = job.record
        handle = run.nr_job.handle
        record.handle = handle
        record.backend_id = handle.rsplit("/", 1)[-1] if handle else None
        task_dir = os.path.join(record.experiment_dir or "", record.name)
        record.log_files = [os.path.join(task_dir, "**", "combined.log")]
        write_atomic(job.folder / "submission.sh", shlex.join(record.command) + "\n")
        record.state = "SUBMITTED"
        save_record(record, job._root)
        if request.detach:
            run.close()

    def attach(self, job: Job, request: LaunchRequest) -> None:
        run = self._run
        assert run is not None
        try:
            follow_or_cancel(job, lambda: _follow(job, run.exp, request), request.echo)
        finally:
            run.close()

    def status(self, job: Job) -> str:
        return job.state  # the last state seen while attached

    def cancel(self, job: Job) -> bool:
        if job.record.handle:
            nr.cancel_app(job.record.handle)
        job._finish("CANCELLED", None, "cancelled by user")
        return True


def _follow(job: Job, exp: Any, request: LaunchRequest) -> None:
    """Stream the job's output until its torchx app ends; record how it ended."""
    follower = LogFollower(job.host, job.record.log_files)
    while True:
        state = nr.app_state(exp)
        done = state != "RUNNING"
        lines = follower.rest() if done else follower.new_lines()
        if request.echo is not None:
            for line in lines:
                request.echo(line)
        if done:
            message = "" if state == "SUCCEEDED" else (job.logs(tail=1) or "no output")
            job._finish(state, 0 if state == "SUCCEEDED" else None, message)
            return
        time.sleep(0.2)

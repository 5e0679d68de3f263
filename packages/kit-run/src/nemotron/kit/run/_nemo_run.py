"""The NeMo-Run adapter: the one module that imports `nemo_run` and touches its internals.

kit-run builds executors from NeMo-Run's public names (`run.SlurmExecutor(...)` on the module
`import_nemo_run()` returns). Everything else it needs from NeMo-Run is not public API: an
experiment's id, folder and runner, a job's dry-run request, the hook that ships files when a
job is prepared, the ssh tunnel's login, the Ray-on-Slurm request, rsync, the torchx runner,
the bookkeeping files of an experiment folder. Each is reached through a function here, and
`PRIVATE_NAMES` lists them so a test fails when a NeMo-Run upgrade moves or renames one.
No other kit-run module imports `nemo_run`.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "INSTANCE_NAMES",
    "PRIVATE_NAMES",
    "RUNDIR",
    "app_state",
    "cancel_app",
    "close",
    "describe_request",
    "drop_bookkeeping",
    "experiment",
    "experiment_ids",
    "import_nemo_run",
    "is_ssh_tunnel",
    "on_prepare",
    "quiet_io",
    "ray_logs",
    "rendered_request",
    "rsync",
    "set_login",
    "skypilot_available",
    "slurm_ray_script",
]

RUNDIR = "/nemo_run"
"""The job directory inside containers (`nemo_run.config.RUNDIR_NAME` as a path; kept as text so
importing kit-run stays light; the adapter test checks it)."""

PRIVATE_NAMES: tuple[tuple[str, str], ...] = (
    ("nemo_run.config", "RUNDIR_NAME"),
    ("nemo_run.run.experiment", "Experiment._CONFIG_FILE"),
    ("nemo_run.run.experiment", "Experiment._TASK_FILE"),
    ("nemo_run.run.experiment", "Experiment._VERSION_FILE"),
    ("nemo_run.run.job", "Job.prepare"),
    ("nemo_run.core.tunnel.client", "SSHTunnel._authenticate"),
    ("nemo_run.core.tunnel.rsync", "rsync"),
    ("nemo_run.core.execution.skypilot", "_SKYPILOT_AVAILABLE"),
    ("nemo_run.run.torchx_backend.runner", "get_runner"),
    ("nemo_run.run.ray.slurm", "SlurmRayRequest.materialize"),
)
"""(module, dotted attribute) of every non-public NeMo-Run name used here. Instance attributes
set in `__init__` are listed in `INSTANCE_NAMES` (checked on real instances by the test)."""

INSTANCE_NAMES: dict[str, tuple[str, ...]] = {
    "Experiment": ("_id", "_exp_dir", "_runner", "jobs"),
    "Job": ("_dryrun_info", "task", "executor", "handle"),
    "SSHTunnel": ("session", "auth_handler", "fallback_auth_handler", "job_dir"),
    "SlurmJobDetails": ("folder", "ray_log_prefix"),
}


def import_nemo_run() -> Any:
    """`import nemo_run` (about 2 s), silencing the deprecation warnings its imports emit."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import nemo_run

    return nemo_run


def _internal(module: str) -> Any:
    import_nemo_run()
    return importlib.import_module(module)


# ------------------------------------------------------------------------------ experiments
@contextlib.contextmanager
def quiet_io(log: io.StringIO) -> Iterator[None]:
    """NeMo-Run's console output into `log`; stdin closed (its shell helper reads stdin)."""
    saved = sys.stdin
    with (
        open(os.devnull) as devnull,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        sys.stdin = devnull
        try:
            yield
        finally:
            sys.stdin = saved


def experiment(name: str, executor: Any, command: list[str]) -> Any:
    """An entered NeMo-Run `Experiment` holding one job that runs `command` (call `close`)."""
    run = import_nemo_run()
    exp = run.Experiment(
        name,
        executor=executor,
        log_level="WARN",
        clean_mode=True,
        enable_goodbye_message=False,
        skip_status_at_exit=True,
    )
    exp.__enter__()
    entry, rest = command[0], command[1:]
    if rest[:1] == ["-m"]:
        script = run.Script(path=rest[1], args=rest[2:], entrypoint=entry, m=True)
    else:
        script = run.Script(path=rest[0], args=rest[1:], entrypoint=entry)
    exp.add(script, name=name)
    return exp


def close(exp: Any) -> None:
    """Leave an experiment entered by `experiment`."""
    exp.__exit__(None, None, None)


def experiment_ids(exp: Any) -> tuple[str, str]:
    """(experiment id, its folder on this machine)."""
    return str(exp._id), str(exp._exp_dir)


def on_prepare(nr_job: Any, before: Callable[[Any], None]) -> None:
    """Run `before(nr_job)` when NeMo-Run prepares the job, before it builds the command.

    NeMo-Run creates the experiment folder itself (and refuses an existing one); the job dir
    exists from `prepare` on, and the task's path and args are read after it.
    """
    prepare = nr_job.prepare

    def prepare_after(*args: Any, **kwargs: Any) -> Any:
        before(nr_job)
        return prepare(*args, **kwargs)

    nr_job.prepare = prepare_after


def rendered_request(nr_job: Any) -> tuple[Any, str | None]:
    """A dry-run job's request and its text: the materialized script when there is one
    (Slurm's sbatch), else None."""
    info = getattr(nr_job, "_dryrun_info", None)
    request = getattr(info, "request", None)
    if request is not None and hasattr(request, "materialize"):
        return info, str(request.materialize())
    return info, None


def describe_request(info: Any) -> str:
    """NeMo-Run's own rendering of a dry-run request, or the request itself where that breaks.

    NeMo-Run 0.11.1 formats SkyPilot requests with `sky.utils.common_utils.dump_yaml_str`,
    which no SkyPilot release it accepts still has.
    """
    try:
        return str(info)
    except AttributeError:
        return repr(info.request)


def app_state(exp: Any) -> str:
    """The torchx state of an experiment's job: SUCCEEDED, FAILED, CANCELLED or RUNNING."""
    from torchx.specs import AppState

    status = exp._runner.status(exp.jobs[0].handle)
    state = status.state if status else AppState.UNKNOWN
    names = {
        AppState.SUCCEEDED: "SUCCEEDED",
        AppState.FAILED: "FAILED",
        AppState.CANCELLED: "CANCELLED",
    }
    return names.get(state, "RUNNING")


def cancel_app(handle: str) -> None:
    """Cancel a torchx app (Docker, SkyPilot, ...) by its NeMo-Run handle."""
    runner = _internal("nemo_run.run.torchx_backend.runner").get_runner()
    with contextlib.suppress(Exception):
        runner.cancel(handle)


def drop_bookkeeping(tunnel: Any, task_dir: str) -> None:
    """Over an ssh tunnel, delete NeMo-Run's own bookkeeping from the cluster's job dir.

    NeMo-Run copies its whole experiment folder to the cluster: besides the job's files it holds
    the experiment's serialized config (`_CONFIG`, `_TASKS`, `configs/*_executor.yaml`) and a
    `__main__.py`, which name this machine's paths (its Python, `~/.nemo_run`). The job never
    reads them; NeMo-Run reads its local copy. Nothing of the submit host stays on the cluster.
    """
    if not is_ssh_tunnel(tunnel):
        return
    exp_cls = _internal("nemo_run.run.experiment").Experiment
    exp_dir = os.path.dirname(task_dir)
    names = [exp_cls._CONFIG_FILE, exp_cls._TASK_FILE, exp_cls._VERSION_FILE, "__main__.py"]
    paths = [os.path.join(exp_dir, n) for n in names]
    paths += [
        os.path.join(task_dir, "configs", f"*_{kind}.yaml") for kind in ("executor", "config")
    ]
    tunnel.run("rm -f " + " ".join(paths), warn=True)


# ---------------------------------------------------------------------------------- tunnels
def is_ssh_tunnel(tunnel: Any) -> bool:
    """True for NeMo-Run's SSHTunnel (False for its LocalTunnel)."""
    return isinstance(tunnel, import_nemo_run().SSHTunnel)


def set_login(tunnel: Any, login: Callable[[], None]) -> None:
    """Make `login()` how an SSHTunnel authenticates (an instance attribute, not a subclass:
    NeMo-Run serializes the tunnel by its class)."""
    tunnel._authenticate = login


def rsync(tunnel: Any, source: str, target: str, options: str) -> None:
    """NeMo-Run's rsync over a connected SSHTunnel's session."""
    _internal("nemo_run.core.tunnel.rsync").rsync(
        tunnel.session, source, target, rsync_opts=options
    )


# -------------------------------------------------------------------------- optional parts
def skypilot_available() -> bool:
    """Whether NeMo-Run found SkyPilot."""
    return bool(_internal("nemo_run.core.execution.skypilot")._SKYPILOT_AVAILABLE)


def slurm_ray_script(name: str, cluster_dir: str, executor: Any, command: str) -> str:
    """The sbatch script of NeMo-Run's Ray-on-Slurm template (`ray.sub.j2`) for `command`, run
    in `cluster_dir` on the head (see `ray_logs` for where it writes)."""
    request = _internal("nemo_run.run.ray.slurm").SlurmRayRequest(
        name=name,
        cluster_dir=cluster_dir,
        template_name="ray.sub.j2",
        executor=executor,
        command=command,
        workdir=cluster_dir,
        launch_cmd=["sbatch", "--parsable"],
    )
    return str(request.materialize())


def ray_logs(executor: Any) -> tuple[str, str]:
    """(log folder, log file prefix) of the Ray script last rendered for `executor`: the
    command's output is `<folder>/<prefix>job.log`, the head's `<prefix>head.log`."""
    details = executor.job_details
    return str(details.folder), str(details.ray_log_prefix)

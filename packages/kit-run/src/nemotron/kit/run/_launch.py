"""`launch()`: run a script or module on a profile, attached, detached or as a dry run."""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from nemotron.kit.artifacts.secrets import redact, redact_argv
from nemotron.kit.run._envfile import load_env
from nemotron.kit.run._executors import (
    build_executor,
    code_root,
    executor_summary,
    import_nemo_run,
    python_entrypoint,
    ships_job_code,
    split_secrets,
)
from nemotron.kit.run._hosts import tunnel_record
from nemotron.kit.run._job import Job, LogFollower, get_job
from nemotron.kit.run._jobcode import prepare_job_code, upload_job_code
from nemotron.kit.run._launchers import Launcher, for_launcher
from nemotron.kit.run._paths import jobs_dir
from nemotron.kit.run._profiles import (
    PROFILE_TYPES,
    BaseProfile,
    LocalProfile,
    Profile,
    SlurmProfile,
)
from nemotron.kit.run._records import (
    JobRecord,
    new_job_id,
    now,
    save_record,
    write_atomic,
    write_json,
)
from nemotron.kit.run._secretfile import secrets_for_job, secrets_path, source_line
from nemotron.kit.run._shared import shared_root
from nemotron.kit.run._shipping import (
    JobFile,
    drop_submit_side_files,
    placeholder,
    ship_into_job_dir,
    ship_ray,
    substitute,
)
from nemotron.kit.run.errors import ExecutorError, JobFailedError

_KIND = {cls: kind for kind, cls in PROFILE_TYPES.items()}


def resolve_profile(
    profile: str | BaseProfile | None, env_file: str | os.PathLike[str] | None = None
) -> Profile:
    """A profile object from a name (env.toml; `local` exists even without one) or None (default)."""
    if isinstance(profile, BaseProfile):
        return profile  # type: ignore[return-value]
    env = load_env(env_file)
    return env.profile(profile or env.default_profile)


def _command(profile: BaseProfile, target: str, args: Sequence[str]) -> tuple[list[str], bool, str]:
    """(command line, is_module, script path as the job sees it)."""
    is_module = not (target.endswith(".py") or os.sep in target or Path(target).is_file())
    path = target
    if not is_module:
        path = str(Path(target).resolve())
        kind, root = code_root(profile)
        if kind != "none" and root is not None and Path(path).is_relative_to(root):
            path = str(Path(path).relative_to(root))  # the job runs inside the shipped code
    python = python_entrypoint(profile)
    return [python, *(["-m"] if is_module else []), path, *args], is_module, path


def _spread(profile: BaseProfile, command: list[str]) -> list[str]:
    """Local multi-process without torchrun: run N copies with RANK/WORLD_SIZE set."""
    if (
        isinstance(profile, LocalProfile)
        and profile.ntasks_per_node > 1
        and profile.launcher != "torchrun"
        and profile.gpus_per_node <= 1
    ):
        return [
            sys.executable,
            "-m",
            "nemotron.kit.run._spread",
            str(profile.ntasks_per_node),
            "--",
            *command,
        ]
    return command


@contextlib.contextmanager
def _quiet_io(log: io.StringIO) -> Iterator[None]:
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


@contextlib.contextmanager
def _exported(variables: Mapping[str, str]) -> Iterator[None]:
    """Set variables in this process's environment for the duration (sbatch/Popen inherit them)."""
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


def launch(
    script_or_module: str,
    args: Sequence[str | JobFile] = (),
    env: Mapping[str, str] | None = None,
    profile: str | BaseProfile | None = None,
    *,
    detach: bool = False,
    dry_run: bool = False,
    config: Any = None,
    config_source: str | os.PathLike[str] | None = None,
    config_overrides: Sequence[str] = (),
    name: str | None = None,
    depends_on: Sequence[Job | str] = (),
    env_file: str | os.PathLike[str] | None = None,
    check: bool = True,
    echo: Callable[[str], Any] | None = print,
    array: str | None = None,
    launcher: Launcher | None = None,
) -> Job:
    """Run `script_or_module` with `args` and `env` on `profile`.

    Args:
        script_or_module: A `.py` path or a dotted module (`python -m`).
        args: Arguments for the script. A `JobFile` is shipped with the job (written into
            NeMo-Run's job directory, which reaches the cluster and containers) and stands for
            its job-side path; on a local profile, for the copy kept in the job record.
        env: Extra environment variables for the job (secrets go through the environment).
        profile: Profile name in env.toml or a profile object; None = `[cli] default_profile`
            or `local`.
        detach: Return as soon as the job is submitted (`--batch`).
        dry_run: Render what would be submitted (the sbatch script for Slurm) and submit nothing.
        config: The resolved config, saved (secrets masked) in the job record.
        config_source: The config file it came from (copied beside it).
        config_overrides: The override strings applied to it.
        name: Job name (default: the script's stem or module's last part).
        depends_on: Jobs (or ids) that must succeed first (Slurm `afterok`).
        env_file: env.toml path (default: discovery).
        check: Attached only: raise JobFailedError when the job fails.
        echo: Where attached output and dry-run text go (None = silent).
        array: Slurm only: submit a job array (sbatch `--array`, e.g. `0-3`); each task sees
            `SLURM_ARRAY_TASK_ID`, `status()` is the array's as a whole, `afterok` on it waits
            for every task.
        launcher: How the job's processes start, as the caller's program needs: `task` (one
            process), `torchrun` (nodes x GPUs) or `ray`; None keeps the profile's
            `launcher`/`ray` keys. See `nemotron.kit.run._launchers`.

    Returns:
        The `Job`; its record is under `.nemotron/jobs/<id>/`.
    """
    prof = for_launcher(resolve_profile(profile, env_file), launcher)
    kind = _KIND[type(prof)]
    if array is not None and not isinstance(prof, SlurmProfile):
        raise ExecutorError(f"profile {prof.name!r}: a job array needs a Slurm profile")
    name = name or Path(script_or_module).stem.split(".")[-1]
    job_id = new_job_id(name)
    root = jobs_dir()
    folder = root / job_id
    folder.mkdir(parents=True, exist_ok=True)

    all_env = {**prof.env_vars, **(env or {}), "NEMOTRON_RUN_ID": job_id}
    plain_env, secret_env = split_secrets(all_env)
    files = [JobFile(a.name, _mask(a.text, secret_env)) for a in args if isinstance(a, JobFile)]
    setup = _container_setup(prof, secret_env) if ships_job_code(prof) and prof.setup else None
    files += [setup] if setup is not None else []
    copies = {f.name: folder / "files" / f.name for f in files}
    local = isinstance(prof, LocalProfile)
    str_args = [
        (str(copies[a.name]) if local else placeholder(a)) if isinstance(a, JobFile) else a
        for a in args
    ]
    command, is_module, path = _command(prof, script_or_module, str_args)
    command = _spread(prof, command)
    if setup is not None:
        command = ["bash", placeholder(setup), *command]
    deps = [d if isinstance(d, Job) else get_job(d, root) for d in depends_on]

    record = JobRecord(
        id=job_id,
        name=name,
        profile=prof.name,
        executor=kind,
        command=command,
        launched_by=redact_argv(sys.argv, _masking_env(secret_env)),
        created_at=now(),
        detach=detach,
        dry_run=dry_run,
        depends_on=[d.id for d in deps],
        files={str(p): str(p) for p in copies.values()} if local else {},
    )
    for item in files:
        write_atomic(copies[item.name], item.text, mode=0o600)
    write_json(folder / "profile.json", redact(msgspec.to_builtins(prof), _masking_env(secret_env)))
    if config is not None:
        from nemotron.kit.config import save_resolved

        record.config_digest = save_resolved(
            config,
            folder,
            source=Path(config_source) if config_source else None,
            overrides=config_overrides,
            into_run=False,
            sync=False,  # like the record beside it: a job folder need not survive a crash
        )
    save_record(record, root)
    job = Job(record, root)

    if local:  # no NeMo-Run: a subprocess of ours (see _local.py)
        from nemotron.kit.run._local import run_local

        return run_local(
            job,
            command,
            plain_env,
            secret_env,
            deps,
            detach=detach,
            dry_run=dry_run,
            check=check,
            echo=echo,
        )
    return _submit(
        job,
        prof,
        command,
        is_module,
        path,
        plain_env,
        secret_env,
        deps,
        [] if local else files,
        detach=detach,
        dry_run=dry_run,
        check=check,
        echo=echo,
        array=array,
    )


def _container_setup(prof: BaseProfile, secret_env: Mapping[str, str]) -> JobFile:
    """The profile's `setup` lines as a script that then runs the command, in the container."""
    lines = ["#!/bin/bash", "# the profile's setup, run in the container before the job", "set -e"]
    text = "\n".join([*lines, *prof.setup, 'exec "$@"', ""])
    return JobFile("nemotron-setup.sh", _mask(text, secret_env))


def _script(command: list[str], is_module: bool, path: str) -> Any:
    run = import_nemo_run()

    entry, rest = command[0], command[1:]
    if rest[:1] == ["-m"]:
        return run.Script(path=rest[1], args=rest[2:], entrypoint=entry, m=True)
    del is_module, path
    return run.Script(path=rest[0], args=rest[1:], entrypoint=entry)


def _submit(
    job: Job,
    prof: Profile,
    command: list[str],
    is_module: bool,
    path: str,
    plain_env: dict[str, str],
    secret_env: dict[str, str],
    deps: list[Job],
    files: Sequence[JobFile] = (),
    *,
    detach: bool,
    dry_run: bool,
    check: bool,
    echo: Callable[[str], Any] | None,
    array: str | None = None,
) -> Job:
    run = import_nemo_run()

    record = job.record
    if not dry_run and not isinstance(prof, SlurmProfile):
        for dep in deps:  # no scheduler-side dependencies: wait here
            if dep.wait() != "SUCCEEDED":
                job._finish("FAILED", None, f"dependency {dep.id} ended {dep.state}")
                if check:
                    job.raise_for_state()
                return job
    job_code = None
    if ships_job_code(prof):
        assert isinstance(prof, SlurmProfile)
        job_code = prepare_job_code(prof.container_python)
        shared = shared_root(prof)
        shipped = job_code.job_env(shared)
        if plain_env.get("PYTHONPATH"):
            shipped["PYTHONPATH"] += ":" + plain_env["PYTHONPATH"]
        plain_env = {**plain_env, **shipped}
    executor = build_executor(prof, env=plain_env, detach=detach)
    secret_file = None
    if isinstance(prof, SlurmProfile) and secret_env:
        secret_file = secrets_path(prof, job.id)
        executor.setup_lines = "\n".join(
            filter(None, [source_line(secret_file), executor.setup_lines])
        )
    if isinstance(prof, SlurmProfile) and deps:
        executor.dependencies = [_dependency_handle(d) for d in deps]
        executor.dependency_type = "afterok"
    if array is not None:
        executor.array = array
    record.executor_summary = executor_summary(executor)
    if isinstance(prof, SlurmProfile):
        record.tunnel = tunnel_record(prof)
    if prof.ray and isinstance(prof, SlurmProfile):
        return _ray_slurm(job, executor, command, files, dry_run=dry_run, echo=echo)

    nemo_log = io.StringIO()
    exp: Any = None
    try:
        with _quiet_io(nemo_log):
            exp = run.Experiment(
                record.name,
                executor=executor,
                log_level="WARN",
                clean_mode=True,
                enable_goodbye_message=False,
                skip_status_at_exit=True,
            )
            exp.__enter__()
            exp.add(_script(command, is_module, path), name=record.name)
            _ship(job, exp.jobs[0], files)
            if dry_run:
                exp.dryrun(log=False)
            elif isinstance(prof, SlurmProfile):
                if job_code is not None:
                    upload_job_code(job_code, executor.tunnel, shared_root(prof))
                with (
                    secrets_for_job(executor.tunnel, secret_file, secret_env)
                    if secret_file
                    else contextlib.nullcontext()
                ):
                    exp.run(detach=True, tail_logs=False)
            else:
                with _exported(secret_env):
                    exp.run(detach=False, tail_logs=False)
    except Exception as err:
        _write_nemo_log(job, nemo_log, secret_env)
        job._finish("FAILED", None, f"submission failed: {err}")
        raise ExecutorError(
            f"job {job.id}: NeMo-Run could not {'render' if dry_run else 'submit'} it: {err}"
        ) from err
    _write_nemo_log(job, nemo_log, secret_env)

    nr_job = exp.jobs[0]
    record.experiment_id = exp._id
    record.experiment_dir = exp._exp_dir
    if dry_run:
        job.rendered = _render(nr_job, record.command, plain_env, secret_env)
        write_atomic(job.folder / "submission.sh", _mask(job.rendered, secret_env))
        job._finish("DRY_RUN", None, "dry run: nothing submitted")
        if echo is not None:
            echo(job.rendered)
        return job

    record.handle = nr_job.handle
    record.backend_id = nr_job.handle.rsplit("/", 1)[-1] if nr_job.handle else None
    if isinstance(prof, SlurmProfile):
        # The task's folder where the job runs (through an ssh tunnel: on the cluster).
        task_dir = os.path.join(nr_job.executor.tunnel.job_dir, Path(nr_job.executor.job_dir).name)
        # NeMo-Run: srun writes the command's output to log-<name>_<jobid>_<restart>.out;
        # sbatch_<name>_<jobid>.out holds the batch script's own `set -x` trace.
        # Each array task is its own Slurm job id: every log of this experiment is the job's.
        log_id = "*" if array is not None else record.backend_id
        record.log_files = [os.path.join(task_dir, f"log-*_{log_id}_*.out")]
        sched_id = f"{record.backend_id}_*" if array is not None else record.backend_id
        record.scheduler_log_files = [os.path.join(task_dir, f"sbatch_*_{sched_id}.out")]
        drop_submit_side_files(nr_job.executor.tunnel, task_dir)
        sbatch = os.path.join(exp._exp_dir, f"{record.name}_sbatch.sh")
        if os.path.isfile(sbatch):
            write_atomic(job.folder / "submission.sh", _mask(Path(sbatch).read_text(), secret_env))
    else:
        task_dir = os.path.join(exp._exp_dir, record.name)
        record.log_files = [os.path.join(task_dir, "**", "combined.log")]
        write_atomic(job.folder / "submission.sh", shlex.join(record.command) + "\n")
    record.state = "SUBMITTED"
    save_record(record, job._root)

    if detach:
        with _quiet_io(nemo_log):
            exp.__exit__(None, None, None)
        return job
    return _attach(job, exp, nemo_log, secret_env, check=check, echo=echo)


def _dependency_handle(dep: Job) -> str:
    """The Slurm handle `afterok` names; a dry-run job's stands for the id sbatch would give."""
    if dep.record.handle:
        return dep.record.handle
    return f"slurm_tunnel://nemo_run/<{dep.record.name}>"


def _ship(job: Job, nr_job: Any, files: Sequence[JobFile]) -> None:
    """Ship `files` when NeMo-Run prepares the job (its job dir exists from then on).

    NeMo-Run creates the experiment folder itself (and refuses an existing one), so the files
    are written as the first step of the job's `prepare`, which then builds the command from
    the task's arguments: the placeholders are replaced by the job-side paths there.
    """
    if not files:
        return
    prepare = nr_job.prepare

    def prepare_and_ship(*args: Any, **kwargs: Any) -> Any:
        nr_job.executor.create_job_dir()
        paths = ship_into_job_dir(nr_job.executor, files)
        nr_job.task.path = paths.get(nr_job.task.path, nr_job.task.path)
        nr_job.task.args = substitute(nr_job.task.args, paths)
        record = job.record
        record.command = substitute(record.command, paths)
        record.files = {paths[placeholder(f)]: str(job.folder / "files" / f.name) for f in files}
        return prepare(*args, **kwargs)

    nr_job.prepare = prepare_and_ship


def _attach(
    job: Job,
    exp: Any,
    nemo_log: io.StringIO,
    secret_env: dict[str, str],
    *,
    check: bool,
    echo: Callable[[str], Any] | None,
) -> Job:
    """Stream output until the job ends; Ctrl-C asks, then cancels."""
    local = job.record.executor != "slurm"
    try:
        if local:
            _wait_local(job, exp, echo)
        else:
            job.wait(poll=1.0, on_output=echo)
    except KeyboardInterrupt:
        if _confirm_cancel(job):
            job.cancel()
            if local:
                _cancel_local(exp)
        else:
            if echo is not None:
                echo(f"job {job.id} keeps running; `nemotron jobs logs {job.id}` follows it")
            raise
    finally:
        with _quiet_io(nemo_log):
            exp.__exit__(None, None, None)
        _write_nemo_log(job, nemo_log, secret_env)
    if check:
        job.raise_for_state()
    return job


def _wait_local(job: Job, exp: Any, echo: Callable[[str], Any] | None) -> None:
    import time

    from torchx.specs import AppState

    runner, handle = exp._runner, exp.jobs[0].handle
    follower = LogFollower(job.host, job.record.log_files)
    while True:
        status = runner.status(handle)
        state = status.state if status else AppState.UNKNOWN
        done = state in (AppState.SUCCEEDED, AppState.FAILED, AppState.CANCELLED)
        lines = follower.rest() if done else follower.new_lines()
        if echo is not None:
            for line in lines:
                echo(line)
        if done:
            mapped = {
                AppState.SUCCEEDED: "SUCCEEDED",
                AppState.FAILED: "FAILED",
                AppState.CANCELLED: "CANCELLED",
            }[state]
            message = "" if mapped == "SUCCEEDED" else (job.logs(tail=1) or "no output")
            job._finish(mapped, 0 if mapped == "SUCCEEDED" else None, message)
            return
        time.sleep(0.2)


def _cancel_local(exp: Any) -> None:
    with contextlib.suppress(Exception):
        exp._runner.cancel(exp.jobs[0].handle)


def _confirm_cancel(job: Job) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return True
    try:
        answer = input(f"\ncancel job {job.id}? [Y/n] ").strip().lower()
    except (EOFError, KeyboardInterrupt):
        return True
    return answer in ("", "y", "yes")


def _write_nemo_log(job: Job, buffer: io.StringIO, secret_env: dict[str, str]) -> None:
    text = buffer.getvalue()
    if text.strip():
        write_atomic(job.folder / "nemo_run.log", _mask(text, secret_env))


def _masking_env(secret_env: Mapping[str, str]) -> dict[str, str]:
    """Variables whose secret values must not be written: the caller's and the job's."""
    return {**os.environ, **secret_env}


def _mask(text: str, secret_env: Mapping[str, str]) -> str:
    return str(redact(text, _masking_env(secret_env)))


def _render(
    nr_job: Any, command: list[str], plain_env: dict[str, str], secret_env: dict[str, str]
) -> str:
    """Exactly what NeMo-Run would submit: the sbatch script, or the command and environment."""
    info = getattr(nr_job, "_dryrun_info", None)
    request = getattr(info, "request", None)
    if request is not None and hasattr(request, "materialize"):
        return str(request.materialize())
    lines = [f"# {type(nr_job.executor).__name__} would run:"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(plain_env.items())]
    lines += [f"# {k} is passed through the environment (secret)" for k in sorted(secret_env)]
    lines.append(shlex.join(command))
    if info is not None:
        lines += [
            "",
            "# NeMo-Run request:",
            *(f"# {line}" for line in _describe(info).splitlines()),
        ]
    return "\n".join(lines) + "\n"


def _describe(info: Any) -> str:
    """NeMo-Run's own rendering of a dry-run request, or the request itself where that breaks.

    NeMo-Run 0.11.1 formats SkyPilot requests with `sky.utils.common_utils.dump_yaml_str`,
    which no SkyPilot release it accepts still has.
    """
    try:
        return str(info)
    except AttributeError:
        return repr(info.request)


def _ray_slurm(
    job: Job,
    executor: Any,
    command: list[str],
    files: Sequence[JobFile],
    *,
    dry_run: bool,
    echo: Callable[[str], Any] | None,
) -> Job:
    """A Ray cluster on Slurm (NeMo-Run's RayJob); the command runs on the head node."""
    from nemo_run.run.ray.slurm import SlurmRayRequest

    record = job.record
    cluster_dir = os.path.join(executor.tunnel.job_dir or str(job.folder), record.id)
    paths = ship_ray(executor.tunnel, cluster_dir, files, upload=not dry_run)
    command = substitute(command, paths)
    record.command = substitute(record.command, paths)
    record.files = {paths[placeholder(f)]: str(job.folder / "files" / f.name) for f in files}
    request = SlurmRayRequest(
        name=record.id,
        cluster_dir=cluster_dir,
        template_name="ray.sub.j2",
        executor=executor,
        command=shlex.join(command),
        workdir=None,
        launch_cmd=["sbatch", "--requeue", "--parsable", "--dependency=singleton"],
    )
    script = request.materialize()
    write_atomic(job.folder / "submission.sh", script)
    if dry_run:
        job.rendered = script
        job._finish("DRY_RUN", None, "dry run: nothing submitted")
        if echo is not None:
            echo(script)
        return job
    from nemo_run.run.ray.job import RayJob

    ray_job = RayJob(name=record.id, executor=executor)
    ray_job.start(command=shlex.join(command), workdir="")
    record.backend_id = str(getattr(ray_job.backend, "job_id", "") or "") or None
    record.state = "SUBMITTED"
    save_record(record, job._root)
    return job


__all__ = ["JobFailedError", "JobFile", "launch", "resolve_profile"]

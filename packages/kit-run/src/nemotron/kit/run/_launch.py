"""`launch()`: run a script or module on a profile, attached, detached or as a dry run.

`launch` decides everything about the job once (profile with the stage's launcher applied,
command, environment split into plain and secret, shipped files, dependencies) as a
`LaunchRequest`, writes the job record, and hands the request to the profile's backend
(`nemotron.kit.run._backends`): `render` for a dry run, else `submit` and, attached, `attach`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec

from nemotron.kit.artifacts.secrets import redact, redact_argv
from nemotron.kit.run._backends import backend_for
from nemotron.kit.run._envfile import load_env
from nemotron.kit.run._executors import code_root, split_secrets
from nemotron.kit.run._job import Job, get_job
from nemotron.kit.run._launchers import Launcher, for_launcher
from nemotron.kit.run._paths import jobs_dir
from nemotron.kit.run._profiles import BaseProfile, Profile, profile_kind
from nemotron.kit.run._records import (
    TERMINAL_STATES,
    JobRecord,
    new_job_id,
    now,
    save_record,
    write_atomic,
    write_json,
)
from nemotron.kit.run._request import LaunchRequest
from nemotron.kit.run._shipping import JobFile, placeholder
from nemotron.kit.run.errors import ExecutorError, JobFailedError


def resolve_profile(
    profile: str | BaseProfile | None, env_file: str | os.PathLike[str] | None = None
) -> Profile:
    """A profile object from a name (env.toml; `local` exists even without one) or None (default)."""
    if isinstance(profile, BaseProfile):
        return profile  # type: ignore[return-value]
    env = load_env(env_file)
    return env.profile(profile or env.default_profile)


def _command(profile: BaseProfile, target: str, args: Sequence[str]) -> list[str]:
    """`python [-m] TARGET ARGS`; a script inside the shipped code as the job sees it."""
    is_module = not (target.endswith(".py") or os.sep in target or Path(target).is_file())
    path = target
    if not is_module:
        path = str(Path(target).resolve())
        kind, root = code_root(profile)
        if kind != "none" and root is not None and Path(path).is_relative_to(root):
            path = str(Path(path).relative_to(root))  # the job runs inside the shipped code
    return ["python", *(["-m"] if is_module else []), path, *args]


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
    backend = backend_for(prof)
    if array is not None and not backend.arrays:
        raise ExecutorError(f"profile {prof.name!r}: a job array needs a Slurm profile")
    name = name or Path(script_or_module).stem.split(".")[-1]
    job_id = new_job_id(name)
    root = jobs_dir()
    folder = root / job_id
    folder.mkdir(parents=True, exist_ok=True)

    plain_env, secret_env = split_secrets(
        {**prof.env_vars, **(env or {}), "NEMOTRON_RUN_ID": job_id}
    )
    shipped = [a for a in args if isinstance(a, JobFile)]
    request = LaunchRequest(
        prof,
        _command(
            prof, script_or_module, [placeholder(a) if isinstance(a, JobFile) else a for a in args]
        ),
        plain_env,
        secret_env,
        depends_on=tuple(d if isinstance(d, Job) else get_job(d, root) for d in depends_on),
        detach=detach,
        check=check,
        echo=echo,
        array=array,
    )
    masked = tuple(JobFile(f.name, request.mask(f.text)) for f in shipped)
    request = backend.prepare(replace(request, files=masked), folder)

    record = JobRecord(
        id=job_id,
        name=name,
        profile=prof.name,
        executor=profile_kind(prof),
        command=list(request.command),
        launched_by=redact_argv(sys.argv, request.masking_env),
        created_at=now(),
        detach=detach,
        dry_run=dry_run,
        depends_on=[d.id for d in request.depends_on],
    )
    for item in request.files:
        write_atomic(folder / "files" / item.name, item.text, mode=0o600)
    write_json(folder / "profile.json", redact(msgspec.to_builtins(prof), request.masking_env))
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

    if dry_run:
        job.rendered = backend.render(job, request)
        write_atomic(job.folder / "submission.sh", request.mask(job.rendered))
        job._finish("DRY_RUN", None, "dry run: nothing submitted")
        if echo is not None:
            echo(job.rendered)
        return job
    backend.submit(job, request)
    if detach or job.state in TERMINAL_STATES:
        return job
    backend.attach(job, request)
    if check:
        job.raise_for_state()
    return job


__all__ = ["JobFailedError", "JobFile", "launch", "resolve_profile"]

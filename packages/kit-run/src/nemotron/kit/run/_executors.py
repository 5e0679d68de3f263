"""Profile -> NeMo-Run executor. `nemo_run` is imported here, inside the functions only."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nemotron.kit.artifacts.secrets import is_secret_key
from nemotron.kit.run._hosts import ssh_tunnel, tunnel_record
from nemotron.kit.run._profiles import (
    BaseProfile,
    DGXCloudProfile,
    DockerProfile,
    LeptonProfile,
    LocalProfile,
    Profile,
    SkypilotProfile,
    SlurmProfile,
)
from nemotron.kit.run._shared import job_env, job_mounts
from nemotron.kit.run.errors import ExecutorError, ProfileValueError, RunConfigError

if TYPE_CHECKING:
    import nemo_run


def import_nemo_run() -> Any:
    """`import nemo_run` (about 2 s), silencing the deprecation warnings its imports emit."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import nemo_run

    return nemo_run


def git_toplevel(folder: Path) -> Path | None:
    """The git work tree holding `folder`, or None outside a repository."""
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def _has_commit(top: Path) -> bool:
    proc = subprocess.run(
        ["git", "-C", str(top), "rev-parse", "--verify", "--quiet", "HEAD"],
        capture_output=True,
        check=False,
        timeout=10,
    )
    return proc.returncode == 0


def ships_job_code(profile: BaseProfile) -> bool:
    """True where kit-run ships our code itself: Slurm jobs in a container (see `_jobcode`)."""
    return isinstance(profile, SlurmProfile) and bool(profile.container_image)


def code_root(profile: BaseProfile, cwd: Path | None = None) -> tuple[str, Path | None]:
    """(packager kind, folder whose code the packager ships) for `profile` from `cwd`.

    `auto` never ships the current directory's repository to a container job on Slurm (its
    code goes as built wheels), nor archives a repository without commits.
    """
    cwd = cwd or Path.cwd()
    kind = profile.packager
    if kind == "auto" and ships_job_code(profile):
        return "none", None
    top = git_toplevel(cwd) if kind in ("auto", "git") else None
    if kind == "git" and top is None:
        raise ProfileValueError(
            profile.name, "packager", None, f"'git' needs a git repository; {cwd} is not in one"
        )
    if kind == "git" and top is not None and not _has_commit(top):
        raise ProfileValueError(
            profile.name, "packager", None, f"'git' ships HEAD; {top} has no commit yet"
        )
    if kind == "auto" and top is not None and not _has_commit(top):
        top = None
    if kind in ("auto", "git") and top is not None:
        return "git", top
    if kind == "pattern" or (kind == "auto" and profile.package_patterns):
        return "pattern", cwd
    return "none", None


def _packager(profile: BaseProfile) -> nemo_run.Packager:
    run = import_nemo_run()

    kind, root = code_root(profile)
    if kind == "git":
        return run.GitArchivePackager(basepath=str(root))
    if kind == "pattern":
        assert root is not None
        patterns = profile.package_patterns or ["*.py"]
        return run.PatternPackager(
            include_pattern=[str(root / p) for p in patterns],
            relative_path=[str(root)] * len(patterns),
        )
    return run.Packager()


def _launcher(profile: BaseProfile) -> Any:
    run = import_nemo_run()

    if profile.launcher == "torchrun" or (profile.launcher == "auto" and profile.gpus_per_node > 1):
        return run.Torchrun()
    return None


def split_secrets(env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split `env` into (plain, secret) variables; secrets reach jobs only via the environment."""
    plain = {k: v for k, v in env.items() if not is_secret_key(k)}
    secret = {k: v for k, v in env.items() if is_secret_key(k)}
    return plain, secret


def plain_env(profile: BaseProfile, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The profile's (and `extra`) variables without secrets: those go through the environment."""
    plain, _ = split_secrets({**profile.env_vars, **(extra or {})})
    return plain


def build_executor(
    profile: Profile, *, env: dict[str, str] | None = None, detach: bool = False
) -> Any:
    """Build the NeMo-Run executor for `profile`.

    Args:
        profile: A profile from `load_env_profile`.
        env: Extra variables for the job (secret-named ones are left out; `launch` passes them
            through the submitting process's environment).
        detach: Pick the Slurm `batch_partition` instead of `run_partition`.

    Returns:
        A `nemo_run` executor (`LocalExecutor`, `SlurmExecutor`, ...).
    """
    run = import_nemo_run()

    env_vars = plain_env(profile, env)
    launcher = _launcher(profile)
    if isinstance(profile, LocalProfile):
        return run.LocalExecutor(
            ntasks_per_node=profile.gpus_per_node if launcher else profile.ntasks_per_node,
            nodes=1,
            env_vars=env_vars,
            launcher=launcher,
            packager=run.Packager(),
        )
    if isinstance(profile, SlurmProfile):
        return _slurm(profile, env_vars, launcher, detach)
    if isinstance(profile, DockerProfile):
        return run.DockerExecutor(
            container_image=profile.container_image or "",
            num_gpus=profile.gpus_per_node or None,
            ntasks_per_node=profile.ntasks_per_node,
            runtime=profile.runtime,
            shm_size=profile.shm_size,
            ipc_mode=profile.ipc_mode,
            volumes=list(profile.container_mounts),
            env_vars=env_vars,
            launcher=launcher,
            packager=_packager(profile),
            **({"network": profile.network} if profile.network else {}),
        )
    if isinstance(profile, SkypilotProfile):
        from nemo_run.core.execution import skypilot

        if not skypilot._SKYPILOT_AVAILABLE:
            raise ExecutorError(
                f"profile {profile.name!r} needs SkyPilot: pip install 'kit-run[skypilot]' "
                "(in an environment without kit-lineage[wandb]: their click pins conflict)"
            )
        packager = _packager(profile)
        if not isinstance(packager, run.GitArchivePackager):
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
            env_vars=env_vars,
            launcher=launcher,
            torchrun_nproc_per_node=profile.gpus_per_node or None,
            packager=packager,
        )
    if isinstance(profile, LeptonProfile):
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
            env_vars=env_vars,
            launcher=launcher,
            packager=_packager(profile),
        )
    if isinstance(profile, DGXCloudProfile):
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
            env_vars=env_vars,
            launcher=launcher,
            packager=_packager(profile),
        )
    raise ExecutorError(
        f"no executor for profile type {type(profile).__name__}"
    )  # pragma: no cover


def _slurm(profile: SlurmProfile, env_vars: dict[str, str], launcher: Any, detach: bool) -> Any:
    run = import_nemo_run()

    if profile.tunnel == "ssh":
        tunnel: Any = ssh_tunnel(tunnel_record(profile))
    else:
        tunnel = run.LocalTunnel(job_dir="")  # job_dir "" = the local experiments folder
    partition = (profile.batch_partition if detach else profile.run_partition) or profile.partition
    packager = _packager(profile)
    env_vars = {**job_env(profile), **env_vars}
    if profile.tunnel == "local" and type(packager) is run.Packager and not profile.container_image:
        # Nothing is copied: the job imports the code where it is.
        env_vars = {
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")])
            ),
            **env_vars,
        }
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
        # in a container, the profile's setup runs in it, before the command (see launch)
        setup_lines=None if profile.container_image else "\n".join(profile.setup) or None,
        env_vars=env_vars,
        tunnel=tunnel,
        packager=packager,
        launcher=launcher,
        torchrun_nproc_per_node=profile.gpus_per_node if launcher else None,
        poll_estimated_start_time=False,
    )


def executor_summary(executor: Any) -> dict[str, Any]:
    """A small JSON-able description of an executor (secrets never included)."""
    keys = (
        "account",
        "partition",
        "nodes",
        "ntasks_per_node",
        "gpus_per_node",
        "time",
        "mem",
        "container_image",
        "num_nodes",
        "nprocs_per_node",
        "cloud",
        "gpus",
        "num_gpus",
    )
    summary: dict[str, Any] = {"type": type(executor).__name__}
    summary |= {
        k: getattr(executor, k) for k in keys if getattr(executor, k, None) not in (None, "", [])
    }
    summary["env_vars"] = sorted(getattr(executor, "env_vars", {}))
    summary["packager"] = type(executor.packager).__name__
    launcher = getattr(executor, "launcher", None)
    summary["launcher"] = type(launcher).__name__ if launcher is not None else None
    tunnel = getattr(executor, "tunnel", None)
    if tunnel is not None:
        summary["tunnel"] = type(tunnel).__name__
    return summary


def python_entrypoint(profile: BaseProfile) -> str:
    """The Python the job runs: this interpreter where the job runs on this machine."""
    on_this_machine = isinstance(profile, LocalProfile) or (
        isinstance(profile, SlurmProfile)
        and profile.tunnel == "local"
        and not profile.container_image
    )
    return sys.executable if on_this_machine else "python"

"""The pieces every backend's NeMo-Run executor shares: the packager that ships the code, the
launcher (torchrun), secrets kept out of it, a summary for the job record. Each backend builds its
own executor kind (`nemotron.kit.run._backends`, `build_executor`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nemotron.kit.artifacts.secrets import is_secret_key
from nemotron.kit.run._nemo_run import import_nemo_run
from nemotron.kit.run._profiles import BaseProfile, SlurmProfile
from nemotron.kit.run.errors import ProfileValueError

__all__ = [
    "code_root",
    "executor_summary",
    "launcher",
    "packager",
    "plain_env",
    "ships_job_code",
    "split_secrets",
]


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


def packager(profile: BaseProfile) -> Any:
    """The NeMo-Run packager that ships the job's code (see `code_root`)."""
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


def launcher(profile: BaseProfile) -> Any:
    """NeMo-Run's Torchrun when the profile asks for it (or has more than one GPU), else None."""
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

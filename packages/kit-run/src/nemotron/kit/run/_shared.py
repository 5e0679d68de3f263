"""Where a Slurm profile's jobs keep things: the cluster's shared filesystem (Lustre).

Compute nodes see the shared filesystem, and a container only what is mounted into it. A Slurm
profile names one folder there (`shared_root`, default `remote_job_dir`); container jobs get it
mounted at the same path, and it holds the registry (unless `artifacts_root` puts it elsewhere,
which is then mounted too), the outputs (`NEMOTRON_DATA_DIR` for data, `NEMOTRON_OUTPUT_DIR` for
training outputs and checkpoints: a resubmitted job finds its checkpoints), `HF_HOME` and the job's code
(`.nemotron/`). The laptop uses the same registry root for the profile, so paths recorded by a
job are valid in the next job and on the laptop where the filesystem is mounted.
"""

from __future__ import annotations

import os

from nemotron.kit.run._profiles import BaseProfile, SlurmProfile

__all__ = ["job_env", "job_mounts", "registry_root", "shared_root"]


def shared_root(profile: SlurmProfile) -> str:
    """The profile's folder on the shared filesystem.

    Default: `remote_job_dir` over ssh; with the local tunnel, NeMo-Run's home (where it puts
    the job dirs, which compute nodes must therefore see).
    """
    root = profile.shared_root or (profile.remote_job_dir if profile.tunnel == "ssh" else None)
    root = root or os.environ.get("NEMORUN_HOME") or os.path.expanduser("~/.nemo_run")
    return root.rstrip("/") or "/"


def registry_root(profile: BaseProfile) -> str | None:
    """The registry the profile's jobs publish to, and this machine reads for the profile.

    `artifacts_root` (or env.toml's `[artifacts] root`); else over ssh `<shared_root>/artifacts`;
    else (the local tunnel: this machine is the login node) this machine's registry, which a
    container job then gets mounted. None: no Slurm profile, nothing to change.
    """
    if not isinstance(profile, SlurmProfile):
        return None
    if profile.artifacts_root:
        return profile.artifacts_root
    if profile.tunnel == "ssh":
        return f"{shared_root(profile)}/artifacts"
    if profile.container_image:
        from nemotron.kit.artifacts import default_root

        return default_root()
    return None


def job_env(profile: SlurmProfile) -> dict[str, str]:
    """Variables pointing the job at the shared filesystem (registry, outputs, HF cache)."""
    env = {}
    registry = registry_root(profile)
    if registry:
        env["NEMOTRON_ARTIFACTS_ROOT"] = registry
    if profile.container_image:
        root = shared_root(profile)
        env |= {
            "NEMOTRON_DATA_DIR": f"{root}/data",  # data prep outputs
            "NEMOTRON_OUTPUT_DIR": f"{root}/output",  # training outputs and checkpoints
            "HF_HOME": f"{root}/hf",
        }
    return env


def job_mounts(profile: SlurmProfile) -> list[str]:
    """The container mounts: the profile's own, the shared root and the registry root."""
    mounts = list(profile.container_mounts)
    if not profile.container_image:
        return mounts
    wanted = [shared_root(profile)]
    registry = registry_root(profile)
    if registry and "://" not in registry:
        wanted.append(registry)
    declared = [m.split(":")[1] if ":" in m else m for m in mounts]
    for path in wanted:
        if not any(f"{path}/".startswith(f"{d.rstrip('/')}/") for d in declared):
            mounts.append(f"{path}:{path}")
            declared.append(path)
    return mounts

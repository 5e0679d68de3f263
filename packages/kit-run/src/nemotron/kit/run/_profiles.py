"""Typed execution profiles, one msgspec Struct per NeMo-Run executor kind.

A profile is an env.toml table with `executor = "<kind>"` (default `local`). Fields shared by
every kind live on `BaseProfile`; each kind adds its own. Unknown keys are rejected.
"""

from __future__ import annotations

from typing import Literal

import msgspec

ExecutorKind = Literal["local", "slurm", "docker", "skypilot", "lepton", "dgxcloud"]
EXECUTOR_KINDS: tuple[str, ...] = ("local", "slurm", "docker", "skypilot", "lepton", "dgxcloud")


class BaseProfile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields every executor kind accepts."""

    name: str = ""
    """Profile name (the env.toml table it came from)."""
    description: str = ""
    """Free text shown by `nemotron env list`."""
    env_vars: dict[str, str] = {}
    """Variables set for the job (secret-named ones travel via the environment only)."""
    setup: list[str] = []
    """Shell commands run before the job's command."""
    nodes: int = 1
    """Number of nodes."""
    ntasks_per_node: int = 1
    """Processes per node."""
    gpus_per_node: int = 0
    """GPUs per node; above 1 (or with launcher=torchrun) the script runs under torchrun."""
    launcher: Literal["auto", "torchrun", "none"] = "auto"
    """`auto`: torchrun when gpus_per_node > 1, else plain processes."""
    packager: Literal["auto", "git", "pattern", "none"] = "auto"
    """How code reaches the job: `auto` = git archive inside a git repo, else pattern."""
    package_patterns: list[str] = []
    """Globs for the pattern packager (default: `*.py` files and configs of the cwd)."""
    ray: bool = False
    """Request a Ray cluster (NeMo-Run's Ray support) for data prep / RL."""
    container_image: str | None = None
    """Container image (pyxis on Slurm; required for docker/lepton/dgxcloud)."""
    container_mounts: list[str] = []
    """`host:container` mounts."""


class LocalProfile(BaseProfile, tag="local", tag_field="executor"):
    """Run on this machine (NeMo-Run LocalExecutor)."""


class SlurmProfile(BaseProfile, tag="slurm", tag_field="executor"):
    """Submit with sbatch (NeMo-Run SlurmExecutor)."""

    account: str | None = None
    partition: str | None = None
    run_partition: str | None = None
    """Partition for attached (`--run`) jobs; defaults to `partition`."""
    batch_partition: str | None = None
    """Partition for detached (`--batch`) jobs; defaults to `partition`."""
    time: str = "04:00:00"
    cpus_per_task: int | None = None
    mem: str | None = None
    exclusive: bool = False
    qos: str | None = None
    gres: str | None = None
    constraint: str | None = None
    job_name_prefix: str = "nemotron."
    srun_args: list[str] = []
    tunnel: Literal["local", "ssh"] = "local"
    """`local`: sbatch runs on this machine; `ssh`: on `host` through SSH."""
    host: str | None = None
    """SSH host (or a `Host` alias of ~/.ssh/config)."""
    port: int | None = None
    """SSH port (default: ~/.ssh/config's, else 22)."""
    user: str | None = None
    """SSH user (default: yours here)."""
    identity: str | None = None
    """Private key file; default: the ssh agent's and ~/.ssh's keys."""
    remote_job_dir: str | None = None
    """Where job files go on the cluster (ssh tunnel)."""
    known_hosts: str | None = None
    """File holding the login node's host key (default: ~/.ssh/known_hosts and
    /etc/ssh/ssh_known_hosts); an unknown or changed key stops the connection."""
    shared_root: str | None = None
    """Folder on the shared filesystem that login and compute nodes see at the same path
    (default: `remote_job_dir` over ssh, NeMo-Run's home with the local tunnel). Container jobs get it mounted; it holds the registry (unless
    `artifacts_root`), outputs (`NEMOTRON_DATA_DIR`), `HF_HOME` and the job's code."""
    artifacts_root: str | None = None
    """This profile's registry root, used by its jobs and by this machine for it (default:
    `[artifacts] root`, else `<shared_root>/artifacts` for container jobs)."""
    container_python: str | None = None
    """The image's Python as `major.minor` (default: this interpreter's); the job's
    dependencies are installed for it."""


class DockerProfile(BaseProfile, tag="docker", tag_field="executor"):
    """Run in a local Docker container (NeMo-Run DockerExecutor)."""

    runtime: str | None = None
    shm_size: str | None = None
    ipc_mode: str | None = None
    network: str | None = None


class SkypilotProfile(BaseProfile, tag="skypilot", tag_field="executor"):
    """Run on a cloud VM through SkyPilot (NeMo-Run SkypilotExecutor)."""

    cloud: str | None = None
    region: str | None = None
    gpus: str | None = None
    """Accelerator name, e.g. `H100`."""
    instance_type: str | None = None
    use_spot: bool | None = None
    disk_size: int | None = None
    cluster_name: str | None = None
    autodown: bool = False


class LeptonProfile(BaseProfile, tag="lepton", tag_field="executor"):
    """Run on DGX Cloud Lepton (NeMo-Run LeptonExecutor)."""

    nemo_run_dir: str = "/nemo-workspace/nemo_run"
    resource_shape: str = ""
    node_group: str = ""
    shared_memory_size: int = 65536
    mounts: list[dict[str, str]] = []


class DGXCloudProfile(BaseProfile, tag="dgxcloud", tag_field="executor"):
    """Run on DGX Cloud (Run:ai) (NeMo-Run DGXCloudExecutor)."""

    base_url: str
    kube_apiserver_url: str
    project_name: str
    pvc_nemo_run_dir: str
    client_id: str = ""
    client_secret: str = ""
    """Prefer `client_secret_env`: the variable holding the secret."""
    client_secret_env: str = "DGXC_CLIENT_SECRET"
    pvcs: list[dict[str, str]] = []


Profile = (
    LocalProfile | SlurmProfile | DockerProfile | SkypilotProfile | LeptonProfile | DGXCloudProfile
)
PROFILE_TYPES: dict[str, type[BaseProfile]] = {
    "local": LocalProfile,
    "slurm": SlurmProfile,
    "docker": DockerProfile,
    "skypilot": SkypilotProfile,
    "lepton": LeptonProfile,
    "dgxcloud": DGXCloudProfile,
}


class ArtifactsSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The `[artifacts]` table."""

    root: str | None = None
    """Registry root (a folder or fsspec URL); default `$NEMOTRON_ARTIFACTS_ROOT`."""


class CliSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The `[cli]` table."""

    default_profile: str | None = None
    """Profile used by `--run`/`--batch` without a name."""


SETTINGS_TABLES: dict[str, type[msgspec.Struct]] = {
    "artifacts": ArtifactsSettings,
    "cli": CliSettings,
}
FOREIGN_TABLES = ("wandb",)
"""Settings tables whose schema another package owns: `[wandb]` is kit-lineage's
(`WandbSettings`); kit-run only keeps them apart from the profiles and hands them over as read."""
SPECIAL_TABLES = (*SETTINGS_TABLES, *FOREIGN_TABLES)


def profile_kind(profile: BaseProfile) -> str:
    """The executor kind of a profile (`local`, `slurm`, ...): its env.toml `executor` value."""
    tag = type(profile).__struct_config__.tag
    return str(tag) if tag is not None else "local"


def field_names(cls: type[msgspec.Struct]) -> list[str]:
    """Keys a table of this type accepts."""
    return list(cls.__struct_fields__)

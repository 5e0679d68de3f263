"""env.toml profiles -> NeMo-Run executors; launching jobs and their records.

    from nemotron.kit.run import load_env_profile, build_executor, launch

    profile = load_env_profile("cluster")              # typed SlurmProfile from env.toml
    executor = build_executor(profile)                  # nemo_run.SlurmExecutor
    job = launch("train.py", ["lr=1e-4"], profile="cluster", detach=True)
    job.status(); job.logs(tail=50); job.cancel()

`nemo_run` is imported only when an executor is built or a job is launched.
"""

from nemotron.kit.run._backends import build_executor
from nemotron.kit.run._chain import JobChain
from nemotron.kit.run._envfile import EnvFile, EnvProblem, check_env, load_env, load_env_profile
from nemotron.kit.run._hosts import ClusterFiles, cluster_files
from nemotron.kit.run._job import Job, get_job, list_jobs
from nemotron.kit.run._launch import launch, resolve_profile
from nemotron.kit.run._paths import find_env_file, jobs_dir, project_root
from nemotron.kit.run._profiles import (
    EXECUTOR_KINDS,
    ArtifactsSettings,
    BaseProfile,
    CliSettings,
    DGXCloudProfile,
    DockerProfile,
    LeptonProfile,
    LocalProfile,
    Profile,
    SkypilotProfile,
    SlurmProfile,
)
from nemotron.kit.run._shared import registry_root
from nemotron.kit.run._shipping import JobFile

__all__ = [
    "EXECUTOR_KINDS",
    "ArtifactsSettings",
    "BaseProfile",
    "CliSettings",
    "ClusterFiles",
    "DGXCloudProfile",
    "DockerProfile",
    "EnvFile",
    "EnvProblem",
    "Job",
    "JobChain",
    "JobFile",
    "LeptonProfile",
    "LocalProfile",
    "Profile",
    "SkypilotProfile",
    "SlurmProfile",
    "build_executor",
    "check_env",
    "cluster_files",
    "find_env_file",
    "get_job",
    "jobs_dir",
    "launch",
    "list_jobs",
    "load_env",
    "load_env_profile",
    "project_root",
    "registry_root",
    "resolve_profile",
]

"""build_executor: the real NeMo-Run executor of each kind, packagers, launchers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nemotron.kit.run import build_executor, load_env_profile
from nemotron.kit.run._nemo_run import import_nemo_run, skypilot_available
from nemotron.kit.run.errors import ExecutorError, ProfileValueError, RunConfigError

KINDS = """
    [local4]
    ntasks_per_node = 4
    env_vars = { PLAIN = "p", HF_TOKEN = "hf_secret_value" }

    [slurm]
    executor = "slurm"
    account = "acct"
    partition = "batch"
    batch_partition = "long"
    nodes = 2
    gpus_per_node = 8
    mem = "0"
    exclusive = true
    container_image = "nvcr.io/nvidia/nemo:25.07"
    container_mounts = ["/lustre:/lustre"]
    setup = ["module load cuda"]

    [ssh]
    extends = "slurm"
    tunnel = "ssh"
    host = "login.example"
    port = 2200
    user = "me"
    identity = "~/.ssh/id_cluster"
    remote_job_dir = "/lustre/me/jobs"

    [docker]
    executor = "docker"
    container_image = "nvcr.io/nvidia/nemo:25.07"
    gpus_per_node = 2
    shm_size = "16g"

    [skypilot]
    executor = "skypilot"
    cloud = "aws"
    gpus = "H100"
    gpus_per_node = 8

    [lepton]
    executor = "lepton"
    container_image = "nvcr.io/nvidia/nemo:25.07"
    resource_shape = "gpu.8xh100"
    node_group = "ng"
    gpus_per_node = 8

    [dgxcloud]
    executor = "dgxcloud"
    container_image = "nvcr.io/nvidia/nemo:25.07"
    base_url = "https://dgx.example/api/v1"
    kube_apiserver_url = "https://k8s.example"
    project_name = "p"
    client_id = "id"
    pvc_nemo_run_dir = "/pvc/nemo_run"
    pvcs = [{ path = "/pvc", claimName = "claim" }]
    gpus_per_node = 8
"""


def test_local(write_env) -> None:
    run = import_nemo_run()

    write_env(KINDS)
    ex = build_executor(load_env_profile("local4"))
    assert isinstance(ex, run.LocalExecutor)
    assert ex.ntasks_per_node == 4
    assert ex.env_vars == {"PLAIN": "p"}  # secrets never go into the executor (it is serialized)


def test_slurm_fields_torchrun_and_partitions(write_env) -> None:
    run = import_nemo_run()

    write_env(KINDS)
    prof = load_env_profile("slurm")
    ex = build_executor(prof)
    assert isinstance(ex, run.SlurmExecutor)
    assert (ex.account, ex.partition, ex.nodes, ex.gpus_per_node, ex.mem) == (
        "acct",
        "batch",
        2,
        8,
        "0",
    )
    assert ex.exclusive is True and ex.container_image.startswith("nvcr.io")
    # mounted: the shared root (NeMo-Run's home with the local tunnel) and this machine's
    # registry (the local tunnel makes it the login node); setup runs in the container
    home = os.environ.get("NEMORUN_HOME") or os.path.expanduser("~/.nemo_run")
    registry = os.environ["NEMOTRON_ARTIFACTS_ROOT"]
    assert ex.container_mounts == ["/lustre:/lustre", f"{home}:{home}", f"{registry}:{registry}"]
    assert ex.setup_lines is None and ex.env_vars["NEMOTRON_ARTIFACTS_ROOT"] == registry
    assert isinstance(ex.launcher, run.Torchrun) and ex.torchrun_nproc_per_node == 8
    assert isinstance(ex.tunnel, run.LocalTunnel)
    assert build_executor(prof, detach=True).partition == "long"


def test_ssh_tunnel(write_env) -> None:
    run = import_nemo_run()

    write_env(KINDS)
    ex = build_executor(load_env_profile("ssh"))
    assert isinstance(ex.tunnel, run.SSHTunnel)
    assert (ex.tunnel.host, ex.tunnel.port, ex.tunnel.user, ex.tunnel.job_dir) == (
        "login.example",
        2200,
        "me",
        "/lustre/me/jobs",
    )
    assert ex.tunnel.identity == str(Path.home() / ".ssh" / "id_cluster")


@pytest.mark.parametrize(
    ("name", "cls"),
    [("docker", "DockerExecutor"), ("lepton", "LeptonExecutor"), ("dgxcloud", "DGXCloudExecutor")],
)
def test_cloud_kinds(write_env, name: str, cls: str) -> None:
    run = import_nemo_run()

    write_env(KINDS)
    ex = build_executor(load_env_profile(name))
    assert type(ex) is getattr(run, cls)
    assert ex.container_image == "nvcr.io/nvidia/nemo:25.07"
    assert isinstance(ex.launcher, run.Torchrun)  # gpus_per_node > 1


def test_skypilot_builds_or_says_how_to_install(write_env, project: Path, commit_project) -> None:
    run = import_nemo_run()

    write_env(KINDS)
    prof = load_env_profile("skypilot")
    if not skypilot_available():
        with pytest.raises(ExecutorError, match=r"kit-run\[skypilot\]"):
            build_executor(prof)
        pytest.skip("[skypilot] SkyPilot is not installed (pip install 'kit-run[skypilot]')")
    with pytest.raises(RunConfigError, match="git archive"):
        build_executor(prof)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    with pytest.raises(RunConfigError, match="git archive"):  # a repository without commits
        build_executor(prof)
    commit_project()
    ex = build_executor(prof)
    assert isinstance(ex, run.SkypilotExecutor) and ex.gpus == "H100"
    assert isinstance(ex.packager, run.GitArchivePackager)
    assert isinstance(ex.launcher, run.Torchrun) and ex.torchrun_nproc_per_node == 8


def test_image_cleared_by_extends_means_no_container(write_env) -> None:
    run = import_nemo_run()

    write_env(KINDS + '\n[bare]\nextends = "slurm"\ncontainer_image = ""\n')
    ex = build_executor(load_env_profile("bare"))
    assert isinstance(ex, run.SlurmExecutor) and ex.container_image is None


def test_packagers(write_env, project: Path, commit_project) -> None:
    run = import_nemo_run()

    write_env(
        KINDS
        + '\n[host]\nextends = "slurm"\ncontainer_image = ""\n'
        + '\n[pattern]\nextends = "host"\npackage_patterns = ["*.py"]\n'
    )
    plain = build_executor(load_env_profile("host"))
    assert type(plain.packager) is run.Packager  # not a repo, no patterns: code used in place
    assert plain.env_vars["PYTHONPATH"].split(":")[0] == str(project)
    pattern = build_executor(load_env_profile("pattern"))
    assert isinstance(pattern.packager, run.PatternPackager)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    assert type(build_executor(load_env_profile("host")).packager) is run.Packager  # no commit
    commit_project()
    git = build_executor(load_env_profile("host"))
    assert isinstance(git.packager, run.GitArchivePackager) and git.packager.basepath == str(
        project
    )
    # in a container, our code goes as built wheels: the user's repo and cwd are not shipped
    container = build_executor(load_env_profile("slurm"))
    assert type(container.packager) is run.Packager
    assert str(project) not in container.env_vars.get("PYTHONPATH", "")


def test_git_packager_needs_a_commit(write_env, project: Path) -> None:
    write_env(KINDS + '\n[git]\nextends = "slurm"\npackager = "git"\n')
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    with pytest.raises(ProfileValueError, match="has no commit yet"):
        build_executor(load_env_profile("git"))


def test_import_does_not_load_nemo_run() -> None:
    code = "import sys, nemotron.kit.run; print('nemo_run' in sys.modules, 'ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]

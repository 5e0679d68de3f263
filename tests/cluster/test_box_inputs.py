"""A path input is checked where the job reads it: on the cluster, over ssh, not on the laptop.

The laptop here lacks a folder of the shared storage (hidden by a mount namespace for its run,
as a laptop that mounts nothing of Lustre); the login node and the jobs see it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .conftest import Box, Project

pytestmark = [pytest.mark.cluster, pytest.mark.slurm, pytest.mark.slow]


@pytest.fixture
def cluster_only(box: Box, tmp_path: Path) -> Path:
    """A pretrained-model folder (iter_0000020 with its metadata.json) on the shared storage,
    under `<shared>/cluster-only/`, the folder the laptop's runs do not see."""
    folder = Path(box.shared, "cluster-only", uuid.uuid4().hex[:8], "iter_0000020")
    folder.mkdir(parents=True)
    code = (
        "from nemotron.kit.artifacts import ModelArtifact\n"
        f"ModelArtifact(path={str(folder)!r}, step=20).save(name='cluster-only-model')\n"
    )
    env = {**os.environ, "NEMOTRON_ARTIFACTS_ROOT": str(tmp_path / "registry")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    for path in (folder.parents[1], folder.parent, folder, *folder.iterdir()):
        shutil.chown(path, box.user, box.user)
    yield folder
    shutil.rmtree(folder.parent, ignore_errors=True)


def test_a_path_only_the_cluster_has_is_accepted(project: Project, cluster_only: Path) -> None:
    hidden = str(cluster_only.parents[1])
    sft = ["nano3", "sft", "-c", "tiny", f"run.model={cluster_only}"]
    here = project.nemotron(*sft, "--dry-run", hiding=hidden)  # the laptop: no such path
    assert f"warning: input run.model='{cluster_only}' (ModelArtifact): no such file" in here.stderr

    prep = project.nemotron("nano3", "data", "prep", "sft", "-c", "tiny", "--run", "box")
    assert prep.returncode == 0, prep.stdout + prep.stderr
    proc = project.nemotron(*sft, "--run", "box", hiding=hidden)
    out = proc.stdout + proc.stderr
    # checked on the login node, submitted; the job read it (its hand-off names it) and stopped
    # only at the library the box image lacks
    assert "input run.model" not in out
    assert "error: nano3 sft: Megatron-Bridge is not importable here" in out, out
    handoff = Path(project.box.shared, "output", "nano3-tiny", "sft", "handoff.yaml").read_text()
    assert f"pretrained_checkpoint: {cluster_only}\n" in handoff


def test_a_path_that_exists_nowhere_is_one_error_naming_key_and_fix(project: Project) -> None:
    nowhere = f"{project.box.shared}/nowhere-{uuid.uuid4().hex[:8]}/iter_0000020"
    proc = project.nemotron("nano3", "sft", "-c", "tiny", "--run", "box", f"run.model={nowhere}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert errors == [
        f"Error: input run.model='{nowhere}' (ModelArtifact): no such file or folder on "
        f"{project.box.user}@{project.box.host}:{project.box.port} (the cluster, where the job "
        "reads it); run `nemotron nano3 pretrain` first, or set run.model=art://NAME:latest or a path"
    ]
    assert project.records() == []  # nothing submitted

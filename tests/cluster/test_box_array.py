"""`run.engine=slurm-array` to the box: the data prep's job array and merge job run in the image
with the config as composed (interpolations resolved in the jobs, no laptop path), and publish."""

from __future__ import annotations

import re
import uuid

import pytest

from .conftest import Project

pytestmark = [pytest.mark.cluster, pytest.mark.slurm, pytest.mark.slow]


def test_data_prep_job_array_runs_in_the_image_and_publishes(project: Project) -> None:
    name = f"box-array-rl-{uuid.uuid4().hex[:8]}"
    proc = project.nemotron(
        "nano3", "data", "prep", "rl", "-c", "tiny", "run.engine=slurm-array",
        "run.profile=box", "run.array_tasks=2", f"artifact_name={name}",
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert re.search(r"job array \d+ \(2 tasks, job \S+\) -> merge \d+ \(afterok", out), out
    records = {r["name"]: r for r in project.records()}
    shards, merge = records["nano3-data-prep-rl-shards"], records["nano3-data-prep-rl-merge"]
    assert shards["state"] == merge["state"] == "SUCCEEDED"
    shipped = (project.folder / ".nemotron/jobs" / shards["id"] / "files/rl.yaml").read_text()
    assert "output_dir: ${oc.env:NEMOTRON_DATA_DIR,./output}/" in shipped  # resolved in the jobs
    assert "path: '@nano3/tiny/rl'" in shipped  # the shipped code's asset, not this checkout's
    shown = project.nemotron("artifacts", "show", f"art://{name}")
    assert shown.returncode == 0, shown.stderr
    assert f"{project.box.shared}/data/nano3/tiny/rl-data" in shown.stdout
    assert project.host_paths_in(project.box_files([shards, merge])) == {}

"""env.toml `[wandb]` reaches a training job on the cluster in a box, submitted over ssh.

The box image is Python without our libraries, and the job's shipped dependencies do not include
`wandb` (a NeMo container has its own): so this asserts what the stage receives — the merged
`run.wandb` in its shipped config, WANDB_PROJECT/ENTITY/MODE and the API key in its environment —
and that the stage acts on it (it starts W&B before Megatron-Bridge, and stops at the missing
`wandb`). The key travels only through the secrets file: nothing the box keeps holds it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from .conftest import Project, stand_in_checkpoint

pytestmark = [pytest.mark.cluster, pytest.mark.slurm, pytest.mark.slow]

KEY = "wandbboxkey0123456789abcdef0123456789ab"
WANDB = """
[box-wandb]
extends = "box"
setup = ['echo "wandb env: $WANDB_PROJECT $WANDB_ENTITY $WANDB_MODE key $(printf %s "$WANDB_API_KEY" | sha256sum | cut -c1-12)"']

[wandb]
project = "box-proj"
entity = "box-team"
mode = "offline"
"""


def test_wandb_settings_and_key_reach_a_training_job_over_ssh(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (project.folder / "env.toml").open("a") as fh:
        fh.write(WANDB)
    monkeypatch.setenv("WANDB_API_KEY", KEY)  # as a user's shell has it (or `wandb login`)
    prep = project.nemotron("nano3", "data", "prep", "sft", "-c", "tiny", "--run", "box")
    assert prep.returncode == 0, prep.stdout + prep.stderr
    stand_in_checkpoint(project.box, "nano3-tiny-pretrain-model")
    proc = project.nemotron("nano3", "sft", "-c", "tiny", "--run", "box-wandb")
    out = proc.stdout + proc.stderr
    digest = hashlib.sha256(KEY.encode()).hexdigest()[:12]
    assert f"wandb env: box-proj box-team offline key {digest}" in out
    assert "error: W&B tracking is configured but `wandb` is not installed" in out
    assert proc.returncode != 0 and "Traceback" not in out

    records = project.records()
    [record] = [r for r in records if r["name"] == "nano3-sft"]
    jobs = Path(project.box.shared, "jobs")
    [shipped] = jobs.glob(f"*/{record['experiment_id']}/*/configs/nemotron/tiny.yaml")
    text = shipped.read_text()  # the job's copy, on the cluster
    assert "project: box-proj" in text and "entity: box-team" in text  # run.wandb, merged
    box_side = project.box_files(records)
    assert any(p.name == "environment" for p in box_side), "slurmctld's saved environment not found"
    local = [p for p in (project.folder / ".nemotron").rglob("*") if p.is_file()]
    assert [str(p) for p in box_side + local if KEY.encode() in p.read_bytes()] == []

"""The whole `nano3 pipe -c tiny` submitted to a real local Slurm (scripts/local-slurm.sh).

Data prep runs for real, once per step (one task, though the profile has two per node); each job
reads the composed config shipped with it; pretrain ends with the missing-library error (no Megatron-Bridge on this
CPU machine); SFT and RL, chained `afterok`, are cancelled and never run.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slurm

STEPS = ["data-prep-pretrain", "data-prep-sft", "data-prep-rl", "pretrain", "sft", "rl"]


def test_pipe_on_slurm_chains_afterok_and_stops_at_the_failed_stage(
    slurm_partition, tmp_path, monkeypatch
) -> None:
    from nemotron.kit.artifacts import get_registry

    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "proj"\n')
    registry_root = tmp_path / "artifacts"
    (project / "env.toml").write_text(
        # Two tasks per node: what the profile allows, not what a data prep may run (one task).
        '[cluster]\nexecutor = "slurm"\naccount = "root"\npartition = "debug"\ntime = "00:10:00"\n'
        "ntasks_per_node = 2\n"
        f'env_vars = {{ NEMOTRON_ARTIFACTS_ROOT = "{registry_root}", '
        f'NEMOTRON_OUTPUT_DIR = "{tmp_path / "out"}" }}\n'
    )
    monkeypatch.chdir(project)
    monkeypatch.setenv("NEMOTRON_ARTIFACTS_ROOT", str(registry_root))
    monkeypatch.setenv("NEMOTRON_ENV_FILE", str(project / "env.toml"))
    monkeypatch.setenv("NEMORUN_HOME", str(tmp_path / "nemorun"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "nemotron.kit.cli",
            "nano3",
            "pipe",
            "-c",
            "tiny",
            "--run",
            "cluster",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "COLUMNS": "300"},
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    # The chain stops at pretrain, naming the stage and its logs.
    assert "nano3 pipe: stage 'pretrain' ended FAILED; the later stages were not run (logs: " in out
    alias = out.split("pinned with alias ")[1].split()[0]

    records = {}
    for job_json in (project / ".nemotron/jobs").glob("*/job.json"):
        record = json.loads(job_json.read_text())
        step = next(s for s in reversed(STEPS) if record["name"] == f"nano3-pipe-{s}")
        records[step] = (record, (job_json.parent / "submission.sh").read_text())
    assert sorted(records) == sorted(STEPS)
    for before, after in itertools.pairwise(STEPS):
        record, sbatch = records[after]
        assert f"#SBATCH --dependency=afterok:{records[before][0]['backend_id']}" in sbatch
        assert record["depends_on"] == [records[before][0]["id"]]
    states = {step: records[step][0]["state"] for step in STEPS}
    assert states == {
        "data-prep-pretrain": "SUCCEEDED",
        "data-prep-sft": "SUCCEEDED",
        "data-prep-rl": "SUCCEEDED",
        "pretrain": "FAILED",
        "sft": "CANCELLED",
        "rl": "CANCELLED",
    }

    # Data prep ran for real and each output is pinned by the pipe alias.
    registry = get_registry()
    for name in ("nano3-pretrain-data", "nano3-sft-data", "nano3-rl-data"):
        assert registry.aliases(name) == {alias: 1}
        assert registry.versions(name) == [1]  # each data prep ran exactly once
    for step in STEPS[:3]:
        assert "#SBATCH --ntasks-per-node=1" in records[step][1]
        assert "torchrun" not in records[step][1]
    assert "nano3-tiny-pretrain-model" not in registry.list_names()

    # Pretrain resolved exactly that version, handed it off, then hit the missing library.
    pretrain_log = "".join(
        p.read_text() for p in (tmp_path / "nemorun").rglob("log-*pipe-pretrain*")
    )
    assert "nano3 pretrain: Megatron-Bridge is not importable here" in pretrain_log
    handoff = yaml.safe_load((tmp_path / "out/nano3-tiny/pretrain/handoff.yaml").read_text())
    assert handoff["used_artifacts"] == ["art://nano3-pretrain-data:v1"]
    assert handoff["inputs"]["data"] == f"art://nano3-pretrain-data:{alias}"
    train_blend = handoff["train"]["dataset"]["blend_per_split"][0]
    assert all(Path(prefix + ".bin").is_file() for prefix in train_blend[0])

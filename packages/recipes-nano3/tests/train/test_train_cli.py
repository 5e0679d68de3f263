"""`nemotron nano3 pretrain|sft|rl|pipe|model import` through the real console entry point.

Dry runs on a local and a Slurm profile (env.toml fixture) print the exact command, the
torchrun / Ray settings, the container and mounts, and the resolved artifact paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[2] / "src/nemotron/recipes/nano3/configs"

ENV_TOML = """
[laptop]
executor = "local"

[gpu-cluster]
executor = "slurm"
account = "acct"
partition = "batch"
nodes = 2
gpus_per_node = 8
launcher = "torchrun"
container_image = "nvcr.io/nvidia/nemo:25.11"
container_mounts = ["/lustre/data:/data"]

[ray-cluster]
extends = "gpu-cluster"
ray = true
container_image = "nvcr.io/nvidia/nemo-rl:v0.7.0"
"""


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A folder with env.toml and every artifact the training stages read, published."""
    from nemotron.kit.artifacts import (
        ModelArtifact,
        PretrainBlendsArtifact,
        SFTDataArtifact,
        SplitJsonlDataArtifact,
    )

    (tmp_path / "env.toml").write_text(ENV_TOML)
    monkeypatch.setenv("NEMOTRON_ENV_FILE", str(tmp_path / "env.toml"))
    monkeypatch.setenv("NEMOTRON_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.chdir(tmp_path)
    paths = {}
    for name in ("pretrain-data", "sft-data", "rl-data", "ckpt/iter_0000020"):
        (tmp_path / name).mkdir(parents=True)
        paths[name] = str(tmp_path / name)
    (tmp_path / "ckpt/iter_0000020/run_config.yaml").write_text("model: {num_layers: 4}\n")
    blend = tmp_path / "pretrain-data/blend.json"
    blend.write_text(
        json.dumps({"train": ["1.0", "shard_train"], "valid": ["shard_valid"], "test": []})
    )
    PretrainBlendsArtifact(path=paths["pretrain-data"], blend_path=str(blend)).save(
        name="nano3-pretrain-data"
    )
    SFTDataArtifact(
        path=paths["sft-data"],
        pack_size=512,
        training_path=paths["sft-data"] + "/training.idx.parquet",
        validation_path=paths["sft-data"] + "/validation.idx.parquet",
    ).save(name="nano3-sft-data")
    SplitJsonlDataArtifact(
        path=paths["rl-data"],
        train_path=paths["rl-data"] + "/train.jsonl",
        val_path=paths["rl-data"] + "/val.jsonl",
    ).save(name="nano3-rl-data")
    for model in ("pretrain", "tiny-pretrain", "sft", "tiny-sft"):
        ModelArtifact(path=paths["ckpt/iter_0000020"], step=20).save(name=f"nano3-{model}-model")
    return paths


def nemotron(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nemotron.kit.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )


@pytest.mark.parametrize("config", ["default", "tiny"])
@pytest.mark.parametrize("stage", ["pretrain", "sft", "rl"])
def test_dry_run_local_prints_command_and_resolved_inputs(
    workspace, stage: str, config: str
) -> None:
    proc = nemotron("nano3", stage, "-c", config, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    config_file = CONFIGS / stage / f"{config}.yaml"
    assert f"-m nemotron.recipes.nano3.train.{stage} --config {config_file}" in out
    data = {"pretrain": "pretrain-data", "sft": "sft-data", "rl": "rl-data"}[stage]
    assert f"data_dir: {workspace[data]}" in out
    if stage == "pretrain":
        assert f"blend_file: {workspace[data]}/blend.json" in out
    else:
        assert f"model_path: {workspace['ckpt/iter_0000020']}" in out
    if stage == "sft":
        assert f"packed_train_data_path: {workspace[data]}/training.idx.parquet" in out
        assert "packed_sequence_size: 512" in out
    if stage == "rl":
        assert f"data_path: {workspace[data]}/train.jsonl" in out


@pytest.mark.parametrize("stage", ["pretrain", "sft"])
def test_dry_run_slurm_megatron_stages_run_under_torchrun_in_the_container(
    workspace, stage
) -> None:
    proc = nemotron("nano3", stage, "-c", "tiny", "--dry-run", "--run", "gpu-cluster")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "#SBATCH --nodes=2" in out and "#SBATCH --gpus-per-node=8" in out
    assert "torchrun" in out and "--nnodes 2" in out and "--nproc-per-node 8" in out
    assert "--container-image nvcr.io/nvidia/nemo:25.11" in out
    assert "/lustre/data:/data" in out
    assert (
        f"-m nemotron.recipes.nano3.train.{stage} --config /nemo_run/configs/nemotron/tiny.yaml"
        in out  # the config is shipped with the job, not read from this machine
    )


def test_dry_run_slurm_rl_starts_a_ray_cluster(workspace) -> None:
    proc = nemotron("nano3", "rl", "-c", "tiny", "--dry-run", "--run", "ray-cluster")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "ray start --head" in out and "nvcr.io/nvidia/nemo-rl:v0.7.0" in out
    assert "nemotron.recipes.nano3.train.rl" in out
    assert f"model_path: {workspace['ckpt/iter_0000020']}" in out


def test_stage_run_here_writes_handoff_then_fails_on_the_missing_library(
    workspace, tmp_path
) -> None:
    proc = nemotron("nano3", "pretrain", "-c", "tiny", "train.train.train_iters=3")
    assert proc.returncode != 0
    combined = proc.stdout + proc.stderr
    assert "nano3 pretrain: Megatron-Bridge is not importable here" in combined
    assert "--run <profile>" in combined and "requirements/train.txt" in combined
    import yaml

    handoff = yaml.safe_load((tmp_path / "out/nano3-tiny/pretrain/handoff.yaml").read_text())
    assert handoff["used_artifacts"] == ["art://nano3-pretrain-data:v1"]  # exact version
    assert handoff["library_overrides"] == ["train.train_iters=3"]
    assert handoff["train"]["dataset"]["blend_per_split"][0] == [
        [workspace["pretrain-data"] + "/shard_train"],
        [1.0],
    ]


def test_model_import_registers_checkpoint_with_its_inputs(
    workspace, megatron_bridge_checkpoint
) -> None:
    from nemotron.kit.artifacts import ModelArtifact

    root = megatron_bridge_checkpoint((10, 20))
    proc = nemotron(
        "nano3", "model", "import", "pretrain", str(root), "--input", "art://nano3-pretrain-data:v1"
    )
    assert proc.returncode == 0, proc.stderr
    assert "art://nano3-pretrain-model:v2 step=20 format=megatron-bridge/torch_dist" in proc.stdout
    model = ModelArtifact.from_uri("art://nano3-pretrain-model:v2")
    assert model.path == str(root / "iter_0000020") and model.step == 20
    assert [(i.name, i.version) for i in model.inputs] == [("nano3-pretrain-data", 1)]
    bad = nemotron("nano3", "model", "import", "sft", str(root), "--step", "15")
    assert bad.returncode == 2 and "no iter_0000015/" in bad.stderr


@pytest.mark.parametrize("profile", ["laptop", "gpu-cluster"])
def test_pipe_dry_run_prints_the_whole_pinned_chain(workspace, profile: str) -> None:
    proc = nemotron("nano3", "pipe", "-c", "tiny", "--dry-run", "--run", profile)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    steps = ["data-prep-pretrain", "data-prep-sft", "data-prep-rl", "pretrain", "sft", "rl"]
    for index, step in enumerate(steps):
        after = f" (afterok {steps[index - 1]})" if index else ""
        assert f"## step {index + 1}/6: {step}{after}" in out
    alias = out.split("pinned with alias ")[1].split()[0]
    assert alias.startswith("pipe-")
    assert f"run.data=art://nano3-pretrain-data:{alias}" in out
    assert (
        f"run.model=art://nano3-tiny-pretrain-model:{alias}" in out
    )  # sft reads pretrain's output
    assert f"run.model=art://nano3-tiny-sft-model:{alias}" in out
    assert ":latest" not in out.split("## step 4/6")[1].split("#!/bin/bash")[0]
    if profile == "gpu-cluster":
        # Each stage's launcher: data prep and RL (no `ray = true`) one task; pretrain and SFT
        # torchrun over 2 nodes x 8 GPUs. Each step `afterok` the one before (placeholder ids).
        scripts = out.split("#!/bin/bash")[1:]
        assert len(scripts) == 6
        for step, script in zip(steps, scripts, strict=True):
            torchrun = step in ("pretrain", "sft")
            assert ("#SBATCH --nodes=2" in script) == torchrun, step
            assert ("#SBATCH --nodes=1" in script) != torchrun, step
            assert "#SBATCH --ntasks-per-node=1" in script, step
            assert ("torchrun" in script) == torchrun, step
            assert "--nproc-per-node 8" in script if torchrun else True
        for before, script in zip(steps, scripts[1:], strict=False):
            assert f"#SBATCH --dependency='afterok:<nano3-pipe-{before}>'" in script


def test_a_typo_in_train_is_refused_before_submitting(workspace) -> None:
    proc = nemotron("nano3", "pretrain", "-c", "tiny", "train.model.num_layer=2", "--dry-run")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "did you mean 'train.model.num_layers'?" in lines[0], proc.stderr

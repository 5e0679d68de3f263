"""`nemotron nano3 pipe --dry-run` (default configs) on a big Slurm profile with `ray = true`.

The profile allows 2 nodes x 2 tasks x 8 GPUs; each stage takes what its launcher declares: a
data prep is one task (never N copies writing one folder), pretrain/SFT torchrun over 2 x 8,
RL a Ray cluster over 2 nodes (NeMo-Run's template, its real job dir). Every step after the
first shows its `--dependency` line on the step before.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STEPS = ["data-prep-pretrain", "data-prep-sft", "data-prep-rl", "pretrain", "sft", "rl"]
ENV = """
[big]
executor = "slurm"
account = "acct"
partition = "batch"
nodes = 2
ntasks_per_node = 2
gpus_per_node = 8
container_image = "nvcr.io/nvidia/nemo:25.07"
ray = true
"""


def test_default_pipe_dry_run_on_a_big_ray_profile(tmp_path: Path) -> None:
    (tmp_path / "env.toml").write_text(ENV)
    nemorun = tmp_path / "nemorun"
    env = {**os.environ, "NEMORUN_HOME": str(nemorun), "COLUMNS": "300"}
    env.pop("NEMOTRON_ENV_FILE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "nemotron.kit.cli", "nano3", "pipe", "--dry-run", "--run", "big"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sections = proc.stdout.split("\n## step ")[1:]
    steps = {part.split(":", 1)[1].split()[0]: part for part in sections}
    assert list(steps) == STEPS
    for name in STEPS[:3]:
        assert (
            "#SBATCH --nodes=1\n" in steps[name] and "#SBATCH --ntasks-per-node=1\n" in steps[name]
        )
        assert "torchrun" not in steps[name] and "ray start" not in steps[name]
    for name in ("pretrain", "sft"):
        assert "#SBATCH --nodes=2\n" in steps[name]
        assert "--nnodes 2 --nproc-per-node 8" in steps[name]
    rl = steps["rl"]
    assert "#SBATCH --nodes=2\n" in rl and "ray start --head" in rl and "torchrun" not in rl
    assert f"export CLUSTER_DIR={nemorun}/experiments/nano3-pipe-rl-" in rl
    assert "-m nemotron.recipes.nano3._pipe_step --alias pipe-" in rl  # the wrapper
    for before, after in itertools.pairwise(STEPS):
        assert f"#SBATCH --dependency='afterok:<nano3-pipe-{before}>'" in steps[after]

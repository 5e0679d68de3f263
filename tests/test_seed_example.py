"""The seed's quick example, run as a user would: a script, a config file, CLI overrides."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The seed's example, verbatim except that it also imports ModelArtifact, which it uses.
TRAIN_PY = """
from nemotron.kit import cli, PretrainBlendsArtifact, ModelArtifact
from dataclasses import dataclass
from pathlib import Path

@dataclass
class Config:
    data_path: Path
    output_dir: Path
    learning_rate: float = 1e-4

# Load config with CLI override support
config = cli(Config, config_file="config.yaml")

# Load data artifact
data = PretrainBlendsArtifact.load(config.data_path)
print(f"Training on {data.total_tokens:,} tokens")

# ... training code ...
print(f"lr={config.learning_rate} output_dir={config.output_dir}")

# Save model artifact
model = ModelArtifact(path=config.output_dir, step=10000, loss=2.5)
model.save(name="ModelArtifact-pretrain")
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    from nemotron.kit import PretrainBlendsArtifact

    data = tmp_path / "data"
    data.mkdir()
    PretrainBlendsArtifact(path=data, total_tokens=1_234_567).save(name="PretrainBlendsArtifact")
    (tmp_path / "train.py").write_text(TRAIN_PY)
    (tmp_path / "config.yaml").write_text(
        textwrap.dedent(
            f"""\
            data_path: {data}
            output_dir: ${{oc.env:PWD}}/output
            learning_rate: 1e-4
            """
        )
    )
    return tmp_path


def _train(workdir: Path, *argv: str) -> str:
    proc = subprocess.run(
        [sys.executable, "train.py", *argv],
        cwd=workdir,
        env={**os.environ, "PWD": str(workdir)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_seed_example_runs_with_learning_rate_override(workdir: Path) -> None:
    out = _train(workdir, "--config", "config.yaml", "learning_rate=5e-5")
    assert "Training on 1,234,567 tokens" in out
    assert f"lr=5e-05 output_dir={workdir}/output" in out

    from nemotron.kit import ModelArtifact

    model = ModelArtifact.from_uri("art://ModelArtifact-pretrain:latest")
    assert (model.step, model.loss, model.version) == (10000, 2.5, 1)
    assert Path(model.path) == workdir / "output"


def test_seed_example_output_dir_override(workdir: Path) -> None:
    out = _train(workdir, "--config", "config.yaml", "output_dir=/scratch/output")
    assert "output_dir=/scratch/output" in out


def test_seed_example_bad_override_is_one_line_exit_2(workdir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "train.py", "--config", "config.yaml", "learning_rat=5e-5"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "learning_rat" in lines[0] and "learning_rate" in lines[0], lines


def test_from_uri_example() -> None:
    from nemotron.kit import PretrainBlendsArtifact

    PretrainBlendsArtifact(path="/data/blend", total_tokens=42).save(name="PretrainBlendsArtifact")
    artifact = PretrainBlendsArtifact.from_uri("art://PretrainBlendsArtifact:latest")
    assert artifact.path == "/data/blend" and artifact.total_tokens == 42

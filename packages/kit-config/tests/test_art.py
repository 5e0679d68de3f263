"""`${art:NAME,FIELD}`: resolves through kit-artifacts, records lineage, and stays lazy."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nemotron.kit.artifacts import (
    ArtifactRef,
    ModelArtifact,
    PretrainBlendsArtifact,
    run_inputs,
    set_lineage_tracker,
)
from nemotron.kit.config import cli, load_config
from nemotron.kit.config._resolve import resolve_to_container
from nemotron.kit.config.errors import ArtifactReferenceError

NAME = "PretrainBlendsArtifact-pretrain"


@pytest.fixture
def blends(tmp_path: Path) -> PretrainBlendsArtifact:
    folder = tmp_path / "blends"
    folder.mkdir()
    (folder / "blend.json").write_text("{}")
    first = PretrainBlendsArtifact(path=str(folder), total_tokens=10, metadata={"tokenizer": "old"})
    first.save(name=NAME)
    second = PretrainBlendsArtifact(
        path=str(folder), total_tokens=1234, metadata={"tokenizer": "nano3"}
    )
    return second.save(name=NAME)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


class Recorder:
    """A LineageHook that keeps what it is told."""

    def __init__(self) -> None:
        self.used: list[Any] = []
        self.published: list[Any] = []

    def artifact_used(self, artifact: Any) -> None:
        self.used.append(artifact)

    def artifact_published(self, artifact: Any) -> None:
        self.published.append(artifact)


@pytest.mark.parametrize("ref", [f"{NAME}:latest", f"art://{NAME}:latest", f"art://{NAME}:v2"])
def test_fields_from_run_reference(
    tmp_path: Path, blends: PretrainBlendsArtifact, ref: str
) -> None:
    cfg = load_config(
        write(
            tmp_path,
            f"run:\n  data: {ref}\n"
            "blend: ${art:data,path}/blend.json\n"
            "default_field: ${art:data}\n"
            "version: ${art:data,version}\n"
            "tokens: ${art:data,total_tokens}\n"
            "tokenizer: ${art:data,tokenizer}\n"
            "uri: ${art:data,uri}\n",
        )
    )
    resolved = resolve_to_container(cfg)
    assert resolved["blend"] == f"{blends.path}/blend.json"
    assert resolved["default_field"] == blends.path
    assert resolved["version"] == 2
    assert resolved["tokens"] == 1234
    assert resolved["tokenizer"] == "nano3"
    assert resolved["uri"] == f"art://{NAME}:v2"


def test_direct_uri_and_path(tmp_path: Path, blends: PretrainBlendsArtifact) -> None:
    cfg = load_config(
        write(
            tmp_path,
            f"v1: ${{art:art://{NAME}:v1,version}}\ntokens: ${{art:{blends.path},total_tokens}}\n",
        )
    )
    resolved = resolve_to_container(cfg)
    assert resolved["v1"] == 1
    assert resolved["tokens"] == 1234


def test_resolving_records_the_input_once_and_lineage_follows(
    tmp_path: Path, blends: PretrainBlendsArtifact
) -> None:
    recorder = Recorder()
    set_lineage_tracker(recorder)
    cfg = load_config(
        write(
            tmp_path,
            f"run:\n  data: {NAME}:latest\n"
            "a: ${art:data,path}\nb: ${art:data,version}\nc: ${art:data,total_tokens}\n",
        )
    )
    resolve_to_container(cfg)
    resolve_to_container(cfg)
    inputs = [i for i in run_inputs() if isinstance(i, ArtifactRef)]
    assert [(i.name, i.version) for i in inputs] == [(NAME, 2)]
    assert len(recorder.used) == 1 and recorder.used[0].version == 2

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    model = ModelArtifact(path=str(model_dir), step=1).save(name="ModelArtifact-pretrain")
    assert [(i.name, i.version) for i in model.inputs if isinstance(i, ArtifactRef)] == [(NAME, 2)]


def test_cli_records_lineage_for_typed_configs(
    tmp_path: Path, blends: PretrainBlendsArtifact
) -> None:
    @dataclass
    class Config:
        blend: Path
        tokens: int

    path = write(
        tmp_path,
        f"run:\n  data: art://{NAME}:v1\nblend: ${{art:data,path}}/blend.json\n"
        "tokens: ${art:data,total_tokens}\n",
    )
    config = cli(Config, argv=["--config", str(path)])
    assert config.tokens == 10
    assert [(i.name, i.version) for i in run_inputs() if isinstance(i, ArtifactRef)] == [(NAME, 1)]


def test_missing_artifact_is_a_clear_error(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "run:\n  data: art://Nope:latest\nblend: ${art:data,path}\n"))
    with pytest.raises(ArtifactReferenceError) as info:
        resolve_to_container(cfg)
    message = str(info.value)
    assert message.startswith("config key 'blend': ${art:data,path}: ")
    assert "Nope" in message
    assert run_inputs() == []


def test_missing_run_reference(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "blend: ${art:data,path}\n"))
    with pytest.raises(ArtifactReferenceError, match=r"needs `run.data` set to an artifact"):
        resolve_to_container(cfg)


def test_unknown_field_lists_the_fields(tmp_path: Path, blends: PretrainBlendsArtifact) -> None:
    cfg = load_config(write(tmp_path, f"run:\n  data: {NAME}:latest\nx: ${{art:data,nope}}\n"))
    with pytest.raises(ArtifactReferenceError, match=r"has no field 'nope'; it has .*total_tokens"):
        resolve_to_container(cfg)


def test_missing_artifact_through_cli_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    @dataclass
    class Config:
        blend: str

    path = write(tmp_path, "run:\n  data: art://Nope:latest\nblend: ${art:data,path}\n")
    with pytest.raises(SystemExit) as info:
        cli(Config, argv=["-c", str(path)])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("error: config key 'blend': ${art:data,path}: ")


LAZY_SCRIPT = """
import os, sys
from nemotron.kit.config import apply_hydra_overrides, load_config
from nemotron.kit.config._resolve import resolve_to_container
cfg = load_config(sys.argv[1])
cfg = apply_hydra_overrides(cfg, ["lr=2"])
print(cfg.lr, resolve_to_container(cfg)["plain"])
opened = [m for m in sys.modules if m.startswith("nemotron.kit.artifacts._registry")]
print("opened" if opened or os.path.exists(os.environ["NEMOTRON_ARTIFACTS_ROOT"]) else "lazy")
"""


def test_registry_is_never_opened_without_art_interpolations(tmp_path: Path) -> None:
    path = write(tmp_path, "lr: 1\nplain: ${lr}\n")
    root = tmp_path / "registry-root"
    done = subprocess.run(
        [sys.executable, "-c", LAZY_SCRIPT, str(path)],
        env={**os.environ, "NEMOTRON_ARTIFACTS_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "2", "lazy"]

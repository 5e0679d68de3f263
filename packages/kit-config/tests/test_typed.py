"""Validation into dataclasses and msgspec Structs: types, sources, and collected errors."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import pytest
from omegaconf import OmegaConf

from nemotron.kit.config import apply_hydra_overrides, load_config, to_typed
from nemotron.kit.config._typed import defaults_of
from nemotron.kit.config.errors import ConfigValidationError, MissingEnvVarError


class Precision(enum.Enum):
    BF16 = "bf16"
    FP8 = "fp8"


@dataclass
class Optim:
    lr: float = 1e-4
    """Peak learning rate."""
    betas: list[float] = field(default_factory=lambda: [0.9, 0.95])


@dataclass
class TrainConfig:
    data_path: Path
    output_dir: Path
    optim: Optim = field(default_factory=Optim)
    mode: Literal["pretrain", "sft"] = "pretrain"
    precision: Precision = Precision.BF16
    seed: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    resume: Path | None = None
    name: str = "run"


class Model(msgspec.Struct, kw_only=True):
    layers: int
    hidden: Annotated[int, msgspec.Meta(description="hidden size")] = 256


class StructConfig(msgspec.Struct, kw_only=True):
    model: Model
    paths: list[Path] = []
    ratio: float = 0.5


def test_dataclass_with_every_kind_of_field(tmp_path: Path) -> None:
    cfg = OmegaConf.create(
        {
            "data_path": "/data",
            "output_dir": "/out",
            "optim": {"lr": 3e-4},
            "mode": "sft",
            "precision": "fp8",
            "seed": 7,
            "tags": {"team": "nano"},
            "resume": None,
            "name": 123,
        }
    )
    config = to_typed(TrainConfig, cfg)
    assert config == TrainConfig(
        data_path=Path("/data"),
        output_dir=Path("/out"),
        optim=Optim(lr=3e-4),
        mode="sft",
        precision=Precision.FP8,
        seed=7,
        tags={"team": "nano"},
        name="123",
    )


def test_enum_by_member_name_and_string_numbers_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIT_SEED", "42")
    cfg = OmegaConf.create(
        {"data_path": "/d", "output_dir": "/o", "precision": "FP8", "seed": "${oc.env:KIT_SEED}"}
    )
    config = to_typed(TrainConfig, cfg)
    assert config.precision is Precision.FP8 and config.seed == 42


def test_struct_config_with_nested_struct_and_path_list() -> None:
    config = to_typed(StructConfig, {"model": {"layers": 2}, "paths": ["/a", "/b"]})
    assert config == StructConfig(model=Model(layers=2), paths=[Path("/a"), Path("/b")])


def test_wrong_types_name_key_file_line_expected_and_given(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("data_path: /d\noutput_dir: /o\noptim:\n  lr: fast\nmode: rl\nprecision: fp4\n")
    with pytest.raises(ConfigValidationError) as info:
        to_typed(TrainConfig, load_config(path))
    issues = {i.key: i for i in info.value.issues}
    assert set(issues) == {"optim.lr", "mode", "precision"}
    assert issues["optim.lr"].source == f"{path}:4"
    assert issues["optim.lr"].expected == "float"
    assert issues["optim.lr"].given == "'fast'"
    assert issues["mode"].expected == "'pretrain' | 'sft'"
    assert issues["precision"].source == f"{path}:6"
    assert f"optim.lr ({path}:4): expected float, got 'fast' (str)" in str(info.value)


def test_errors_point_at_the_override_that_set_the_value(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("data_path: /d\noutput_dir: /o\n")
    cfg = apply_hydra_overrides(load_config(path), ["+optim={lr: [1]}"])
    with pytest.raises(ConfigValidationError) as info:
        to_typed(TrainConfig, cfg)
    (issue,) = info.value.issues
    assert issue.key == "optim.lr"
    assert issue.source == "override '+optim={lr: [1]}'"


def test_missing_required_fields_are_listed_together() -> None:
    with pytest.raises(ConfigValidationError) as info:
        to_typed(StructConfig, {"ratio": 0.1})
    assert info.value.missing == ["model (Model)"]
    with pytest.raises(ConfigValidationError) as info:
        to_typed(TrainConfig, {"name": "x"})
    assert info.value.missing == ["data_path (Path)", "output_dir (Path)"]
    assert "missing required fields data_path (Path), output_dir (Path)" in str(info.value)


def test_nested_missing_and_defaults_placeholders() -> None:
    defaults = defaults_of(StructConfig)
    assert defaults == {"model": {"layers": "???", "hidden": 256}, "paths": [], "ratio": 0.5}
    with pytest.raises(ConfigValidationError) as info:
        to_typed(StructConfig, OmegaConf.create(defaults))
    assert info.value.missing == ["model.layers (int)"]


def test_unknown_keys_are_reported_with_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('data_path = "/d"\noutput_dir = "/o"\n\n[optim]\nlearning_rate = 1.0\n')
    with pytest.raises(ConfigValidationError) as info:
        to_typed(TrainConfig, load_config(path))
    (issue,) = info.value.issues
    assert issue.key == "optim.learning_rate"
    assert issue.source == f"{path}:5"
    assert "unknown key for Optim" in issue.problem


def test_did_you_mean_for_top_level_typo() -> None:
    with pytest.raises(ConfigValidationError, match=r"did you mean 'output_dir'"):
        to_typed(TrainConfig, {"data_path": "/d", "output_dir": "/o", "ouput_dir": "/x"})


def test_run_section_is_allowed_beside_any_config() -> None:
    config = to_typed(
        TrainConfig, {"data_path": "/d", "output_dir": "/o", "run": {"data": "art://X:latest"}}
    )
    assert config.data_path == Path("/d")


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(ConfigValidationError) as info:
        to_typed(
            TrainConfig,
            {"output_dir": 5, "seed": "x", "tags": {"a": [1]}, "optim": {"betas": ["q"]}},
        )
    err = info.value
    assert err.missing == ["data_path (Path)"]
    assert {i.key for i in err.issues} == {"output_dir", "seed", "tags.a", "optim.betas.0"}


def test_interpolation_errors_surface_before_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIT_NOPE", raising=False)
    cfg = OmegaConf.create({"data_path": "${oc.env:KIT_NOPE}", "output_dir": "/o"})
    with pytest.raises(MissingEnvVarError, match="config key 'data_path'"):
        to_typed(TrainConfig, cfg)


def test_post_init_checks_become_issues() -> None:
    @dataclass
    class Checked:
        n: int = 1

        def __post_init__(self) -> None:
            if self.n < 0:
                raise ValueError("n must be >= 0")

    with pytest.raises(ConfigValidationError, match="n must be >= 0"):
        to_typed(Checked, {"n": -1})


def test_not_a_record_type() -> None:
    with pytest.raises(TypeError, match="not a dataclass or msgspec Struct"):
        to_typed(dict, {})

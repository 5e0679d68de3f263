"""What each training library receives from a stage: the hand-off, checked without the library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from nemotron.recipes.nano3.train import StageConfig, StageRun, build_handoff, split_overrides
from nemotron.recipes.nano3.train._blend import read_blend_per_split
from nemotron.recipes.nano3.train._libraries import LIBRARIES, require_library
from nemotron.recipes.nano3.train.errors import StageConfigError, TrainingLibraryMissingError


def _blend(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "blend.json").write_text(
        json.dumps(
            {
                "train": ["0.3", "shards/a_train", "0.7", "/abs/b_train"],
                "valid": "shards/a_valid",
                "test": [],
            }
        )
    )
    return data / "blend.json"


def _run_with_blend(tmp_path: Path) -> StageRun:
    """A pretrain `run:` section whose blend file exists."""
    return StageRun(
        data="d",
        data_dir="d",
        output_dir=str(tmp_path),
        publish_as="m",
        blend_file=str(_blend(tmp_path)),
    )


def test_split_overrides_sends_train_keys_to_the_library() -> None:
    ours, library = split_overrides(
        [
            "--config",
            "f.yaml",
            "run.output_dir=/o",
            "train.train.train_iters=5",
            "++train.model.num_layers=2",
            "~train.comm_overlap",
            "+run.x=1",
        ]
    )
    assert ours == ["--config", "f.yaml", "run.output_dir=/o", "+run.x=1"]
    assert library == ["train.train_iters=5", "++model.num_layers=2", "~comm_overlap"]


def test_blend_file_becomes_megatron_blend_per_split(tmp_path) -> None:
    blend = read_blend_per_split(_blend(tmp_path))
    assert blend[0] == ([str(tmp_path / "data/shards/a_train"), "/abs/b_train"], [0.3, 0.7])
    assert blend[1] == ([str(tmp_path / "data/shards/a_valid")], None)
    assert blend[2] is None


def test_bad_blend_file_names_file_and_shape(tmp_path) -> None:
    bad = tmp_path / "blend.json"
    bad.write_text(json.dumps({"train": ["0.5", "a", "0.5"]}))
    with pytest.raises(StageConfigError, match=r"run.blend_file: .*odd number"):
        read_blend_per_split(bad)
    with pytest.raises(StageConfigError, match="cannot read"):
        read_blend_per_split(tmp_path / "missing.json")


def test_pretrain_handoff_fills_outputs_and_blend(tmp_path) -> None:
    cfg = StageConfig(
        run=StageRun(
            data="art://nano3-pretrain-data:v3",
            data_dir=str(tmp_path / "data"),
            blend_file=str(_blend(tmp_path)),
            output_dir=str(tmp_path / "out"),
            publish_as="m",
        ),
        recipe="megatron.bridge.recipes.nemotronh.nemotron_3_nano:nemotron_3_nano_pretrain_config",
        train={"train": {"train_iters": 20}, "dataset": {"seq_length": 256, "split": "9,1,0"}},
    )
    handoff = build_handoff("pretrain", cfg, ["optimizer.lr=1"])
    assert handoff.entry == "megatron.bridge.training.pretrain.pretrain"
    assert handoff.checkpoint_dir == str(tmp_path / "out/checkpoints")
    assert handoff.train["checkpoint"] == {
        "save": handoff.checkpoint_dir,
        "load": handoff.checkpoint_dir,
    }
    assert handoff.train["logger"]["tensorboard_dir"] == str(tmp_path / "out/tb_logs")
    assert handoff.train["dataset"]["split"] is None and handoff.train["dataset"]["blend"] is None
    assert handoff.train["dataset"]["blend_per_split"][0][1] == [0.3, 0.7]
    assert handoff.train["train"] == {"train_iters": 20}
    assert cfg.train["dataset"]["split"] == "9,1,0"  # the config itself is left alone
    written = yaml.safe_load(handoff.write().read_text())
    assert written["inputs"]["data"] == "art://nano3-pretrain-data:v3"
    assert written["library_overrides"] == ["optimizer.lr=1"]


def test_sft_and_rl_handoffs_start_from_the_parent_model(tmp_path) -> None:
    run = StageRun(
        data="art://d:v1",
        data_dir="/d",
        output_dir=str(tmp_path / "o"),
        publish_as="m",
        model="art://p:v2",
        model_path="/ckpt/iter_0000020",
    )
    sft = build_handoff("sft", StageConfig(run=run, recipe="x:y", train={}), [])
    assert sft.train["checkpoint"]["pretrained_checkpoint"] == "/ckpt/iter_0000020"
    assert sft.entry == "megatron.bridge.training.finetune.finetune"
    rl = build_handoff("rl", StageConfig(run=run, recipe="nemo-rl", train={"grpo": {}}), [])
    assert rl.library == "nemo-rl"
    assert rl.train["checkpointing"] == {
        "checkpoint_dir": str(tmp_path / "o/checkpoints"),
        "pretrained_checkpoint": {"path": "/ckpt/iter_0000020", "format": "megatron_bridge"},
    }
    assert rl.train["logger"] == {"log_dir": str(tmp_path / "o/logs")}


def test_missing_parent_model_or_blend_is_one_clear_line(tmp_path) -> None:
    run = StageRun(data="d", data_dir="/d", output_dir=str(tmp_path), publish_as="m")
    with pytest.raises(
        StageConfigError, match=r"run.model_path: is not set .*\$\{art:model,path\}"
    ):
        build_handoff("sft", StageConfig(run=run, recipe="x:y"), [])
    with pytest.raises(StageConfigError, match=r"run.blend_file: is not set"):
        build_handoff("pretrain", StageConfig(run=run, recipe="x:y"), [])


@pytest.mark.parametrize(
    ("key", "stage", "library"),
    [("megatron-bridge", "pretrain", "Megatron-Bridge"), ("nemo-rl", "rl", "NeMo-RL")],
)
def test_missing_library_says_how_to_run(key: str, stage: str, library: str) -> None:
    with pytest.raises(TrainingLibraryMissingError) as err:
        require_library(key, stage)
    message = str(err.value)
    assert "\n" not in message and err.value.exit_code == 2
    assert message.startswith(f"nano3 {stage}: {library} is not importable here")
    assert f"nemotron nano3 {stage} --run <profile>" in message
    assert f"e.g. {LIBRARIES[key].image})" in message
    assert Path(err.value.requirement).is_file()  # the requirements file it names ships with us


PRETRAIN_RECIPE = (
    "megatron.bridge.recipes.nemotronh.nemotron_3_nano:nemotron_3_nano_pretrain_config"
)


def test_unknown_train_key_is_refused_with_the_closest_megatron_bridge_key(tmp_path) -> None:
    run = StageRun(data="d", data_dir="d", output_dir=str(tmp_path), publish_as="m")
    with pytest.raises(StageConfigError) as err:
        StageConfig(run=run, recipe=PRETRAIN_RECIPE, train={"model": {"num_layer": 2}})
    assert str(err.value) == (
        "train.model.num_layer: is not a key of Megatron-Bridge 0.6.2's ConfigContainer (its "
        "override merge would skip it); did you mean 'train.model.num_layers'?"
    )
    assert err.value.exit_code == 2
    with pytest.raises(StageConfigError, match=r"train.trian: .*did you mean 'train.train'"):
        StageConfig(run=run, recipe=PRETRAIN_RECIPE, train={"trian": {"train_iters": 3}})
    # a plain-dict field (env_vars) takes any key; a section's known keys pass
    StageConfig(
        run=run,
        recipe=PRETRAIN_RECIPE,
        train={"env_vars": {"MY_VAR": 1}, "train": {"train_iters": 3}},
    )


def test_unknown_key_in_a_train_override_is_refused_before_the_library_runs(tmp_path) -> None:
    run = _run_with_blend(tmp_path)
    cfg = StageConfig(run=run, recipe=PRETRAIN_RECIPE, train={})
    with pytest.raises(
        StageConfigError, match=r"train.model.hiden_size: .*'train.model.hidden_size'"
    ):
        build_handoff("pretrain", cfg, ["++model.hiden_size=64"])
    assert build_handoff("pretrain", cfg, ["model.hidden_size=64"]).library_overrides == [
        "model.hidden_size=64"
    ]


def test_a_key_in_the_wrong_section_names_the_section_that_has_it(tmp_path) -> None:
    run = StageRun(data="d", data_dir="d", output_dir=str(tmp_path), publish_as="m")
    with pytest.raises(
        StageConfigError, match=r"train.train.lr: .*did you mean 'train.optimizer.lr'"
    ):
        StageConfig(run=run, recipe=PRETRAIN_RECIPE, train={"train": {"lr": 1e-4}})


def test_handoff_file_masks_secrets(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_abcdefgh123")
    run = _run_with_blend(tmp_path)
    train = {
        "logger": {"wandb_exp_name": "run with hf_abcdefgh123"},
        "env_vars": {"WANDB_API_KEY": "k-123456"},
    }
    handoff = build_handoff(
        "pretrain", StageConfig(run=run, recipe=PRETRAIN_RECIPE, train=train), []
    )
    text = handoff.write().read_text()
    assert "hf_abcdefgh123" not in text and "k-123456" not in text
    written = yaml.safe_load(text)
    assert written["train"]["env_vars"]["WANDB_API_KEY"] == "***"
    assert written["train"]["logger"]["wandb_exp_name"] == "run with ***"

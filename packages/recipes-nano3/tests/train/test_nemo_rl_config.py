"""The RL stage configs as NeMo-RL v0.7.0 would load them, checked without NeMo-RL.

NeMo-RL cannot be installed here (Python >=3.13, CUDA). What it does with our `train:` section is
reproduced from its source at v0.7.0 (facts in train/nemo_rl_schema.json, with file and line):
`load_config` merges the `defaults:` file (examples/configs/grpo_math_1B.yaml) under our section
with `merge_with_override` (nemo_rl/utils/config.py:30-44: OmegaConf.merge, a top-level section
marked `_override_: true` replaces the base's). The base's values our configs depend on are taken
from that file (base_config in the facts), the rest of it is not needed for these checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from nemotron.recipes.nano3.train import StageConfig, StageRun, prepare_stage
from nemotron.recipes.nano3.train._checkpoints import read_nemo_rl_checkpoint
from nemotron.recipes.nano3.train._nemo_rl import record_train_loss
from nemotron.recipes.nano3.train._train_keys import NEMO_RL_SCHEMA_FILE
from nemotron.recipes.nano3.train.errors import StageConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "src/nemotron/recipes/nano3/configs"
FACTS = json.loads(NEMO_RL_SCHEMA_FILE.read_text())


def merge_with_override(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """NeMo-RL v0.7.0's merge rule (nemo_rl/utils/config.py:30-44), on plain dicts."""
    base_cfg, override_cfg = OmegaConf.create(base), OmegaConf.create(override)
    for key in list(override_cfg.keys()):
        section = override_cfg[key]
        if OmegaConf.is_dict(section) and section.get("_override_", False):
            section.pop("_override_")
            base_cfg.pop(key, None)
    merged: dict[str, Any] = OmegaConf.to_container(OmegaConf.merge(base_cfg, override_cfg))  # type: ignore[assignment]
    return merged


def _base_config() -> dict[str, Any]:
    base: dict[str, Any] = {}
    for dotted, fact in FACTS["base_config"]["values"].items():
        *parents, leaf = dotted.split(".")
        node = base
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = fact["value"]
    return base


def _get(config: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        config = config[part]
    return config


@pytest.fixture
def rl_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Real tiny RL data (our data prep), a parent model, and the output folder."""
    from nemotron.kit.artifacts import ModelArtifact
    from nemotron.kit.config import cli
    from nemotron.recipes.nano3.data_prep import RLDataConfig, run_rl

    monkeypatch.setenv("NEMOTRON_OUTPUT_DIR", str(tmp_path / "out"))
    data = run_rl(
        cli(
            RLDataConfig,
            argv=[
                "--config",
                str(CONFIGS / "data_prep/rl/tiny.yaml"),
                f"output_dir={tmp_path / 'rl'}",
            ],
        )
    )
    model = tmp_path / "sft-checkpoints/iter_0000010"
    model.mkdir(parents=True)
    for name in ("nano3-sft-model", "nano3-tiny-sft-model"):
        ModelArtifact(path=str(model), step=10).save(name=name)
    return {"train": data.train_path, "model": str(model)}


def test_base_facts_are_the_lines_of_grpo_math_1b() -> None:
    values = FACTS["base_config"]["values"]
    assert FACTS["tag"] == "v0.7.0" and FACTS["commit"].startswith("81aa43dd")
    assert values["data.train.split_validation_size"] == {"value": 0.05, "line": 378}
    assert values["data.default.prompt_file"] == {"value": "examples/prompts/cot.txt", "line": 383}
    assert values["policy.model_name"]["value"] == "Qwen/Qwen2.5-1.5B"
    assert values["policy.train_global_batch_size"]["value"] == 512


@pytest.mark.parametrize("config", ["default", "tiny"])
def test_rl_config_merged_as_nemo_rl_does_trains_what_we_mean(rl_inputs, config: str) -> None:
    handoff = prepare_stage("rl", ["--config", str(CONFIGS / f"rl/{config}.yaml")])
    train = dict(handoff.train)
    assert train.pop("defaults").endswith("examples/configs/grpo_math_1B.yaml")
    merged = merge_with_override(_base_config(), train)
    # our validation split is separate: nothing is cut off the training split
    assert _get(merged, "data.train.split_validation_size") == 0
    assert _get(merged, "data.train.data_path") == rl_inputs["train"]
    assert _get(merged, "data.validation.data_path").endswith("val.jsonl")
    # the prompt file does not depend on the job's working directory
    prompt = _get(merged, "data.default.prompt_file")
    assert Path(prompt).is_absolute() and prompt.endswith("examples/prompts/cot.txt")
    # a Megatron policy, for the Megatron-Bridge checkpoint it starts from
    assert _get(merged, "policy.megatron_cfg.enabled") is True
    assert _get(merged, "policy.dtensor_cfg.enabled") is False
    assert _get(merged, "policy.model_name") == "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"
    assert _get(merged, "checkpointing.pretrained_checkpoint") == {
        "path": rl_inputs["model"],
        "format": "megatron_bridge",
    }
    # one optimizer step trains on exactly the rollouts of a GRPO step
    rollouts = _get(merged, "grpo.num_prompts_per_step") * _get(
        merged, "grpo.num_generations_per_prompt"
    )
    assert _get(merged, "policy.train_global_batch_size") == rollouts
    assert rollouts % _get(merged, "policy.train_micro_batch_size") == 0


def test_override_marker_replaces_a_section_as_nemo_rl_does() -> None:
    merged = merge_with_override(_base_config(), {"data": {"_override_": True, "shuffle": False}})
    assert merged["data"] == {"shuffle": False}


def test_rl_keys_are_checked_against_nemo_rl_schema(tmp_path) -> None:
    run = StageRun(data="d", data_dir="d", output_dir=str(tmp_path), publish_as="m")
    with pytest.raises(StageConfigError) as err:
        StageConfig(run=run, recipe="nemo-rl", train={"grpo": {"num_prompts_per_stepp": 2}})
    message = str(err.value)
    assert message.startswith("train.grpo.num_prompts_per_stepp: is not a key of NeMo-RL v0.7.0's")
    assert "GRPOConfig (nemo_rl/algorithms/grpo.py:" in message
    assert message.endswith("did you mean 'train.grpo.num_prompts_per_step'?")
    with pytest.raises(
        StageConfigError, match=r"train.policy.megatron_cfg.expert_parallel_size: .*"
    ):
        StageConfig(
            run=run,
            recipe="nemo-rl",
            train={"policy": {"megatron_cfg": {"expert_parallel_size": 8}}},
        )
    # NeMo-RL's own markers and free-form sections (env: dict[str, Any]) pass
    StageConfig(
        run=run,
        recipe="nemo-rl",
        train={
            "defaults": "base.yaml",
            "env": {"math": {"num_workers": 8}},
            "data": {"_override_": True},
        },
    )


def test_rl_records_without_the_input_key_are_refused_before_training(rl_inputs, tmp_path) -> None:
    from nemotron.kit.artifacts import SplitJsonlDataArtifact

    blend = tmp_path / "blend"  # records as the published blend has them, placeholders unfilled
    blend.mkdir()
    record = {"responses_create_params": {"input": "{question}"}, "agent_ref": "x"}
    for split in ("train", "val"):
        (blend / f"{split}.jsonl").write_text(json.dumps(record) + "\n")
    SplitJsonlDataArtifact(
        path=str(blend), train_path=str(blend / "train.jsonl"), val_path=str(blend / "val.jsonl")
    ).save(name="nano3-rl-data")
    with pytest.raises(StageConfigError) as err:
        prepare_stage("rl", ["--config", str(CONFIGS / "rl/default.yaml")])
    assert str(err.value).startswith(
        f"train.data.train.input_key: 'question' is not in the records of {blend / 'train.jsonl'} "
        "(keys: responses_create_params, agent_ref)"
    )
    assert "create_nanov3_jsonl.py" in str(err.value)


class _Logger:
    """Stands in for NeMo-RL's Logger (not installable here): the `log_metrics` GRPO calls."""

    def __init__(self) -> None:
        self.logged: list[tuple[str | None, int, dict[str, Any]]] = []

    def log_metrics(
        self, metrics: dict[str, Any], step: int, prefix: str | None = "", **kw: Any
    ) -> None:
        self.logged.append((prefix, step, metrics))


def test_rl_publishes_the_last_train_loss_whatever_the_checkpoint_metric(
    nemo_rl_checkpoint,
) -> None:
    from nemotron.recipes.nano3.train import write_train_summary

    logger = _Logger()
    recorder = record_train_loss(logger)
    logger.log_metrics({"loss": 0.9, "reward": 0.1}, 1, prefix="train")
    logger.log_metrics({"accuracy": 0.5}, 1, prefix="validation")
    logger.log_metrics({"loss": 0.7}, 2, prefix="train")
    assert [entry[0] for entry in logger.logged] == ["train", "validation", "train"]  # still logged
    root = nemo_rl_checkpoint(steps=(2,))  # training_info.json without train:loss (val metric)
    write_train_summary(root, recorder.step, recorder.loss)
    info = read_nemo_rl_checkpoint(root)
    assert (info.step, info.loss) == (2, 0.7)

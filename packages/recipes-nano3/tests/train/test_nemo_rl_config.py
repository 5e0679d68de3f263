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

from nemotron.recipes.nano3.train import StageConfig, StageRun, prepare_stage
from nemotron.recipes.nano3.train._checkpoints import read_nemo_rl_checkpoint
from nemotron.recipes.nano3.train._nemo_rl import record_train_loss
from nemotron.recipes.nano3.train._nemo_rl_rules import base_config, merge_with_override
from nemotron.recipes.nano3.train._train_keys import NEMO_RL_SCHEMA_FILE
from nemotron.recipes.nano3.train.errors import StageConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "src/nemotron/recipes/nano3/configs"
FACTS = json.loads(NEMO_RL_SCHEMA_FILE.read_text())


def _get(config: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        config = config[part]
    return config


def _prepare_rl_data(out: Path, *overrides: str) -> str:
    """Tiny RL data through our data prep (placeholders filled); its train split's path."""
    from nemotron.kit.config import cli
    from nemotron.recipes.nano3.data_prep import RLDataConfig, run_rl

    argv = ["--config", str(CONFIGS / "data_prep/rl/tiny.yaml"), f"output_dir={out}", *overrides]
    return str(run_rl(cli(RLDataConfig, argv=argv)).train_path)


# the tiny blend alone: NeMo-Gym records (`responses_create_params`), placeholders filled
BLEND_ONLY = (
    "sources=[{name: blend, path: '@nano3/tiny/rl-blend', text_field: responses_create_params}]"
)


@pytest.fixture
def rl_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Real tiny RL data (our data prep), a parent model, and the output folder."""
    from nemotron.kit.artifacts import ModelArtifact

    monkeypatch.setenv("NEMOTRON_OUTPUT_DIR", str(tmp_path / "out"))
    model = tmp_path / "sft-checkpoints/iter_0000010"  # what NeMo-RL builds the policy from
    model.mkdir(parents=True)
    (model / "run_config.yaml").write_text("model: {num_layers: 4}\n")
    for name in ("nano3-sft-model", "nano3-tiny-sft-model"):
        ModelArtifact(path=str(model), step=10).save(name=name)
    return {"train": _prepare_rl_data(tmp_path / "rl"), "model": str(model), "tmp": str(tmp_path)}


def test_base_facts_are_the_lines_of_the_two_base_configs() -> None:
    assert FACTS["tag"] == "v0.7.0" and FACTS["commit"].startswith("81aa43dd")
    math, nanov3 = FACTS["base_configs"]
    assert math["file"] == "examples/configs/grpo_math_1B.yaml"
    values = math["values"]
    assert values["data.train.split_validation_size"] == {"value": 0.05, "line": 378}
    assert values["data.default.prompt_file"] == {"value": "examples/prompts/cot.txt", "line": 383}
    assert values["policy.model_name"]["value"] == "Qwen/Qwen2.5-1.5B"
    assert values["policy.train_global_batch_size"]["value"] == 512
    assert nanov3["file"] == "examples/nemo_gym/grpo_nanov3.yaml"  # the Nano 3 guide's recipe
    values = {k: v["value"] for k, v in nanov3["values"].items()}
    assert values["data.default.dataset_name"] == "NemoGymDataset"
    assert values["env.should_use_nemo_gym"] is True
    assert (values["cluster.num_nodes"], values["cluster.gpus_per_node"]) == (32, 8)


def _merged(config: str) -> tuple[dict[str, Any], str]:
    """The stage's hand-off merged over its base's values with NeMo-RL's rule, and the base."""
    handoff = prepare_stage("rl", ["--config", str(CONFIGS / f"rl/{config}.yaml")])
    train = dict(handoff.train)
    defaults = train.pop("defaults")
    base = base_config(defaults)
    assert base is not None, f"no facts for {defaults}"
    return merge_with_override(base, train), defaults


@pytest.mark.parametrize("config", ["default", "tiny"])
def test_rl_config_merged_as_nemo_rl_does_trains_what_we_mean(rl_inputs, config: str) -> None:
    train = rl_inputs["train"]
    if config == "default":  # NemoGymDataset: the (filled) blend's records
        train = _prepare_rl_data(Path(rl_inputs["tmp"]) / "blend", BLEND_ONLY)
    merged, defaults = _merged(config)
    assert _get(merged, "data.train.data_path") == train
    assert _get(merged, "data.validation.data_path").endswith("val.jsonl")
    # a Megatron policy, built from the Megatron-Bridge checkpoint it starts from
    assert _get(merged, "policy.megatron_cfg.enabled") is True
    assert _get(merged, "policy.dtensor_cfg.enabled") is False
    model_name = _get(merged, "policy.model_name")  # the Hugging Face config vLLM builds from
    if config == "default":
        assert model_name == "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"
    else:  # the tiny model's own (test_megatron_bridge_harness: the tiny pretrain architecture)
        assert (Path(model_name) / "config.json").is_file() and model_name.endswith("tiny/hf-model")
    assert _get(merged, "checkpointing.pretrained_checkpoint") == {
        "path": rl_inputs["model"],
        "format": "megatron_bridge",
    }
    for key in ("checkpointing.checkpoint_dir", "logger.log_dir"):  # the bases' are relative
        assert Path(_get(merged, key)).is_absolute()
    # one optimizer step trains on exactly the rollouts of a GRPO step
    rollouts = _get(merged, "grpo.num_prompts_per_step") * _get(
        merged, "grpo.num_generations_per_prompt"
    )
    assert _get(merged, "policy.train_global_batch_size") == rollouts
    if config == "default":
        # the Nano 3 guide's recipe: NeMo-Gym records and environments, 32 x 8 GPUs
        assert defaults.endswith("examples/nemo_gym/grpo_nanov3.yaml")
        assert _get(merged, "data.default.dataset_name") == "NemoGymDataset"
        assert _get(merged, "env.should_use_nemo_gym") is True
        assert rollouts == 128 * 16
        return
    assert defaults.endswith("examples/configs/grpo_math_1B.yaml")
    # our validation split is separate: nothing is cut off the training split
    assert _get(merged, "data.train.split_validation_size") == 0
    # the prompt file does not depend on the job's working directory
    prompt = _get(merged, "data.default.prompt_file")
    assert Path(prompt).is_absolute() and prompt.endswith("examples/prompts/cot.txt")
    assert rollouts % _get(merged, "policy.train_micro_batch_size") == 0


def test_override_marker_replaces_a_section_as_nemo_rl_does() -> None:
    base = base_config("examples/configs/grpo_math_1B.yaml")
    assert base is not None
    merged = merge_with_override(base, {"data": {"_override_": True, "shuffle": False}})
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


def _publish_rl_data(folder: Path, *records: dict[str, Any]) -> Path:
    from nemotron.kit.artifacts import SplitJsonlDataArtifact

    folder.mkdir()
    for split in ("train", "val"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    SplitJsonlDataArtifact(
        path=str(folder), train_path=str(folder / "train.jsonl"), val_path=str(folder / "val.jsonl")
    ).save(name="nano3-rl-data")
    return folder / "train.jsonl"


@pytest.mark.parametrize(
    ("config", "record", "message"),
    [
        # the published blend as downloaded: placeholders not filled (issue 15: a KeyError later)
        (
            "default",
            {"dataset": "nano_v3_sft_profiled_dapo17k", "_hf_placeholder": {"row": 3}},
            "train.data.train.data_path: {path}: line 1 is an unfilled placeholder (dataset "
            "'nano_v3_sft_profiled_dapo17k'); prepare the blend with `nemotron nano3 data prep rl`",
        ),
        # NemoGymDataset hands `responses_create_params` to the NeMo-Gym environments
        (
            "default",
            {"question": "1+1?", "expected_answer": "2"},
            "train.data.train.data_path: 'responses_create_params' is not in the records of {path}",
        ),
        # ResponseDataset (tiny) reads input_key/output_key
        (
            "tiny",
            {"responses_create_params": {"input": []}, "agent_ref": "x"},
            "train.data.train.input_key: 'question' is not in the records of {path} "
            "(keys: responses_create_params, agent_ref)",
        ),
    ],
)
def test_rl_records_the_dataset_cannot_read_are_refused_before_training(
    rl_inputs, tmp_path, config: str, record: dict[str, Any], message: str
) -> None:
    path = _publish_rl_data(tmp_path / "data", record)
    with pytest.raises(StageConfigError) as err:
        prepare_stage("rl", ["--config", str(CONFIGS / f"rl/{config}.yaml")])
    assert str(err.value).startswith(message.format(path=path))


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


@pytest.mark.parametrize(
    ("overrides", "key", "message"),
    [
        # the base's 512 samples a step for tiny's 2 x 2 rollouts: no whole global batch
        (
            ["train.policy.train_global_batch_size=512"],
            "train.policy.train_global_batch_size",
            "is 512, but a GRPO step has 2 x 2 = 4 rollouts (NeMo-RL cuts them into whole "
            "global batches: batched_data_dict.py:395); set it to 4 or a divisor of it",
        ),
        (
            ["train.policy.train_global_batch_size=3"],
            "train.policy.train_global_batch_size",
            "set it to 4 or a divisor of it",
        ),
        # 8 GPUs = 8 data-parallel ranks: 4 rollouts cannot be split over them
        (
            ["train.cluster.gpus_per_node=8"],
            "train.policy.train_global_batch_size",
            "is 4, not a multiple of the 8 data-parallel ranks (batched_data_dict.py:399)",
        ),
        (
            ["++train.policy.megatron_cfg.tensor_model_parallel_size=2"],
            "train.cluster.gpus_per_node",
            "gives 1 GPUs, not a multiple of one model replica",
        ),
        (
            ["train.data.default.prompt_file=examples/prompts/cot.txt"],
            "train.data.default.prompt_file",
            "is a relative path (examples/prompts/cot.txt): NeMo-RL opens it from the job's "
            "working directory",
        ),
    ],
)
def test_tiny_rl_against_nemo_rl_rules_is_refused_before_submitting(
    rl_inputs, overrides: list[str], key: str, message: str
) -> None:
    with pytest.raises(StageConfigError) as err:
        prepare_stage("rl", ["--config", str(CONFIGS / "rl/tiny.yaml"), *overrides])
    assert str(err.value).startswith(f"{key}: ") and message in str(err.value)


def test_rl_parent_must_be_a_megatron_bridge_checkpoint(rl_inputs, tmp_path) -> None:
    from nemotron.kit.artifacts import ModelArtifact

    # NeMo-RL builds the policy from the checkpoint's run_config.yaml (megatron/setup.py:358):
    # a folder of iter_* steps resolves through its tracker file; a folder without one is refused
    root = tmp_path / "sft-root"
    (root / "iter_0000004").mkdir(parents=True)
    (root / "iter_0000004/run_config.yaml").write_text("model: {}\n")
    (root / "latest_checkpointed_iteration.txt").write_text("4\n")
    ModelArtifact(path=str(root), step=4).save(name="nano3-tiny-sft-model")
    handoff = prepare_stage("rl", ["--config", str(CONFIGS / "rl/tiny.yaml")])
    assert handoff.train["checkpointing"]["pretrained_checkpoint"]["path"] == str(root)
    hf_folder = tmp_path / "hf-model"
    hf_folder.mkdir()
    (hf_folder / "config.json").write_text("{}")
    ModelArtifact(path=str(hf_folder), step=4).save(name="nano3-tiny-sft-model")
    with pytest.raises(StageConfigError) as err:
        prepare_stage("rl", ["--config", str(CONFIGS / "rl/tiny.yaml")])
    assert str(err.value).startswith(
        f"run.model_path: {hf_folder} holds no Megatron-Bridge checkpoint (hf-model/run_config.yaml"
    )


def test_a_config_inheriting_the_base_batch_is_refused() -> None:
    # issue 15: tiny RL kept grpo_math_1B's global batch of 512 for its 2 x 2 rollouts (0 batches)
    from nemotron.recipes.nano3.train._nemo_rl_rules import check_grpo_config

    train = {
        "defaults": "/opt/nemo-rl/examples/configs/grpo_math_1B.yaml",
        "grpo": {"num_prompts_per_step": 2, "num_generations_per_prompt": 2},
        "checkpointing": {"checkpoint_dir": "/out/checkpoints"},  # as the hand-off fills them
        "logger": {"log_dir": "/out/logs"},
    }
    # issue 15 too: the base's prompt file is relative to the NeMo-RL checkout
    with pytest.raises(StageConfigError, match=r"^train.data.default.prompt_file: is a relative"):
        check_grpo_config(train)
    train["data"] = {"default": {"prompt_file": "/opt/nemo-rl/examples/prompts/cot.txt"}}
    with pytest.raises(StageConfigError, match=r"is 512, but a GRPO step has 2 x 2 = 4 rollouts"):
        check_grpo_config(train)
    check_grpo_config({**train, "policy": {"train_global_batch_size": 4}})
    # with a base file the facts do not hold, only our own values are judged
    check_grpo_config({**train, "defaults": "/shared/my_grpo.yaml"})

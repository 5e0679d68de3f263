"""NeMo-RL v0.7.0's start-up rules for a GRPO config, checked on the RL hand-off before submitting.

NeMo-RL is not installed where jobs are submitted, so its rules are restated here from its source
at v0.7.0 (values of the base config from `nemo_rl_schema.json`, with their lines):

- the config NeMo-RL trains with is our `train:` merged over the `defaults:` file by
  `merge_with_override` (nemo_rl/utils/config.py:30-44): OmegaConf.merge, and a top-level
  section marked `_override_: true` replaces the base's section;
- a GRPO step's rollouts (`num_prompts_per_step` x `num_generations_per_prompt`) are cut into
  global batches of `policy.train_global_batch_size` by `shard_by_batch_size`
  (nemo_rl/distributed/batched_data_dict.py:395, "Total batch size ... is not a multiple of
  batch_size"), each split over the data-parallel ranks (:399, "Batch size ... is not a multiple
  of shards"), data parallel = GPUs / (tensor x pipeline x context parallel);
- the GPUs must hold one model replica (nemo_rl/models/policy/lm_policy.py:197);
- files NeMo-RL opens by path (prompt files, checkpoint and log folders) are relative to the
  job's working directory, which is not the user's: they must be absolute;
- a `megatron_bridge` pretrained checkpoint is an `iter_*` folder holding `run_config.yaml`, or a
  folder of them (nemo_rl/models/megatron/setup.py:358 `validate_model_paths`); the model is built
  from that run_config.yaml, `policy.model_name` only names the Hugging Face tokenizer/config.

- a dataset's records (its first line is read when the file is visible here) hold what its
  dataset class reads: `input_key`/`output_key` (`ResponseDataset`), `responses_create_params`
  (`NemoGymDataset`, nemo_rl/data/datasets/response_datasets/nemogym_dataset.py), never an
  unfilled `_hf_placeholder` of the Nano 3 blend; `data.default` fills each split's missing keys
  (nemo_rl/data/datasets/utils.py:168 `update_single_dataset_config`).

The base files the facts hold are examples/configs/grpo_math_1B.yaml (tiny) and
examples/nemo_gym/grpo_nanov3.yaml (default, the Nano 3 guide's recipe); with another
`defaults:` file only our own values are checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.train._train_keys import nemo_rl_schema
from nemotron.recipes.nano3.train.errors import StageConfigError

__all__ = [
    "check_grpo_config",
    "check_megatron_bridge_checkpoint",
    "merge_with_override",
    "nemo_rl_config",
]


def merge_with_override(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """NeMo-RL's merge of a config over its `defaults:` (nemo_rl/utils/config.py:30-44)."""
    from omegaconf import OmegaConf

    base_cfg, override_cfg = OmegaConf.create(base), OmegaConf.create(override)
    for key in list(override_cfg.keys()):
        section = override_cfg[key]
        if OmegaConf.is_dict(section) and section.get("_override_", False):
            section.pop("_override_")
            base_cfg.pop(key, None)
    merged: dict[str, Any] = OmegaConf.to_container(OmegaConf.merge(base_cfg, override_cfg))  # type: ignore[assignment]
    return merged


def base_config(defaults: str) -> dict[str, Any] | None:
    """The values the facts hold of the base config `defaults` names (None: not one we know)."""
    for base in nemo_rl_schema()["base_configs"]:
        if defaults.endswith(base["file"]):
            config: dict[str, Any] = {}
            for dotted, fact in base["values"].items():
                *parents, leaf = dotted.split(".")
                node = config
                for part in parents:
                    node = node.setdefault(part, {})
                node[leaf] = fact["value"]
            return config
    return None


def nemo_rl_config(train: dict[str, Any], overrides: Sequence[str] = ()) -> dict[str, Any]:
    """`train:` (and its `train.` overrides, without the prefix) as NeMo-RL would load it, as far
    as the facts know the `defaults:` file. An override that does not apply to what is known
    here is left to NeMo-RL's own parser."""
    from omegaconf import OmegaConf

    from nemotron.kit.config import apply_hydra_overrides
    from nemotron.kit.config.errors import ConfigError

    ours = {k: v for k, v in train.items() if k != "defaults"}
    base = base_config(str(train.get("defaults") or "")) or {}
    config = merge_with_override(base, ours)
    for override in overrides:
        try:
            applied = apply_hydra_overrides(config, [override])
        except ConfigError:
            continue
        config = OmegaConf.to_container(applied)  # type: ignore[assignment]
    return config


def _get(config: dict[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _ints(config: dict[str, Any], *keys: str) -> list[int] | None:
    """The values of `keys` when each is a plain int (None when one is unset or interpolated)."""
    values = [_get(config, k) for k in keys]
    ok = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    return values if ok else None


_PATH_KEYS = (
    "checkpointing.checkpoint_dir",
    "checkpointing.pretrained_checkpoint.path",
    "logger.log_dir",
)
_DATA_PATH_KEYS = ("prompt_file", "system_prompt_file")


def _relative_paths(config: dict[str, Any]) -> list[str]:
    """Keys whose value is a relative path NeMo-RL opens (data_path may be a Hub name: not one)."""
    data = config.get("data")
    sections = [k for k, v in data.items() if isinstance(v, dict)] if isinstance(data, dict) else []
    keys = [*_PATH_KEYS, *(f"data.{s}.{k}" for s in sections for k in _DATA_PATH_KEYS)]
    return [
        key
        for key in keys
        if isinstance(value := _get(config, key), str)
        and value
        and "${" not in value
        and "://" not in value
        and not Path(value).is_absolute()
    ]


def _check_records(config: dict[str, Any]) -> None:
    data = config.get("data")
    if not isinstance(data, dict):
        return
    default = data.get("default")
    if not isinstance(default, dict):
        default = {}
    for split in ("train", "validation"):
        section = data.get(split)
        if isinstance(section, dict):
            _check_first_record(f"train.data.{split}", {**default, **section})


def _check_first_record(key: str, dataset: dict[str, Any]) -> None:
    """The dataset's first record has what its dataset class reads (else a KeyError in the job)."""
    import json

    path = dataset.get("data_path")
    if not isinstance(path, str) or not Path(path).is_file():
        return  # not readable here (e.g. a cluster path, a Hub name): NeMo-RL reports it
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
    try:
        record = json.loads(first) if first.strip() else {}
    except ValueError:
        raise StageConfigError(
            f"{key}.data_path", f"{path}: line 1 is not JSON", "give a JSONL file"
        ) from None
    if not isinstance(record, dict):
        return
    if "_hf_placeholder" in record:
        raise StageConfigError(
            f"{key}.data_path",
            f"{path}: line 1 is an unfilled placeholder (dataset {record.get('dataset')!r})",
            "prepare the blend with `nemotron nano3 data prep rl`, whose `placeholders:` fill "
            "them as NeMo-RL's Nano 3 guide does",
        )
    if dataset.get("dataset_name") == "NemoGymDataset":
        fields = {"data_path": "responses_create_params"}
    else:
        fields = {
            k: dataset[k] for k in ("input_key", "output_key") if isinstance(dataset.get(k), str)
        }
    for field_key, name in fields.items():
        if name not in record:
            raise StageConfigError(
                f"{key}.{field_key}",
                f"'{name}' is not in the records of {path} (keys: {', '.join(map(str, record))})",
                "give records with that field, or set the key to the field holding it",
            )


def check_grpo_config(train: dict[str, Any], overrides: Sequence[str] = ()) -> None:
    """Raise `StageConfigError` when NeMo-RL would refuse (or silently not train) this config."""
    config = nemo_rl_config(train, overrides)
    _check_records(config)
    relative = _relative_paths(config)
    if relative:
        key = relative[0]
        raise StageConfigError(
            f"train.{key}",
            f"is a relative path ({_get(config, key)}): NeMo-RL opens it from the job's working "
            "directory, not this one",
            "give an absolute path on the cluster (e.g. under ${oc.env:NEMO_RL_DIR,/opt/nemo-rl})",
        )
    sizes = _ints(
        config,
        "grpo.num_prompts_per_step",
        "grpo.num_generations_per_prompt",
        "policy.train_global_batch_size",
    )
    if sizes:
        prompts, generations, batch = sizes
        rollouts = prompts * generations
        if batch <= 0 or rollouts % batch:
            raise StageConfigError(
                "train.policy.train_global_batch_size",
                f"is {batch}, but a GRPO step has {prompts} x {generations} = {rollouts} rollouts "
                "(NeMo-RL cuts them into whole global batches: batched_data_dict.py:395)",
                f"set it to {rollouts} or a divisor of it",
            )
    parallel = _ints(
        config,
        "policy.megatron_cfg.tensor_model_parallel_size",
        "policy.megatron_cfg.pipeline_model_parallel_size",
        "policy.megatron_cfg.context_parallel_size",
    )
    nodes = _ints(config, "cluster.gpus_per_node", "cluster.num_nodes")
    if _get(config, "policy.megatron_cfg.enabled") is True and parallel and nodes:
        replica = parallel[0] * parallel[1] * parallel[2]
        gpus = nodes[0] * nodes[1]
        if gpus < replica or gpus % replica:
            raise StageConfigError(
                "train.cluster.gpus_per_node",
                f"gives {gpus} GPUs, not a multiple of one model replica (tensor x pipeline x "
                f"context parallel = {replica}; lm_policy.py:197)",
                "give whole replicas or lower train.policy.megatron_cfg's parallel sizes",
            )
        data_parallel = gpus // replica
        if sizes and sizes[2] % data_parallel:
            raise StageConfigError(
                "train.policy.train_global_batch_size",
                f"is {sizes[2]}, not a multiple of the {data_parallel} data-parallel ranks "
                "(batched_data_dict.py:399)",
                f"use a multiple of {data_parallel}",
            )


def check_megatron_bridge_checkpoint(path: str) -> None:
    """A local `megatron_bridge` checkpoint is what NeMo-RL's `validate_model_paths` accepts."""
    folder = Path(path)
    if not folder.is_dir():
        return  # not visible here (a cluster path): NeMo-RL reports it
    if (folder / "run_config.yaml").is_file():
        return
    tracker = folder / "latest_checkpointed_iteration.txt"
    steps = sorted(p for p in folder.glob("iter_*") if p.is_dir())
    if tracker.is_file():
        text = tracker.read_text().strip()
        step = folder / (f"iter_{int(text):07d}" if text.isdigit() else text)
    else:
        step = steps[-1] if steps else folder
    if not (step / "run_config.yaml").is_file():
        raise StageConfigError(
            "run.model_path",
            f"{path} holds no Megatron-Bridge checkpoint ({step.name}/run_config.yaml is missing; "
            "NeMo-RL builds the policy from it: megatron/setup.py:358)",
            "point run.model at the ModelArtifact of a Megatron-Bridge SFT run (an iter_* folder)",
        )

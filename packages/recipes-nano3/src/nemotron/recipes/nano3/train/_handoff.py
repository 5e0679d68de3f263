"""The hand-off from a stage config to the training library: what the library receives.

`build_handoff` fills in what only the recipe knows (output folders, the data blend, the parent
checkpoint) into the library's own config section, without importing the library; `Handoff.write`
records it in the stage's output folder (`handoff.yaml`), so every run shows exactly what the
library was given. CPU tests check this hand-off; the GPU runners (`_megatron`, `_nemo_rl`) only
apply it.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.train._blend import read_blend_per_split
from nemotron.recipes.nano3.train._nemo_rl_rules import (
    check_grpo_config,
    check_megatron_bridge_checkpoint,
)
from nemotron.recipes.nano3.train._stage_config import StageConfig
from nemotron.recipes.nano3.train._train_keys import check_train_keys
from nemotron.recipes.nano3.train.errors import StageConfigError

__all__ = ["HANDOFF_FILE", "STAGE_LIBRARY", "Handoff", "build_handoff"]

HANDOFF_FILE = "handoff.yaml"

STAGE_LIBRARY = {"pretrain": "megatron-bridge", "sft": "megatron-bridge", "rl": "nemo-rl"}
_ENTRY = {
    "pretrain": "megatron.bridge.training.pretrain.pretrain",
    "sft": "megatron.bridge.training.finetune.finetune",
    "rl": "nemo_rl.algorithms.grpo.grpo_train",
}


@dataclass(frozen=True)
class Handoff:
    """Everything a training library is given by a stage."""

    stage: str
    library: str
    entry: str
    recipe: str
    train: dict[str, Any]
    """The library's config section, paths filled in (Megatron-Bridge or NeMo-RL format)."""
    library_overrides: list[str]
    """`train.`-prefixed command-line overrides, applied by the library's own parser."""
    output_dir: str
    checkpoint_dir: str
    publish_as: str
    """Registry name of the `ModelArtifact` published for the final checkpoint."""
    inputs: dict[str, str | None] = field(default_factory=dict)
    used_artifacts: list[str] = field(default_factory=list)
    """Exact versions (`art://Name:vN`) the config resolved: the lineage of what is trained."""

    def write(self, folder: str | Path | None = None) -> Path:
        """Write `handoff.yaml` (and return its path) in `folder` (default: the output folder).

        Secrets are masked (kit's one redaction: secret-named keys, secret env values in strings).
        """
        import yaml  # PyYAML comes with omegaconf (kit-config)

        from nemotron.kit.artifacts.secrets import redact

        target = Path(folder or self.output_dir) / HANDOFF_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(redact(asdict(self)), sort_keys=False))
        tmp.replace(target)
        return target

    @classmethod
    def read(cls, path: str | Path) -> Handoff:
        """The hand-off a stage wrote (`handoff.yaml`), as the library side loads it."""
        import yaml

        return cls(**yaml.safe_load(Path(path).read_text()))


def build_handoff(stage: str, cfg: StageConfig, library_overrides: list[str]) -> Handoff:
    """Fill the stage's outputs, data and parent model into the library's config section."""
    if stage not in STAGE_LIBRARY:
        raise ValueError(f"unknown training stage {stage!r}")
    check_train_keys(cfg.recipe, {}, library_overrides)
    output_dir = Path(cfg.run.output_dir).absolute()
    train = copy.deepcopy(cfg.train)
    if stage == "rl":
        checkpoint_dir = _fill_nemo_rl(train, cfg, output_dir)
        check_grpo_config(train, library_overrides)
    else:
        checkpoint_dir = _fill_megatron_bridge(stage, train, cfg, output_dir)
    return Handoff(
        stage=stage,
        library=STAGE_LIBRARY[stage],
        entry=_ENTRY[stage],
        recipe=cfg.recipe,
        train=train,
        library_overrides=list(library_overrides),
        output_dir=str(output_dir),
        checkpoint_dir=checkpoint_dir,
        publish_as=cfg.run.publish_as,
        inputs={
            "data": cfg.run.data,
            "data_dir": cfg.run.data_dir,
            "model": cfg.run.model,
            "model_path": cfg.run.model_path,
        },
    )


def _section(train: dict[str, Any], name: str) -> dict[str, Any]:
    value = train.setdefault(name, {})
    if not isinstance(value, dict):
        raise StageConfigError(f"train.{name}", f"is {type(value).__name__}", "make it a mapping")
    return value


def _fill_megatron_bridge(
    stage: str, train: dict[str, Any], cfg: StageConfig, output_dir: Path
) -> str:
    checkpoint = _section(train, "checkpoint")
    save = str(checkpoint.get("save") or output_dir / "checkpoints")
    checkpoint["save"] = save
    checkpoint.setdefault("load", save)  # resume from our own checkpoints when rerun
    _section(train, "logger").setdefault("tensorboard_dir", str(output_dir / "tb_logs"))
    if stage == "pretrain":
        if not cfg.run.blend_file:
            raise StageConfigError(
                "run.blend_file",
                "is not set",
                "set it to the data artifact's blend file, e.g. ${art:data,blend_path}",
            )
        dataset = _section(train, "dataset")
        dataset["blend"] = None
        dataset["split"] = None  # megatron-core wants no split ratio with per-split blends
        dataset["blend_per_split"] = [
            None if blend is None else [blend[0], blend[1]]
            for blend in read_blend_per_split(cfg.run.blend_file)
        ]
    else:
        checkpoint["pretrained_checkpoint"] = _require_model(cfg)
    return save


def _fill_nemo_rl(train: dict[str, Any], cfg: StageConfig, output_dir: Path) -> str:
    checkpointing = _section(train, "checkpointing")
    save = str(checkpointing.get("checkpoint_dir") or output_dir / "checkpoints")
    checkpointing["checkpoint_dir"] = save
    policy = train.get("policy")
    if isinstance(policy, dict) and isinstance(policy.get("model_name"), str):
        from nemotron.recipes.nano3.data_prep._config import asset_path

        policy["model_name"] = asset_path(policy["model_name"])  # `@nano3/...`: a shipped config
    model = _require_model(cfg)
    check_megatron_bridge_checkpoint(model)
    checkpointing["pretrained_checkpoint"] = {"path": model, "format": "megatron_bridge"}
    _section(train, "logger").setdefault("log_dir", str(output_dir / "logs"))
    return save


def _require_model(cfg: StageConfig) -> str:
    if not cfg.run.model_path:
        raise StageConfigError(
            "run.model_path",
            "is not set (this stage starts from a trained model)",
            "set run.model to a ModelArtifact (art://Name:vN) and run.model_path to ${art:model,path}",
        )
    return cfg.run.model_path

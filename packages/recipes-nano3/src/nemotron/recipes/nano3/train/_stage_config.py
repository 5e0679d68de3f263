"""The typed config every training stage loads, and the split of overrides between us and the library.

A stage config has three sections::

    run:      # ours: artifact inputs (`art://...`), their resolved paths (`${art:data,path}`),
              # the output folder and the name the trained model is published under
    recipe:   # which library entry builds the base config (a Megatron-Bridge recipe function,
              # "module:function"), or "nemo-rl" for NeMo-RL's own YAML
    train:    # the library's own config, in the library's own format (Megatron-Bridge
              # ConfigContainer fields, or a NeMo-RL GRPO MasterConfig)

Overrides on the command line for keys under `train.` are handed to the library's own override
parser (it knows every field of its config; our YAML lists only the ones we set); the other
overrides are applied by kit-config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["StageConfig", "StageRun", "split_overrides"]

_LIBRARY_SECTION = "train."


@dataclass
class StageRun:
    """Our side of a stage: inputs, outputs, and the published name."""

    data: str
    """The data artifact (`art://Name:vN`, `art://Name:latest` or a path)."""
    data_dir: str
    """The data artifact's folder, normally `${art:data,path}`."""
    output_dir: str
    """Where checkpoints, logs and the hand-off to the library are written."""
    publish_as: str
    """Registry name of the `ModelArtifact` published for the final checkpoint."""
    model: str | None = None
    """The parent model artifact (SFT: the pretrained model; RL: the SFT model)."""
    model_path: str | None = None
    """The parent model's checkpoint folder, normally `${art:model,path}`."""
    blend_file: str | None = None
    """Pretrain only: the blend file of the data artifact (train/valid/test blends)."""
    wandb: dict[str, Any] | None = None
    """W&B run settings (project, entity, name, ...); with env.toml `[wandb]` turns W&B on."""


@dataclass
class StageConfig:
    """A training stage config: `run` (ours), `recipe` and `train` (the library's)."""

    run: StageRun
    recipe: str
    train: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse `train:` keys the library does not have (it would skip them with a warning)."""
        from nemotron.recipes.nano3.train._train_keys import check_train_keys

        check_train_keys(self.recipe, self.train)


def split_overrides(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split overrides into (ours, the library's): `train.x=1` -> the library gets `x=1`.

    Hydra prefixes (`+`, `++`, `~`) stay on the override; only the `train.` key prefix is removed.
    """
    ours: list[str] = []
    library: list[str] = []
    for override in overrides:
        prefix = override[: len(override) - len(override.lstrip("+~"))]
        rest = override[len(prefix) :]
        if rest.startswith(_LIBRARY_SECTION):
            library.append(prefix + rest[len(_LIBRARY_SECTION) :])
        else:
            ours.append(override)
    return ours, library

"""Run a pretrain/SFT hand-off on Megatron-Bridge (0.6), through its public API only.

    config = <recipe function>()                                 # e.g. nemotron_3_nano_pretrain_config
    omega, excluded = create_omegaconf_dict_config(config)       # training.utils.omegaconf_utils
    omega = OmegaConf.merge(omega, handoff.train)                # our `train:` section
    omega = parse_hydra_overrides(omega, handoff.library_overrides)
    apply_overrides(config, OmegaConf.to_container(omega, resolve=True), excluded)
    pretrain(config, forward_step) / finetune(config, forward_step)   # training.gpt_step.forward_step

This is what Megatron-Bridge's own example scripts do
(examples/models/nemotron/nemotron_3/nano/pretrain_nemotron_3_nano.py). A `Callback` records the
last training loss so the published `ModelArtifact` carries it (a checkpoint does not).
Imported only where Megatron-Bridge is installed.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from nemotron.recipes.nano3.train._checkpoints import write_train_summary
from nemotron.recipes.nano3.train._handoff import Handoff
from nemotron.recipes.nano3.train.errors import StageConfigError

__all__ = ["LOSS_KEY", "build_config_container", "recipe_function", "run_megatron_bridge"]

LOSS_KEY = "lm loss"


def build_config_container(handoff: Handoff) -> Any:
    """The recipe's ConfigContainer with our `train:` section and the `train.` overrides applied.

    Runs Megatron-Bridge's own config code only (no GPU): the CPU tests call it to validate every
    stage config against the real dataclasses.
    """
    from megatron.bridge.training.utils.omegaconf_utils import (
        apply_overrides,
        create_omegaconf_dict_config,
        parse_hydra_overrides,
    )
    from omegaconf import OmegaConf

    config = recipe_function(handoff.recipe)()
    omega, excluded = create_omegaconf_dict_config(config)
    omega = OmegaConf.merge(omega, OmegaConf.create(handoff.train))
    if handoff.library_overrides:
        omega = parse_hydra_overrides(omega, handoff.library_overrides)
    apply_overrides(config, OmegaConf.to_container(omega, resolve=True), excluded)
    return config


def run_megatron_bridge(handoff: Handoff) -> str:
    """Build the ConfigContainer, train, and return the folder the checkpoints were saved in."""
    from megatron.bridge.training.gpt_step import forward_step

    config = build_config_container(handoff)
    if handoff.stage == "pretrain":
        from megatron.bridge.training.pretrain import pretrain as entry
    else:
        from megatron.bridge.training.finetune import finetune as entry
    save_dir = str(config.checkpoint.save)
    entry(config=config, forward_step_func=forward_step, callbacks=[_loss_recorder(save_dir)])

    import torch

    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return save_dir


def recipe_function(recipe: str) -> Any:
    """The Megatron-Bridge recipe function named `module:function`."""
    module_name, _, function_name = recipe.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as err:
        raise StageConfigError(
            "recipe",
            f"{recipe!r} is not a Megatron-Bridge recipe function ({err})",
            "use 'module:function', e.g. "
            "megatron.bridge.recipes.nemotronh.nemotron_3_nano:nemotron_3_nano_pretrain_config",
        ) from err
    return function


def _loss_recorder(save_dir: str) -> Any:
    """A Megatron-Bridge `Callback` that writes the last step and loss beside the checkpoints."""
    from megatron.bridge.training.callbacks import Callback

    class LossRecorder(Callback):
        def __init__(self) -> None:
            self.loss: float | None = None

        def on_train_step_end(self, context: Any) -> None:
            value = (context.loss_dict or {}).get(LOSS_KEY)
            if value is not None:
                self.loss = float(value)

        def on_train_end(self, context: Any) -> None:
            # The last rank sits in the last pipeline stage, where the loss is computed.
            if int(os.environ.get("RANK", "0")) == int(os.environ.get("WORLD_SIZE", "1")) - 1:
                write_train_summary(save_dir, int(context.state.train_state.step), self.loss)

    return LossRecorder()

"""Run an RL hand-off on NeMo-RL's GRPO (0.7), the way its `examples/run_grpo.py` does, or, for
a NeMo-Gym config (`env.should_use_nemo_gym`, the Nano 3 recipe), its
`examples/nemo_gym/run_grpo_nemo_gym.py`:

    config = load_config(<hand-off train section as YAML>)  # nemo_rl.utils.config; `defaults:` works
    config = parse_hydra_overrides(config, handoff.library_overrides)
    resolved: dict[str, Any] = OmegaConf.to_container(config, resolve=True)  # type: ignore[assignment]
    master = MasterConfig(**resolved)
    init_ray()                                              # nemo_rl.distributed.virtual_cluster
    tokenizer = get_tokenizer(master.policy["tokenizer"])
    data = setup_response_data(tokenizer, master.data, master.env)
    #  NeMo-Gym: setup_nemo_gym_config(master, tokenizer); setup_response_data(..., None);
    #  validation on the whole validation set; the environments are {"nemo_gym": <from setup>}
    ... = setup(master, tokenizer, dataset, val_dataset)    # nemo_rl.algorithms.grpo
    grpo_train(...)

Imported only where NeMo-RL is installed (its container, or `requirements/rl.txt`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.train._checkpoints import write_train_summary
from nemotron.recipes.nano3.train._handoff import Handoff

__all__ = ["NEMO_RL_CONFIG_FILE", "record_train_loss", "run_nemo_rl", "write_nemo_rl_config"]

NEMO_RL_CONFIG_FILE = "nemo_rl_config.yaml"


def write_nemo_rl_config(handoff: Handoff) -> Path:
    """The `train:` section as a NeMo-RL config file (its `defaults:` resolved by NeMo-RL)."""
    import yaml

    target = Path(handoff.output_dir) / NEMO_RL_CONFIG_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(handoff.train, sort_keys=False))
    return target


def run_nemo_rl(handoff: Handoff) -> str:
    """Set up GRPO from the hand-off, train, and return the checkpoint folder."""
    from nemo_rl.algorithms.grpo import MasterConfig, grpo_train, setup
    from nemo_rl.algorithms.utils import get_tokenizer
    from nemo_rl.data.utils import setup_response_data
    from nemo_rl.distributed.virtual_cluster import init_ray
    from nemo_rl.models.generation import configure_generation_config
    from nemo_rl.utils.config import (
        load_config,
        parse_hydra_overrides,
        register_omegaconf_resolvers,
    )
    from omegaconf import OmegaConf

    register_omegaconf_resolvers()
    config = load_config(str(write_nemo_rl_config(handoff)))
    if handoff.library_overrides:
        config = parse_hydra_overrides(config, handoff.library_overrides)
    resolved: dict[str, Any] = OmegaConf.to_container(config, resolve=True)  # type: ignore[assignment]
    master = MasterConfig(**resolved)

    init_ray()
    tokenizer = get_tokenizer(master.policy["tokenizer"])
    master.policy["generation"] = configure_generation_config(
        master.policy["generation"], tokenizer
    )
    uses_gym = bool(master.env.get("should_use_nemo_gym"))  # as grpo._should_use_nemo_gym reads it
    if uses_gym:
        from nemo_rl.environments.nemo_gym import setup_nemo_gym_config

        setup_nemo_gym_config(master, tokenizer)
        dataset, val_dataset = setup_response_data(tokenizer, master.data, None)
        if val_dataset is not None:  # NeMo-Gym validates on every validation record
            master.grpo["max_val_samples"] = master.grpo["val_batch_size"] = len(val_dataset)
    else:
        dataset, val_dataset, task_to_env, val_task_to_env = setup_response_data(
            tokenizer, master.data, master.env
        )
    (
        policy,
        generation,
        nemo_gym,
        _cluster,
        dataloader,
        val_dataloader,
        loss_fn,
        logger,
        checkpointer,
        save_state,
        master,
        *_teachers,
    ) = setup(master, tokenizer, dataset, val_dataset)
    if uses_gym:
        task_to_env = val_task_to_env = {"nemo_gym": nemo_gym}
    recorder = record_train_loss(logger)
    grpo_train(
        policy,
        generation,
        dataloader,
        val_dataloader,
        tokenizer,
        loss_fn,
        task_to_env,
        val_task_to_env,
        logger,
        checkpointer,
        save_state,
        master,
    )
    checkpoint_dir = str(master.checkpointing["checkpoint_dir"])
    if recorder.step is not None:
        write_train_summary(checkpoint_dir, recorder.step, recorder.loss)
    return checkpoint_dir


class _LossRecorder:
    """The last `train` loss NeMo-RL's GRPO logged, and its step."""

    def __init__(self) -> None:
        self.step: int | None = None
        self.loss: float | None = None


def record_train_loss(logger: Any) -> _LossRecorder:
    """Wrap a NeMo-RL `Logger.log_metrics` so the last `train` loss is kept.

    GRPO logs every step's metrics with `logger.log_metrics(metrics, total_steps + 1,
    prefix="train")` (nemo_rl/algorithms/grpo.py, v0.7.0), `metrics["loss"]` among them; its
    checkpoints keep the loss only when `checkpointing.metric_name` is `train:loss`.
    """
    recorder = _LossRecorder()
    log_metrics = logger.log_metrics

    def log_and_record(
        metrics: dict[str, Any], step: int, prefix: str | None = "", **kw: Any
    ) -> None:
        log_metrics(metrics, step, prefix, **kw)
        if prefix == "train" and "loss" in metrics:
            recorder.step, recorder.loss = int(step), float(metrics["loss"])

    logger.log_metrics = log_and_record
    return recorder

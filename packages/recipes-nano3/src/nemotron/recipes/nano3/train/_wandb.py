"""W&B for a training stage: one run that our lineage and the library's own logging share.

`start_tracking` starts kit-lineage's tracking (a W&B run when `run.wandb` / env.toml `[wandb]`
configures one, else the local file tracker). `join_wandb` then points the library's W&B logger
at the same run: project/entity/name in its own config keys (Megatron-Bridge `logger.wandb_*`,
NeMo-RL `logger.wandb_enabled` + `logger.wandb`), and `WANDB_RUN_ID` + `WANDB_RESUME=allow` in the
environment, so the library's `wandb.init` resumes our run instead of starting another.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from nemotron.recipes.nano3.train._handoff import Handoff

__all__ = ["join_wandb", "start_tracking"]


def start_tracking(cfg: Any, stage: str) -> Any:
    """Install the lineage tracker and start the W&B run when configured; returns it or None."""
    from nemotron.kit.lineage import init_wandb_if_configured

    return init_wandb_if_configured(cfg, job_type=f"nano3-{stage}")


def join_wandb(handoff: Handoff, run: Any, environ: dict[str, str] | None = None) -> Handoff:
    """A copy of `handoff` whose library logs to W&B `run` (and the env that makes it resume)."""
    env = os.environ if environ is None else environ
    env["WANDB_RUN_ID"] = str(run.id)
    env["WANDB_RESUME"] = "allow"
    train = {**handoff.train, "logger": dict(handoff.train.get("logger") or {})}
    logger = train["logger"]
    if handoff.library == "nemo-rl":
        logger["wandb_enabled"] = True
        logger["wandb"] = {**(logger.get("wandb") or {}), "project": run.project, "name": run.name}
    else:
        logger["wandb_project"] = run.project
        logger["wandb_entity"] = run.entity
        logger["wandb_exp_name"] = run.name
        logger["wandb_save_dir"] = os.path.join(handoff.output_dir, "wandb")
    return dataclasses.replace(handoff, train=train)

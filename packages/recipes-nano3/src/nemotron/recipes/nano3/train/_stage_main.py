"""The body of a training stage script: config -> hand-off -> library -> ModelArtifact.

    python -m nemotron.recipes.nano3.train.pretrain --config FILE [overrides...]

1. Load the stage config with kit-config (`cli()`): overrides, `${art:...}` inputs resolved and
   recorded for lineage.
2. Build the hand-off for the library and write it to `<run.output_dir>/handoff.yaml`.
3. Import the library (Megatron-Bridge / NeMo-RL) or stop with one line saying how to run it.
4. Train, then publish the checkpoint the library wrote as a `ModelArtifact`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from nemotron.recipes.nano3.train._handoff import STAGE_LIBRARY, Handoff, build_handoff
from nemotron.recipes.nano3.train._libraries import require_library
from nemotron.recipes.nano3.train._publish import CHECKPOINT_READERS, publish_checkpoint
from nemotron.recipes.nano3.train._stage_config import StageConfig, split_overrides

if TYPE_CHECKING:
    from nemotron.kit.artifacts import ModelArtifact

__all__ = ["main", "prepare_stage", "run_stage"]


def prepare_stage(stage: str, argv: Sequence[str]) -> Handoff:
    """Steps 1-2: resolve the stage config and build the hand-off (no library needed)."""
    return _prepare(stage, argv)[1]


def _prepare(stage: str, argv: Sequence[str]) -> tuple[StageConfig, Handoff]:
    import dataclasses

    from nemotron.kit.artifacts import ArtifactRef, run_inputs
    from nemotron.kit.config import cli

    ours, library_overrides = split_overrides(argv)
    cfg = cli(StageConfig, argv=ours)
    handoff = build_handoff(stage, cfg, library_overrides)
    used = [ref.uri for ref in run_inputs() if isinstance(ref, ArtifactRef)]
    return cfg, dataclasses.replace(handoff, used_artifacts=used)


def run_stage(stage: str, argv: Sequence[str]) -> ModelArtifact | None:
    """All four steps; returns the published `ModelArtifact` (on the rank that publishes)."""
    cfg, handoff = _prepare(stage, argv)
    rank_zero = int(os.environ.get("RANK", "0")) == 0
    if rank_zero:
        from nemotron.recipes.nano3.train._wandb import join_wandb, start_tracking

        wandb_run = start_tracking(cfg, stage)
        if wandb_run is not None:
            handoff = join_wandb(handoff, wandb_run)
        handoff.write()
    require_library(STAGE_LIBRARY[stage], stage)
    checkpoint_dir = _runner(stage)(handoff)
    if not rank_zero:
        return None
    info = CHECKPOINT_READERS[stage](checkpoint_dir)
    artifact = publish_checkpoint(info, stage=stage, name=handoff.publish_as)
    print(f"nano3 {stage}: published {artifact.uri} (step {info.step}, loss {info.loss})")
    return artifact


def main(stage: str, argv: Sequence[str] | None = None) -> int:
    """Console entry: run the stage; expected errors print one line (exit 2 or 1)."""
    from nemotron.kit.artifacts.errors import NemotronError

    try:
        run_stage(stage, sys.argv[1:] if argv is None else argv)
    except NemotronError as err:
        if os.environ.get("NEMOTRON_FULL_ERROR") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


def _runner(stage: str) -> Callable[[Handoff], str]:
    if STAGE_LIBRARY[stage] == "nemo-rl":
        from nemotron.recipes.nano3.train._nemo_rl import run_nemo_rl

        return run_nemo_rl
    from nemotron.recipes.nano3.train._megatron import run_megatron_bridge

    return run_megatron_bridge

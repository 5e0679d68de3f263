"""Publish a training checkpoint as a `ModelArtifact`, with its lineage."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nemotron.recipes.nano3.train._checkpoints import (
    CheckpointInfo,
    read_megatron_bridge_checkpoint,
    read_nemo_rl_checkpoint,
)

if TYPE_CHECKING:
    from nemotron.kit.artifacts import ModelArtifact

__all__ = ["CHECKPOINT_READERS", "import_checkpoint", "publish_checkpoint"]

CHECKPOINT_READERS = {
    "pretrain": read_megatron_bridge_checkpoint,
    "sft": read_megatron_bridge_checkpoint,
    "rl": read_nemo_rl_checkpoint,
}


def publish_checkpoint(info: CheckpointInfo, *, stage: str, name: str) -> ModelArtifact:
    """Publish `info` as `name`; inputs are what the run used (data artifact, parent model).

    `save()` takes the inputs the run recorded through `use_artifact` (the `${art:...}` values
    of the stage config), and the producer from the current run.
    """
    from nemotron.kit.artifacts import ModelArtifact

    artifact = ModelArtifact(
        path=str(info.path),
        step=info.step,
        loss=info.loss,
        format=info.format,
        metadata={"stage": stage, "checkpoint_root": str(info.root), **info.metadata},
    )
    return artifact.save(name=name)


def import_checkpoint(
    stage: str,
    folder: str | Path,
    *,
    step: int | None = None,
    name: str | None = None,
    inputs: Sequence[str] = (),
) -> ModelArtifact:
    """Register a checkpoint that already exists (`nemotron nano3 model import`).

    Args:
        stage: pretrain, sft (Megatron-Bridge layout) or rl (NeMo-RL layout).
        folder: The folder the library saved into.
        step: The step to register; default: the tracker file's (latest) step.
        name: Registry name; default `nano3-<stage>-model`.
        inputs: Artifacts it was trained from (URIs), recorded as its inputs.
    """
    from nemotron.kit.artifacts import use_artifact

    info = CHECKPOINT_READERS[stage](folder, step)
    for ref in inputs:
        use_artifact(ref)
    return publish_checkpoint(info, stage=stage, name=name or f"nano3-{stage}-model")

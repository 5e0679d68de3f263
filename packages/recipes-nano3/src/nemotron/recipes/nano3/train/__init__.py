"""Nano 3 training stages: configure Megatron-Bridge / NeMo-RL, publish what they write.

Kit never trains: each stage resolves its config (artifact inputs included), hands the library its
own config section (`Handoff`), calls the library, and publishes the checkpoint it wrote as a
`ModelArtifact` whose inputs are the data artifact and the parent model.
"""

from nemotron.recipes.nano3.train._checkpoints import (
    CheckpointInfo,
    read_megatron_bridge_checkpoint,
    read_nemo_rl_checkpoint,
    write_train_summary,
)
from nemotron.recipes.nano3.train._handoff import Handoff, build_handoff
from nemotron.recipes.nano3.train._libraries import require_library
from nemotron.recipes.nano3.train._publish import import_checkpoint, publish_checkpoint
from nemotron.recipes.nano3.train._stage_config import StageConfig, StageRun, split_overrides
from nemotron.recipes.nano3.train._stage_main import prepare_stage, run_stage

__all__ = [
    "CheckpointInfo",
    "Handoff",
    "StageConfig",
    "StageRun",
    "build_handoff",
    "import_checkpoint",
    "prepare_stage",
    "publish_checkpoint",
    "read_megatron_bridge_checkpoint",
    "read_nemo_rl_checkpoint",
    "require_library",
    "run_stage",
    "split_overrides",
    "write_train_summary",
]

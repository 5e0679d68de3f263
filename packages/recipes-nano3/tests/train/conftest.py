"""Fixtures for the training-stage tests: checkpoint folders laid out as the libraries write them.

Megatron-Bridge 0.6: `training/checkpointing.py::save_checkpoint` and
`training/utils/checkpoint_utils.py` (tracker `latest_checkpointed_iteration.txt`,
`latest_train_state.pt`, `iter_%07d/` holding `run_config.yaml`, `train_state.pt` and the
megatron-core `torch_dist` checkpoint: `metadata.json`, `.metadata`, `common.pt`, `__R_N.distcp`).
NeMo-RL 0.7: `nemo_rl/utils/checkpoint.py::CheckpointManager` and `algorithms/grpo.py`
(`step_N/` with `training_info.json`, `config.yaml`, `policy/{weights,optimizer,tokenizer}/`,
`train_dataloader.pt`; `tmp_step_N/` while a save is in progress).
The `.pt`/`.distcp` payloads are torch pickles there; their bytes are not read by our code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

TORCH_DIST_METADATA = {
    "sharded_backend": "torch_dist",
    "sharded_backend_version": 1,
    "common_backend": "torch",
    "common_backend_version": 1,
}


def _megatron_bridge_checkpoint(root: Path, steps: Sequence[int]) -> Path:
    for step in steps:
        iteration = root / f"iter_{step:07d}"
        iteration.mkdir(parents=True)
        (iteration / "run_config.yaml").write_text(
            "checkpoint:\n  ckpt_format: torch_dist\n  save: " + str(root) + "\n"
        )
        (iteration / "train_state.pt").write_bytes(b"\x80\x02}q\x00.")
        (iteration / "metadata.json").write_text(json.dumps(TORCH_DIST_METADATA))
        (iteration / ".metadata").write_bytes(b"\x80\x04")
        (iteration / "common.pt").write_bytes(b"\x80\x04")
        (iteration / "__0_0.distcp").write_bytes(b"\x00" * 64)
    (root / "latest_train_state.pt").write_bytes(b"\x80\x02}q\x00.")
    (root / "latest_checkpointed_iteration.txt").write_text(str(steps[-1]))
    return root


def _nemo_rl_checkpoint(
    root: Path, steps: Sequence[int], *, in_progress: int | None = None, megatron: bool = True
) -> Path:
    for step in steps:
        folder = root / f"step_{step}"
        for sub in ("policy/weights", "policy/optimizer", "policy/tokenizer"):
            (folder / sub).mkdir(parents=True)
        (folder / "training_info.json").write_text(
            json.dumps(
                {
                    "consumed_samples": 4 * step,
                    "current_step": step,
                    "current_epoch": 0,
                    "total_steps": step,
                    "total_valid_tokens": 1000 * step,
                    "val_reward": 0.25 * step,
                }
            )
        )
        (folder / "config.yaml").write_text(
            f"policy:\n  megatron_cfg:\n    enabled: {str(megatron).lower()}\n"
            "checkpointing:\n  model_save_format: safetensors\n"
        )
        (folder / "train_dataloader.pt").write_bytes(b"\x80\x04")
    if in_progress is not None:
        tmp = root / f"tmp_step_{in_progress}"
        tmp.mkdir(parents=True)
        (tmp / "training_info.json").write_text(json.dumps({"total_steps": in_progress}))
    return root


@pytest.fixture
def megatron_bridge_checkpoint(tmp_path: Path) -> Callable[..., Path]:
    """Build `<tmp>/checkpoints` as Megatron-Bridge leaves it after saving `steps`."""
    return lambda steps=(10, 20): _megatron_bridge_checkpoint(tmp_path / "checkpoints", steps)


@pytest.fixture
def nemo_rl_checkpoint(tmp_path: Path) -> Callable[..., Path]:
    """Build `<tmp>/rl-checkpoints` as NeMo-RL's CheckpointManager leaves it."""
    return lambda steps=(2, 4), **kw: _nemo_rl_checkpoint(tmp_path / "rl-checkpoints", steps, **kw)

"""Reading checkpoints in the layouts Megatron-Bridge and NeMo-RL write (see conftest.py)."""

from __future__ import annotations

import pytest

from nemotron.recipes.nano3.train import (
    read_megatron_bridge_checkpoint,
    read_nemo_rl_checkpoint,
    write_train_summary,
)
from nemotron.recipes.nano3.train.errors import CheckpointNotFoundError


def test_megatron_bridge_step_comes_from_the_tracker_file(megatron_bridge_checkpoint) -> None:
    root = megatron_bridge_checkpoint((10, 20, 30))
    (root / "latest_checkpointed_iteration.txt").write_text("20\n")  # tracker, not the max folder
    info = read_megatron_bridge_checkpoint(root)
    assert info.step == 20
    assert info.path == root / "iter_0000020"
    assert info.format == "megatron-bridge/torch_dist"
    assert info.loss is None  # a checkpoint alone carries no loss


def test_megatron_bridge_loss_from_train_summary_of_the_same_step(
    megatron_bridge_checkpoint,
) -> None:
    root = megatron_bridge_checkpoint((10, 20))
    write_train_summary(root, 20, 2.75)
    assert read_megatron_bridge_checkpoint(root).loss == 2.75
    assert read_megatron_bridge_checkpoint(root, step=10).loss is None  # summary is for step 20


def test_megatron_bridge_explicit_step_and_missing_step(megatron_bridge_checkpoint) -> None:
    root = megatron_bridge_checkpoint((10, 20))
    assert read_megatron_bridge_checkpoint(root, step=10).path.name == "iter_0000010"
    with pytest.raises(
        CheckpointNotFoundError, match=r"no iter_0000015/.*iter_0000010, iter_0000020"
    ):
        read_megatron_bridge_checkpoint(root, step=15)


def test_megatron_bridge_errors_name_the_folder_and_fix(tmp_path) -> None:
    with pytest.raises(CheckpointNotFoundError) as err:
        read_megatron_bridge_checkpoint(tmp_path)
    assert str(tmp_path) in str(err.value) and "--step" in str(err.value)
    assert err.value.exit_code == 2
    (tmp_path / "latest_checkpointed_iteration.txt").write_text("release")
    with pytest.raises(CheckpointNotFoundError, match="release"):
        read_megatron_bridge_checkpoint(tmp_path)


def test_nemo_rl_latest_finished_step_and_its_training_info(nemo_rl_checkpoint) -> None:
    root = nemo_rl_checkpoint((2, 4, 10), in_progress=12)
    info = read_nemo_rl_checkpoint(root)
    assert info.step == 10  # step_10 beats step_4 numerically; tmp_step_12 is not finished
    assert info.path == root / "step_10"
    assert info.format == "nemo-rl/megatron"
    assert info.metadata["training_info"]["val_reward"] == 2.5
    assert info.loss is None


def test_nemo_rl_explicit_step_dtensor_and_train_loss(nemo_rl_checkpoint) -> None:
    import json

    root = nemo_rl_checkpoint((2, 4), megatron=False)
    info_file = root / "step_2" / "training_info.json"
    info_file.write_text(json.dumps({**json.loads(info_file.read_text()), "train:loss": 0.5}))
    info = read_nemo_rl_checkpoint(root, step=2)
    assert (info.step, info.format, info.loss) == (2, "nemo-rl/dtensor", 0.5)
    with pytest.raises(CheckpointNotFoundError, match=r"no step_3/ \(found steps: 2, 4\)"):
        read_nemo_rl_checkpoint(root, step=3)


def test_nemo_rl_inconsistent_or_empty_folders(nemo_rl_checkpoint, tmp_path) -> None:
    with pytest.raises(CheckpointNotFoundError, match="no step_<N>/"):
        read_nemo_rl_checkpoint(tmp_path / "nothing")
    root = nemo_rl_checkpoint((2,))
    (root / "step_2" / "training_info.json").write_text('{"total_steps": 7}')
    with pytest.raises(CheckpointNotFoundError, match="total_steps is 7 but the folder is step_2"):
        read_nemo_rl_checkpoint(root)

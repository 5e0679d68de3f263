"""W&B: the library's own logger joins the stage's W&B run (wandb offline, a real run)."""

from __future__ import annotations

import pytest

from nemotron.recipes.nano3.train import StageConfig, StageRun, build_handoff
from nemotron.recipes.nano3.train._wandb import join_wandb, start_tracking

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")


def _cfg(tmp_path, wandb):
    run = StageRun(
        data="d",
        data_dir="/d",
        output_dir=str(tmp_path / "o"),
        publish_as="m",
        model="art://p:v1",
        model_path="/ckpt",
        wandb=wandb,
    )
    return StageConfig(run=run, recipe="nemo-rl", train={"logger": {"log_dir": "/logs"}})


def test_no_wandb_configured_starts_no_run(tmp_path) -> None:
    assert start_tracking(_cfg(tmp_path, None), "sft") is None


@pytest.mark.workspace  # wandb comes with kit-lineage[wandb] (the meta-package installs it)
def test_library_loggers_join_the_stage_run(tmp_path) -> None:
    from nemotron.kit.lineage import finish_wandb

    cfg = _cfg(tmp_path, {"project": "nano3-test", "name": "sft-tiny", "mode": "offline"})
    run = start_tracking(cfg, "sft")
    try:
        assert run is not None and run.project == "nano3-test"
        env: dict[str, str] = {}
        bridge = join_wandb(build_handoff("sft", cfg, []), run, env)
        assert env == {"WANDB_RUN_ID": run.id, "WANDB_RESUME": "allow"}
        assert bridge.train["logger"]["wandb_project"] == "nano3-test"
        assert bridge.train["logger"]["wandb_exp_name"] == "sft-tiny"
        assert bridge.train["logger"]["wandb_save_dir"] == str(tmp_path / "o/wandb")
        rl = join_wandb(build_handoff("rl", cfg, []), run, env)
        assert rl.train["logger"]["wandb_enabled"] is True
        assert rl.train["logger"]["wandb"] == {"project": "nano3-test", "name": "sft-tiny"}
        assert (
            rl.train["logger"]["log_dir"] == str(tmp_path / "o/logs")
            or rl.train["logger"]["log_dir"]
        )
    finally:
        finish_wandb()

"""Where W&B settings come from, and what is refused (no default project, no credentials)."""

from __future__ import annotations

import dataclasses

import pytest

from nemotron.kit.lineage import WandbSettings, wandb_settings_from
from nemotron.kit.lineage.errors import WandbConfigError


def test_nothing_configured_means_no_wandb() -> None:
    assert wandb_settings_from(None) is None
    assert wandb_settings_from({}) is None
    assert wandb_settings_from({"run": {"wandb": None}, "wandb": {}}) is None
    assert wandb_settings_from({"train": {"lr": 1.0}}) is None


def test_env_table_and_run_section_merge_key_by_key() -> None:
    cfg = {
        "wandb": {"project": "nano3", "entity": "team", "tags": ["env"]},
        "run": {"wandb": {"entity": "me", "group": "exp-7", "mode": "offline"}},
    }
    settings = wandb_settings_from(cfg)
    assert settings == WandbSettings(
        project="nano3", entity="me", group="exp-7", mode="offline", tags=("env",)
    )


def test_dataclass_and_attribute_configs_are_read() -> None:
    @dataclasses.dataclass
    class WandbCfg:
        project: str = "p"
        tags: str = "single"

    @dataclasses.dataclass
    class Run:
        wandb: WandbCfg = dataclasses.field(default_factory=WandbCfg)

    @dataclasses.dataclass
    class Cfg:
        run: Run = dataclasses.field(default_factory=Run)

    assert wandb_settings_from(Cfg()) == WandbSettings(project="p", tags=("single",))


@pytest.mark.workspace  # omegaconf comes with kit-config, not kit-lineage
def test_omegaconf_config_is_read() -> None:
    import omegaconf

    cfg = omegaconf.OmegaConf.create({"run": {"wandb": {"project": "${name}"}}, "name": "x"})
    assert wandb_settings_from(cfg) == WandbSettings(project="x")


def test_no_silent_default_project() -> None:
    with pytest.raises(WandbConfigError) as err:
        wandb_settings_from({"wandb": {"entity": "team"}})
    assert err.value.key == "project"
    assert "env.toml [wandb]" in str(err.value) and 'project = "<name>"' in str(err.value)


@pytest.mark.parametrize("key", ["api_key", "apikey", "token", "WANDB_API_KEY"])
def test_credentials_in_config_are_refused(key: str) -> None:
    with pytest.raises(WandbConfigError) as err:
        wandb_settings_from({"run": {"wandb": {"project": "p", key: "s3cr3t-value"}}})
    message = str(err.value)
    assert err.value.key == key
    assert "WANDB_API_KEY" in message and "wandb login" in message
    assert "s3cr3t-value" not in message


def test_unknown_key_and_bad_mode_name_the_key() -> None:
    with pytest.raises(WandbConfigError, match=r"run.wandb: projct: unknown W&B setting"):
        wandb_settings_from({"run": {"wandb": {"projct": "p"}}})
    with pytest.raises(WandbConfigError, match=r"mode: 'onlin' is not one of"):
        wandb_settings_from({"wandb": {"project": "p", "mode": "onlin"}})
    with pytest.raises(WandbConfigError, match=r"run.wandb: run.wandb: must be a table"):
        wandb_settings_from({"run": {"wandb": "p"}})

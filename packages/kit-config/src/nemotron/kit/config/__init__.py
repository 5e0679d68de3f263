"""Config loading and typed configs (skeleton; filled in by the kit-config issue)."""

from typing import Any

__all__ = ["apply_hydra_overrides", "cli", "load_omegaconf_yaml"]


def cli(config_cls: type, config_file: str | None = None, argv: list[str] | None = None) -> Any:
    """Load `config_file` plus argv overrides into `config_cls`."""
    raise NotImplementedError


def load_omegaconf_yaml(path: str) -> Any:
    from omegaconf import OmegaConf

    return OmegaConf.load(path)


def apply_hydra_overrides(cfg: Any, overrides: list[str]) -> Any:
    raise NotImplementedError

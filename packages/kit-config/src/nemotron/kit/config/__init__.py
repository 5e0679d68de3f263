"""Config loading, the Hydra override grammar, and validation into typed configs.

    from nemotron.kit.config import cli
    config = cli(Config, config_file="config.yaml")   # python train.py lr=5e-5

- `load_config(path)`: YAML/TOML/JSON with `defaults:` inheritance and OmegaConf interpolation
  (`${oc.env:VAR,default}`, `${other.key}`, `${art:NAME,FIELD}`).
- `apply_hydra_overrides(cfg, overrides)`: the Hydra override grammar, strictly.
- `to_typed(Config, cfg)` / `cli(Config, ...)`: a validated dataclass or msgspec Struct;
  `compose(Config, file, overrides)` is the unvalidated DictConfig `cli()` builds first.
- `resolve_to_container(cfg)`: plain data, interpolation errors as one-line UserErrors.
- `save_resolved(cfg, folder, ...)`: what a run used, secrets masked; returns its digest.
- `redact(data)` / `redact_config_text(text, fmt)`: the one redaction for every file written.

hydra-core is imported only when overrides are applied.
"""

from nemotron.kit.artifacts.secrets import is_secret_key, redact_text
from nemotron.kit.config._cli import cli, compose, format_help
from nemotron.kit.config._loading import load_config, load_omegaconf_yaml
from nemotron.kit.config._overrides import apply_hydra_overrides, parse_override
from nemotron.kit.config._resolve import register_resolvers, resolve_to_container
from nemotron.kit.config._save import config_digest, save_resolved
from nemotron.kit.config._secrets import redact, redact_config_text
from nemotron.kit.config._typed import to_typed

register_resolvers()

__all__ = [
    "apply_hydra_overrides",
    "cli",
    "compose",
    "config_digest",
    "format_help",
    "is_secret_key",
    "load_config",
    "load_omegaconf_yaml",
    "parse_override",
    "redact",
    "redact_config_text",
    "redact_text",
    "resolve_to_container",
    "save_resolved",
    "to_typed",
]

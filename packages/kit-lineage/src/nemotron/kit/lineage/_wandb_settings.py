"""Where W&B settings come from: env.toml `[wandb]` and the job config's `run.wandb`.

`wandb_settings_from(cfg)` reads both (the config's `run.wandb` wins key by key) and returns
`None` when neither is set, so W&B stays off unless someone asked for it. There is no default
project, and credentials are refused here: they come from `WANDB_API_KEY` or `wandb login` only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from nemotron.kit.artifacts.secrets import is_secret_key
from nemotron.kit.lineage.errors import WandbConfigError

__all__ = ["WandbSettings", "plain_config", "wandb_settings_from"]

_MODES = ("online", "offline", "disabled", "shared")


class WandbSettings(msgspec.Struct, kw_only=True, frozen=True):
    """The W&B run settings kit understands.

    Attributes:
        project: W&B project; required once a `[wandb]` table exists.
        entity: team or user; wandb's own default when unset.
        group: run group (e.g. the experiment id).
        name: run display name.
        tags: tags added to every run.
        notes: free text shown on the run page.
        mode: `online`, `offline` or `disabled`; unset means `WANDB_MODE` or online.
        dir: where wandb writes its run folder; unset means `WANDB_DIR` or the working dir.
        job_type: default job type when `init_wandb_if_configured` gets none.
        log_artifacts: log artifacts and lineage to W&B (default true).
    """

    project: str
    entity: str | None = None
    group: str | None = None
    name: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    mode: str | None = None
    dir: str | None = None
    job_type: str | None = None
    log_artifacts: bool = True


_FIELDS = set(WandbSettings.__struct_fields__)


def plain_config(obj: Any) -> Any:
    """Turn a mapping, dataclass, msgspec Struct or OmegaConf node into plain Python data."""
    if isinstance(obj, msgspec.Struct):
        return plain_config(msgspec.to_builtins(obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain_config(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): plain_config(v) for k, v in obj.items()}
    if isinstance(obj, Sequence) and not isinstance(obj, str | bytes):
        return [plain_config(v) for v in obj]
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    return str(obj)


def _section(cfg: Any, *path: str) -> Any:
    node = cfg
    for key in path:
        if node is None:
            return None
        node = node.get(key) if isinstance(node, Mapping) else getattr(node, key, None)
    return node


def wandb_settings_from(cfg: Any) -> WandbSettings | None:
    """Read W&B settings from `cfg.wandb` (env.toml `[wandb]`) and `cfg.run.wandb`.

    Args:
        cfg: a job config (mapping, dataclass, OmegaConf node), a `WandbSettings`, or None.

    Returns:
        The merged settings, or None when neither section is set (W&B stays off).

    Raises:
        WandbConfigError: a section without `project`, an unknown key, a bad mode, or a
            credential in the config.
    """
    if cfg is None:
        return None
    if isinstance(cfg, WandbSettings):
        return cfg
    merged: dict[str, Any] = {}
    sources = []
    for path, label in ((("wandb",), "env.toml [wandb]"), (("run", "wandb"), "run.wandb")):
        section = plain_config(_section(cfg, *path))
        if section is None or section == {}:
            continue
        if not isinstance(section, dict):
            raise WandbConfigError(
                ".".join(path), "must be a table of settings such as project = ...", label
            )
        _check_keys(section, label)
        merged.update({k: v for k, v in section.items() if v is not None})
        sources.append(label)
    if not sources:
        return None
    where = " + ".join(sources)
    if not merged.get("project"):
        raise WandbConfigError(
            "project",
            'W&B is configured but no project is set; add project = "<name>" '
            "(kit uses no default project)",
            where,
        )
    if merged.get("mode") is not None and merged["mode"] not in _MODES:
        raise WandbConfigError(
            "mode", f"{merged['mode']!r} is not one of {', '.join(_MODES)}", where
        )
    if isinstance(merged.get("tags"), str):
        merged["tags"] = [merged["tags"]]
    try:
        return msgspec.convert(merged, WandbSettings, strict=False)
    except msgspec.ValidationError as err:
        raise WandbConfigError(_error_key(str(err)), str(err), where) from None


def _check_keys(section: dict[str, Any], label: str) -> None:
    for key in section:
        if is_secret_key(key):
            raise WandbConfigError(
                key,
                "credentials do not belong in config files; remove it and set WANDB_API_KEY "
                "in the environment or run `wandb login`",
                label,
            )
        if key not in _FIELDS:
            raise WandbConfigError(
                key, f"unknown W&B setting; known: {', '.join(sorted(_FIELDS))}", label
            )


def _error_key(message: str) -> str:
    match = re.search(r"at `\$\.(\w+)", message)
    return match.group(1) if match else "wandb"

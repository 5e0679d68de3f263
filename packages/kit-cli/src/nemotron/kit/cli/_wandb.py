"""env.toml `[wandb]` for stage jobs: kit-lineage's schema, merged into the config, sent to the job.

The table is validated by kit-lineage's `wandb_settings_from` (the one schema). A stage whose
config has `run.wandb` gets the table under it, the config's own keys winning key by key (CLI
overrides win over both). When W&B is configured either way, the job's environment gets
`WANDB_PROJECT`/`WANDB_ENTITY` (and `WANDB_MODE` when set), and `WANDB_API_KEY`, from this
environment or from `wandb login`'s netrc entry; the key is secret-named, so kit-run passes it
through the job's environment only, never a file.
"""

from __future__ import annotations

import netrc
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

__all__ = ["api_key", "env_table", "job_env", "merged_run_wandb"]

_DEFAULT_HOST = "api.wandb.ai"


def env_table() -> dict[str, Any]:
    """env.toml's `[wandb]` ({} without one), checked against kit-lineage's schema.

    Raises:
        WandbConfigError: an unknown key, no `project`, a credential in the file, a bad mode.
    """
    from nemotron.kit.run import load_env

    table = load_env().wandb
    if table:
        from nemotron.kit.lineage import wandb_settings_from

        wandb_settings_from({"wandb": table})
    return table


def merged_run_wandb(table: Mapping[str, Any], run_wandb: Any) -> dict[str, Any]:
    """`run.wandb` with env.toml's `[wandb]` under it: the config's keys win."""
    own = {k: v for k, v in dict(run_wandb or {}).items() if v is not None}
    return {**table, **own}


def api_key(environ: Mapping[str, str] | None = None) -> str | None:
    """`WANDB_API_KEY`, else the password `wandb login` stored in ~/.netrc for the W&B host."""
    env = os.environ if environ is None else environ
    if env.get("WANDB_API_KEY"):
        return env["WANDB_API_KEY"]
    host = urlparse(env.get("WANDB_BASE_URL", "")).hostname or _DEFAULT_HOST
    try:
        entry = netrc.netrc(env.get("NETRC") or None).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    return entry[2] if entry and entry[2] else None


def job_env(table: Mapping[str, Any], resolved: Mapping[str, Any]) -> dict[str, str]:
    """The W&B variables a job needs ({} when W&B is not configured for it, or is configured
    wrongly in the stage's own config: the job reports that itself, as it would run)."""
    run = resolved.get("run")
    run_wandb = run.get("wandb") if isinstance(run, Mapping) else None
    if not table and not run_wandb:
        return {}
    from nemotron.kit.lineage import wandb_settings_from
    from nemotron.kit.lineage.errors import WandbConfigError

    try:
        settings = wandb_settings_from({"wandb": dict(table), "run": {"wandb": run_wandb}})
    except WandbConfigError:
        return {}
    if settings is None:
        return {}
    variables = {"WANDB_PROJECT": settings.project}
    if settings.entity:
        variables["WANDB_ENTITY"] = settings.entity
    if settings.mode:
        variables["WANDB_MODE"] = settings.mode
    key = api_key()
    if key:
        variables["WANDB_API_KEY"] = key
    return variables

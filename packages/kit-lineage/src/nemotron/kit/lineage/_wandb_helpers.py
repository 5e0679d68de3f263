"""The seed's W&B helpers: start a run only when configured, tag it, finish it.

`init_wandb_if_configured` is also where a job's lineage tracking starts: it installs a
`WandbTracker` when W&B is configured and a `FileTracker` otherwise, so `artifact.save()` and
`use_artifact()` record lineage either way; `finish_wandb` closes both with the exit code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from nemotron.kit.artifacts import current_run, get_lineage_tracker, set_lineage_tracker
from nemotron.kit.artifacts.secrets import redact
from nemotron.kit.lineage._tracker import LineageTracker, ensure_tracker
from nemotron.kit.lineage._wandb_import import import_wandb, loaded_wandb
from nemotron.kit.lineage._wandb_settings import plain_config, wandb_settings_from
from nemotron.kit.lineage._wandb_tracker import WandbTracker

__all__ = ["add_wandb_tags", "finish_wandb", "init_wandb_if_configured"]

logger = logging.getLogger("nemotron.kit.lineage")


def _unique(*groups: Sequence[str] | None) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for tag in group or ():
            seen.setdefault(str(tag), None)
    return list(seen)


def init_wandb_if_configured(
    cfg: Any,
    job_type: str | None = None,
    tags: Sequence[str] | None = None,
    *,
    track_lineage: bool = True,
) -> Any:
    """Start a W&B run when `cfg` configures one; otherwise do nothing, quietly.

    Settings come from `cfg.wandb` (env.toml `[wandb]`, merged in by the CLI) and
    `cfg.run.wandb` (the job config; it wins key by key). Credentials are never read from or
    written to the config: wandb takes them from `WANDB_API_KEY` or `wandb login`.

    Args:
        cfg: the job config (mapping, dataclass, OmegaConf node) or None.
        job_type: W&B job type (`data_prep`, `pretrain`, ...).
        tags: tags added to the configured ones.
        track_lineage: install a lineage tracker (W&B when configured, else the local file one).

    Returns:
        The `wandb` run, or None when W&B is not configured or could not start (one warning).

    Raises:
        WandbConfigError: the W&B section is there but wrong (no project, unknown key, a key).
        WandbNotInstalledError: W&B is configured but `wandb` is not installed.
    """
    settings = wandb_settings_from(cfg)
    if settings is None:
        if track_lineage:
            ensure_tracker()
        return None
    wandb = import_wandb()
    config = redact(plain_config(cfg))
    config = config if isinstance(config, dict) else {"config": config}
    try:
        run = wandb.init(
            project=settings.project,
            entity=settings.entity,
            group=settings.group,
            name=settings.name,
            notes=settings.notes,
            tags=_unique(settings.tags, tags),
            job_type=job_type or settings.job_type,
            mode=settings.mode,
            dir=settings.dir,
            config={**config, "nemotron_run_id": current_run().run_id},
        )
    except Exception as err:
        logger.warning(
            "W&B run could not start (%s: %s); continuing without W&B, lineage is kept locally",
            type(err).__name__,
            err,
        )
        if track_lineage:
            ensure_tracker()
        return None
    if track_lineage:
        current = get_lineage_tracker()
        base = current if isinstance(current, LineageTracker) and current.active else None
        if isinstance(base, WandbTracker):
            base = base.base
        set_lineage_tracker(WandbTracker(run, base=base, log_artifacts=settings.log_artifacts))
    return run


def add_wandb_tags(tags: Sequence[str]) -> None:
    """Add tags to the active W&B run; nothing when there is none (never imports wandb)."""
    wandb = loaded_wandb()
    run = wandb.run if wandb is not None else None
    if run is None or not tags:
        return
    try:
        run.tags = tuple(_unique(run.tags, tags))
    except Exception as err:
        logger.warning("W&B tags could not be set (%s: %s)", type(err).__name__, err)


def finish_wandb(exit_code: int = 0) -> None:
    """End the job's tracking: close the lineage record and the W&B run with `exit_code`.

    When a W&B run was finished here, this process's W&B service is then shut down
    (`wandb.teardown`): `run.finish()` returns once wandb-core has handled the exit record,
    but wandb-core writes the run's `.wandb` transaction log out only when it closes the
    run's stream, after `finish` has returned. Teardown waits for that, so an offline run is
    complete on disk (for `wandb sync`) when `finish_wandb` returns, and the next
    `wandb.init` starts afresh with the settings of its time (`WANDB_DIR`, mode).

    Does nothing when neither was started; never imports wandb.
    """
    tracker = get_lineage_tracker()
    used_wandb = False
    if isinstance(tracker, LineageTracker) and tracker.active:
        used_wandb = isinstance(tracker, WandbTracker) and tracker.wandb_run is not None
        tracker.finish(exit_code)
    wandb = loaded_wandb()
    run = wandb.run if wandb is not None else None
    if run is not None:
        used_wandb = True
        try:
            run.finish(exit_code=exit_code)
        except Exception as err:
            logger.warning("W&B run could not finish (%s: %s)", type(err).__name__, err)
    if wandb is not None and used_wandb:
        _teardown(wandb, exit_code)


def _teardown(wandb: Any, exit_code: int) -> None:
    """Shut down W&B's service and wait until it has closed every run's files.

    wandb exits the process (`SystemExit`) when its service ended badly; that never ends a
    job here: one warning instead.
    """
    try:
        wandb.teardown(exit_code)
    except (Exception, SystemExit) as err:
        logger.warning("W&B could not shut down cleanly (%s: %s)", type(err).__name__, err)

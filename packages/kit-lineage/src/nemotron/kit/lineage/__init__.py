"""Lineage trackers and W&B helpers (skeleton; filled in by the kit-lineage issue)."""

from typing import Any

__all__ = ["add_wandb_tags", "finish_wandb", "init_wandb_if_configured"]


def init_wandb_if_configured(cfg: Any, job_type: str | None = None, tags: list[str] | None = None) -> Any:
    return None


def add_wandb_tags(tags: list[str]) -> None:
    return None


def finish_wandb(exit_code: int = 0) -> None:
    return None

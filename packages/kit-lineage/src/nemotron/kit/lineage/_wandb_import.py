"""Import `wandb` on first use, with the install line when it is missing."""

from __future__ import annotations

import sys
from types import ModuleType

from nemotron.kit.lineage.errors import WandbNotInstalledError

__all__ = ["import_wandb", "loaded_wandb"]


def import_wandb() -> ModuleType:
    """`import wandb`, or `WandbNotInstalledError` naming `pip install "kit-lineage[wandb]"`."""
    try:
        import wandb
    except ImportError as err:
        raise WandbNotInstalledError() from err
    return wandb


def loaded_wandb() -> ModuleType | None:
    """`wandb` if something in this process imported it already, else None (never imports)."""
    return sys.modules.get("wandb")

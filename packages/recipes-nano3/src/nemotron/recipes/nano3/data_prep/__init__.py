"""Nano 3 data prep: pretrain bin/idx + blend, packed SFT, RL JSONL splits, as artifacts.

The configs load light (the CLI validates with them); the stages load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nemotron.recipes.nano3.data_prep._config import (
        EngineConfig,
        PlaceholderConfig,
        PretrainDataConfig,
        RLDataConfig,
        SFTDataConfig,
        SourceConfig,
        SplitConfig,
    )
    from nemotron.recipes.nano3.data_prep._pretrain import run_pretrain
    from nemotron.recipes.nano3.data_prep._rl import run_rl
    from nemotron.recipes.nano3.data_prep._sft import run_sft

_LAZY = {
    "EngineConfig": "_config",
    "PlaceholderConfig": "_config",
    "PretrainDataConfig": "_config",
    "RLDataConfig": "_config",
    "SFTDataConfig": "_config",
    "SourceConfig": "_config",
    "SplitConfig": "_config",
    "run_pretrain": "_pretrain",
    "run_rl": "_rl",
    "run_sft": "_sft",
}

__all__ = [
    "EngineConfig",
    "PlaceholderConfig",
    "PretrainDataConfig",
    "RLDataConfig",
    "SFTDataConfig",
    "SourceConfig",
    "SplitConfig",
    "run_pretrain",
    "run_rl",
    "run_sft",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)

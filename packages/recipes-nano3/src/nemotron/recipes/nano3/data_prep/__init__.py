"""Nano 3 data prep: pretrain bin/idx + blend, packed SFT, RL JSONL splits, as artifacts."""

from nemotron.recipes.nano3.data_prep._common import EngineConfig, SplitConfig
from nemotron.recipes.nano3.data_prep._pretrain import PretrainDataConfig, run_pretrain
from nemotron.recipes.nano3.data_prep._rl import RLDataConfig, run_rl
from nemotron.recipes.nano3.data_prep._sft import SFTDataConfig, run_sft
from nemotron.recipes.nano3.data_prep._sources import SourceConfig

__all__ = [
    "EngineConfig",
    "PretrainDataConfig",
    "RLDataConfig",
    "SFTDataConfig",
    "SourceConfig",
    "SplitConfig",
    "run_pretrain",
    "run_rl",
    "run_sft",
]

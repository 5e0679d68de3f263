"""Stage script: `python -m nemotron.recipes.nano3.data_prep.pretrain [-c default|tiny|FILE] [key=value ...]`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nemotron.recipes.nano3.data_prep import PretrainDataConfig, run_pretrain
from nemotron.recipes.nano3.data_prep._script import stage_main


def main(argv: Sequence[str] | None = None) -> Any:
    """Run pretrain data prep with the given arguments (default: the command line)."""
    return stage_main("pretrain", PretrainDataConfig, run_pretrain, argv)


if __name__ == "__main__":
    main()

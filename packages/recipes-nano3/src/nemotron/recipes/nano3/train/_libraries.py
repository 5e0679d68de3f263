"""Checks that the training library a stage calls is importable, before any work starts."""

from __future__ import annotations

import importlib
from pathlib import Path

from nemotron.recipes.nano3.train.errors import TrainingLibraryMissingError

__all__ = ["LIBRARIES", "TrainingLibrary", "require_library"]

_REQUIREMENTS = Path(__file__).parent / "requirements"


class TrainingLibrary:
    """A training library a stage needs: the module it imports and the requirements file."""

    def __init__(self, name: str, module: str, requirements: str) -> None:
        self.name = name
        self.module = module
        self.requirements = _REQUIREMENTS / requirements


LIBRARIES = {
    "megatron-bridge": TrainingLibrary(
        "Megatron-Bridge", "megatron.bridge.training.pretrain", "train.txt"
    ),
    "nemo-rl": TrainingLibrary("NeMo-RL", "nemo_rl.algorithms.grpo", "rl.txt"),
}


def require_library(key: str, stage: str) -> None:
    """Import the library's entry module, or raise one clear line saying how to run the stage.

    Any import-time failure counts as missing: Megatron-Bridge imports transformer-engine and
    asserts CUDA at import, so a CPU machine gets an `ImportError` or an `AssertionError`.
    """
    library = LIBRARIES[key]
    try:
        importlib.import_module(library.module)
    except Exception as err:  # import of a CUDA stack can fail with any exception type
        first_line = (str(err).strip().splitlines() or [""])[0][:160]
        reason = f"import {library.module}: {type(err).__name__}: {first_line}".rstrip(": ")
        raise TrainingLibraryMissingError(
            stage=stage,
            library=library.name,
            requirement=str(library.requirements),
            reason=reason,
        ) from err

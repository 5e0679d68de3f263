"""The training libraries the stages call, what runs them, and the check that one is importable.

`LIBRARIES` is the one place that names the exact version, the requirements file and the sample
container image of each stack (docs/training.md "Versions targeted"; tests/test_container_images.py
fails when a doc or sample env.toml names any other image).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from nemotron.recipes.nano3.train.errors import TrainingLibraryMissingError

__all__ = ["LIBRARIES", "TrainingLibrary", "require_library"]

_REQUIREMENTS = Path(__file__).parent / "requirements"


class TrainingLibrary:
    """A training library a stage needs: the module it imports, its requirements file, and the
    tag docs and sample profiles give the container image built for it."""

    def __init__(self, name: str, module: str, requirements: str, image: str) -> None:
        self.name = name
        self.module = module
        self.requirements = _REQUIREMENTS / requirements
        self.image = image


LIBRARIES = {
    # Python 3.12 + CUDA PyTorch, then `pip install -r requirements/train.txt`
    "megatron-bridge": TrainingLibrary(
        "Megatron-Bridge",
        "megatron.bridge.training.pretrain",
        "train.txt",
        "nemotron/mbridge:0.6.2",
    ),
    # NeMo-RL v0.7.0's docker/Dockerfile with NRL_GIT_REF=v0.7.0 (requirements/rl.txt otherwise)
    "nemo-rl": TrainingLibrary(
        "NeMo-RL", "nemo_rl.algorithms.grpo", "rl.txt", "nemotron/nemo-rl:v0.7.0"
    ),
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
            image=library.image,
            reason=reason,
        ) from err

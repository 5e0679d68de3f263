"""nemotron.kit: the one-import facade over the kit packages.

`from nemotron.kit import cli, PretrainBlendsArtifact` works with the meta-package installed.
Names are imported on first access, so `import nemotron.kit` stays instant. The package path is
extended pkgutil-style so the members' namespace portions (`nemotron.kit.artifacts`, ...) stay
importable beside this regular package: `_extend_path` does what `pkgutil.extend_path` does for
folders, without importing pkgutil (which imports typing, re and importlib.util: more than the
rest of `import nemotron.kit.artifacts` together).
"""

from __future__ import annotations

import os
import sys


def _extend_path(path: list[str], name: str) -> list[str]:
    """`path` plus the `kit` folder inside every other portion of the `nemotron` namespace."""
    parent, _, last = name.rpartition(".")
    extended = list(path)
    for entry in getattr(sys.modules.get(parent), "__path__", ()):
        portion = os.path.join(entry, last)
        if portion not in extended and os.path.isdir(portion):
            extended.append(portion)
    return extended


__path__ = _extend_path(__path__, __name__)

TYPE_CHECKING = False  # not `from typing import ...`: typing alone costs more than this module
if TYPE_CHECKING:
    from typing import Any

    from nemotron.kit.artifacts import (
        Artifact,
        InputDatasetInfo,
        ModelArtifact,
        PretrainBlendsArtifact,
        SFTDataArtifact,
        SplitJsonlDataArtifact,
    )
    from nemotron.kit.config import apply_hydra_overrides, cli, load_omegaconf_yaml
    from nemotron.kit.lineage import add_wandb_tags, finish_wandb, init_wandb_if_configured
    from nemotron.kit.run import build_executor, load_env_profile

_EXPORTS = {
    "Artifact": "nemotron.kit.artifacts",
    "PretrainBlendsArtifact": "nemotron.kit.artifacts",
    "SFTDataArtifact": "nemotron.kit.artifacts",
    "SplitJsonlDataArtifact": "nemotron.kit.artifacts",
    "ModelArtifact": "nemotron.kit.artifacts",
    "InputDatasetInfo": "nemotron.kit.artifacts",
    "cli": "nemotron.kit.config",
    "load_omegaconf_yaml": "nemotron.kit.config",
    "apply_hydra_overrides": "nemotron.kit.config",
    "build_executor": "nemotron.kit.run",
    "load_env_profile": "nemotron.kit.run",
    "init_wandb_if_configured": "nemotron.kit.lineage",
    "add_wandb_tags": "nemotron.kit.lineage",
    "finish_wandb": "nemotron.kit.lineage",
}

__all__ = [  # noqa: RUF022 - grouped as in the seed's API reference
    "Artifact",
    "PretrainBlendsArtifact",
    "SFTDataArtifact",
    "SplitJsonlDataArtifact",
    "ModelArtifact",
    "InputDatasetInfo",
    "cli",
    "load_omegaconf_yaml",
    "apply_hydra_overrides",
    "build_executor",
    "load_env_profile",
    "init_wandb_if_configured",
    "add_wandb_tags",
    "finish_wandb",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Facade(type(sys)):  # type: ignore[misc]  # types.ModuleType, without importing types
    """Keeps facade names bound to their functions when a same-named submodule is imported.

    Importing `nemotron.kit.cli` (the CLI package) makes the import system set the attribute
    `cli` on this module; without this guard `from nemotron.kit import cli` would then return
    the submodule instead of the config loader.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, type(sys)):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade

"""`redact` for configs: OmegaConf nodes in, plain data with secrets masked out.

The rules (which names are secret, which values get masked) are kit-artifacts' single
implementation, `nemotron.kit.artifacts.secrets`; this module only adds OmegaConf input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from nemotron.kit.artifacts import secrets


def redact(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """A copy of `value` with secrets masked as `***`.

    Args:
        value: a dict/list tree, a DictConfig/ListConfig (taken unresolved) or a string.
        environ: where to find secret values (default: `os.environ`).
    """
    if isinstance(value, DictConfig | ListConfig):
        value = OmegaConf.to_container(value, resolve=False)
    return secrets.redact(value, environ)

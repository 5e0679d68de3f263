"""Errors of nemotron.kit.lineage.

    NemotronError                      (nemotron.kit.artifacts.errors)
    ├── UserError
    │   ├── WandbConfigError           a bad `[wandb]` / `run.wandb` setting (names the key and the fix)
    │   ├── WandbNotInstalledError     W&B asked for but `wandb` is not importable (also an ImportError)
    │   └── LineageRefError            a lineage query names an artifact the registry does not have
    └── RunError
        ├── RunRecordError             a per-run lineage record could not be read or written
        └── WandbApiChangedError       the installed wandb lacks a call the W&B tracker relies on

W&B failures while a job runs are never raised: the tracker logs one warning and keeps the
lineage locally.
"""

from __future__ import annotations

from nemotron.kit.artifacts.errors import RunError, UserError

__all__ = [
    "LineageRefError",
    "RunRecordError",
    "WandbApiChangedError",
    "WandbConfigError",
    "WandbNotInstalledError",
]

INSTALL_HINT = 'pip install "kit-lineage[wandb]"'


class WandbConfigError(UserError):
    """A W&B setting is missing or wrong; `key` is the dotted key at fault."""

    def __init__(self, key: str, message: str, source: str = "config") -> None:
        self.key = key
        self.source = source
        super().__init__(f"{source}: {key}: {message}")


class WandbNotInstalledError(UserError, ImportError):
    """W&B tracking was requested but the `wandb` package cannot be imported."""

    def __init__(self) -> None:
        super().__init__(f"W&B tracking is configured but `wandb` is not installed: {INSTALL_HINT}")


class LineageRefError(UserError):
    """A lineage query names an artifact version that is not in the registry."""

    def __init__(self, ref: str, root: str, hint: str = "") -> None:
        self.ref = ref
        self.root = root
        fix = (
            hint or "list what exists with `nemotron artifacts list` or check the name and version"
        )
        super().__init__(f"lineage: no artifact {ref!r} in registry {root}; {fix}")


class RunRecordError(RunError):
    """A run record under `<registry>/.runs/` could not be read or written."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"run record {path}: {reason}")


class WandbApiChangedError(RunError):
    """The installed wandb no longer has a (private) call the W&B tracker relies on.

    Raised inside the tracker only, where its one-warning guard reports it and the lineage
    stays local.
    """

    def __init__(self, call: str, version: str) -> None:
        self.call = call
        self.version = version
        super().__init__(
            f"wandb {version} has no {call}, which kit-lineage uses to record the inputs of "
            f"an offline run; install the wandb range of {INSTALL_HINT} or update kit-lineage"
        )

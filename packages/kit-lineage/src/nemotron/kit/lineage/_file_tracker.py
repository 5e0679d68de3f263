"""`FileTracker`: the default tracker; lineage lives with the artifact registry.

Each published version already carries its inputs and producer (kit-artifacts writes them into
its metadata); the tracker adds one record per run, `<registry root>/.runs/<run_id>.json`,
naming what the run consumed and produced. Nothing needs a server or an account.
"""

from __future__ import annotations

from typing import Any

import msgspec

from nemotron.kit.artifacts import Artifact, Registry, RunInfo, current_run, get_registry
from nemotron.kit.lineage._ids import artifact_id
from nemotron.kit.lineage._records import (
    RunArtifact,
    RunRecord,
    now_iso,
    record_rel,
    update_run_record,
)
from nemotron.kit.lineage._tracker import LineageTracker

__all__ = ["FileTracker"]


class FileTracker(LineageTracker):
    """Writes a per-run lineage record next to the registry.

    Args:
        registry: the registry whose root holds the records; default: the current registry
            at the time of each write (so `set_registry` later is honoured).
        run: the run to record; default: kit-artifacts' `current_run()`.
    """

    def __init__(self, registry: Registry | None = None, run: RunInfo | None = None) -> None:
        self._registry = registry
        self._run = run
        self._finished = False
        self._wandb: dict[str, Any] | None = None

    @property
    def run_id(self) -> str:
        return self._run_info().run_id

    @property
    def active(self) -> bool:
        return not self._finished

    @property
    def registry(self) -> Registry:
        """The registry whose root holds the run records."""
        return self._registry if self._registry is not None else get_registry()

    @property
    def record_path(self) -> str:
        """This run's record file (a local path, or a URL for a remote registry)."""
        return self.registry.store.full(record_rel(self.run_id))

    def artifact_used(self, artifact: Artifact) -> None:
        self._write(consumed=[_entry(artifact)])

    def artifact_published(self, artifact: Artifact) -> None:
        self._write(produced=[_entry(artifact)])

    def attach_wandb(self, info: dict[str, Any]) -> None:
        """Note the W&B run this run logs to (id, project, entity, mode, url) in its record."""
        self._wandb = info
        self._write()

    def finish(self, exit_code: int = 0) -> None:
        if self._finished:
            return
        self._finished = True
        if self.registry.store.exists(record_rel(self.run_id)):
            self._write(
                exit_code=exit_code,
                ended_at=now_iso(),
                status="succeeded" if exit_code == 0 else "failed",
            )

    def _run_info(self) -> RunInfo:
        return self._run if self._run is not None else current_run()

    def _write(self, **change: Any) -> RunRecord:
        run = self._run_info()
        info = msgspec.to_builtins(run)
        info.pop("run_id", None)
        info.pop("ended_at", None)
        record = RunRecord(run_id=run.run_id, info=info, wandb=self._wandb, **change)
        return update_run_record(self.registry, record)


def _entry(artifact: Artifact) -> RunArtifact:
    return RunArtifact(
        ref=artifact_id(artifact.name, artifact.version, artifact.path),
        type=artifact.type,
        at=now_iso(),
    )

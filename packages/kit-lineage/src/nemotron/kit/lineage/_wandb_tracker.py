"""`WandbTracker`: lineage to Weights & Biases, on top of the local `FileTracker`.

Every event goes to the local tracker first, then to W&B:

- a produced artifact is logged as a W&B artifact that references its data (`file://`, no
  upload), with `metadata.json`/`blend.json` uploaded and aliases `latest` + the kit run id;
- its inputs are marked as used by the run: published artifacts as the W&B artifact their
  producer logged (same manifest, same digest), source datasets and the tokenizer as
  reference-only artifacts, so the W&B graph starts at the raw data;
- the run config gets `nemotron.lineage` (run id, inputs, outputs by kit name and version).

Online, inputs go through `run.use_artifact`. Offline (`WANDB_MODE=offline`) wandb refuses
`use_artifact`, so the tracker writes the record `use_artifact` itself writes for an unlogged
artifact (log, then use after commit); `wandb sync` later replays it and W&B links the input.
wandb has no public call for that record: the tracker uses the private
`Run._log_artifact(..., use_after_commit=True)` and checks it is there first, so a wandb
without it fails with `WandbApiChangedError` (one warning), never silently.
A W&B failure never stops the job: one warning, W&B is left alone for the rest of the run, and
the lineage stays in the local record.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from nemotron.kit.artifacts import Artifact, ArtifactRef, InputDatasetInfo
from nemotron.kit.lineage._file_tracker import FileTracker
from nemotron.kit.lineage._ids import artifact_id, input_id, lineage_inputs
from nemotron.kit.lineage._tracker import LineageTracker
from nemotron.kit.lineage._wandb_artifacts import (
    artifact_metadata,
    data_artifact,
    extra_files,
    ref_metadata,
    source_artifact,
    tokenizer_source,
    wandb_name,
)
from nemotron.kit.lineage.errors import WandbApiChangedError

__all__ = ["WandbTracker"]

logger = logging.getLogger("nemotron.kit.lineage")


class WandbTracker(LineageTracker):
    """Records lineage locally and in a W&B run.

    Args:
        run: the `wandb` run to log to; default: `wandb.run` at the first event.
        base: the local tracker every event also goes to; default: a new `FileTracker`.
        log_artifacts: log artifacts to W&B (False keeps only the run config lineage).
    """

    def __init__(
        self,
        run: Any = None,
        *,
        base: LineageTracker | None = None,
        log_artifacts: bool = True,
    ) -> None:
        self._run = run
        self.base = base if base is not None else FileTracker()
        self._log_artifacts = log_artifacts
        self._used: set[str] = set()
        self._inputs: list[dict[str, Any]] = []
        self._outputs: list[dict[str, Any]] = []
        self._failed = False
        self._finished = False
        self._attached = False

    @property
    def run_id(self) -> str:
        return self.base.run_id

    @property
    def active(self) -> bool:
        return not self._finished

    @property
    def wandb_run(self) -> Any:
        """The W&B run (None when W&B failed or no run was started)."""
        if self._run is None:
            from nemotron.kit.lineage._wandb_import import loaded_wandb

            wandb = loaded_wandb()
            self._run = wandb.run if wandb is not None else None
        return self._run

    @property
    def failed(self) -> bool:
        """True once a W&B call failed; the tracker then records locally only."""
        return self._failed

    def artifact_used(self, artifact: Artifact) -> None:
        self.base.artifact_used(artifact)
        self._guard("use", artifact, self._use_artifact, artifact)

    def artifact_published(self, artifact: Artifact) -> None:
        self.base.artifact_published(artifact)
        self._guard("log", artifact, self._log_output, artifact)

    def finish(self, exit_code: int = 0) -> None:
        if self._finished:
            return
        self._finished = True
        self.base.finish(exit_code)
        run = None if self._failed else self.wandb_run
        if run is not None:
            try:
                run.finish(exit_code=exit_code)
            except Exception as err:
                self._warn("finish", None, err)

    # -- W&B side -----------------------------------------------------------------------

    def _guard(self, action: str, artifact: Artifact, fn: Any, *args: Any) -> None:
        if self._failed or self.wandb_run is None or getattr(self._run, "disabled", False):
            return
        try:
            self._attach()
            fn(*args)
        except Exception as err:
            self._warn(action, artifact, err)

    def _warn(self, action: str, artifact: Artifact | None, err: Exception) -> None:
        self._failed = True
        what = f" {artifact_id(artifact.name, artifact.version, artifact.path)}" if artifact else ""
        record = getattr(self.base, "record_path", "the local registry")
        logger.warning(
            "W&B %s%s failed (%s: %s); lineage is kept locally in %s and W&B is skipped "
            "for the rest of this run",
            action,
            what,
            type(err).__name__,
            err,
            record,
        )

    def _attach(self) -> None:
        if self._attached:
            return
        self._attached = True
        run = self._run
        if isinstance(self.base, FileTracker):
            self.base.attach_wandb(
                {
                    "id": run.id,
                    "project": run.project,
                    "entity": run.entity or None,
                    "mode": "offline" if run.offline else "online",
                    "url": None if run.offline else run.url,
                }
            )

    def _use(self, entry: dict[str, Any], make_draft: Any) -> None:
        if entry["ref"] in self._used:
            return
        self._used.add(entry["ref"])
        self._inputs.append(entry)
        if self._log_artifacts:
            draft = make_draft()
            if self._run.offline:
                _log_used_offline(self._run, draft)
            else:
                self._run.use_artifact(draft)
        self._update_config()

    def _use_artifact(self, item: Artifact | ArtifactRef) -> None:
        artifact = item if isinstance(item, Artifact) else _load(item)
        if artifact is None:  # not loadable here: use what the reference says
            assert isinstance(item, ArtifactRef)
            meta = {"kit_ref": input_id(item), "kit_uri": item.uri, "kit_type": item.type}
            self._use(
                ref_metadata(item),
                lambda: data_artifact(item.name or "unpublished", item.type, item.path, meta),
            )
            return
        meta = artifact_metadata(artifact)
        entry = {
            "ref": meta["kit_ref"],
            "uri": meta["kit_uri"],
            "type": artifact.type,
            "kind": "artifact",
        }
        self._use(entry, lambda: _draft(artifact, meta))

    def _use_source(self, info: InputDatasetInfo, type_: str = "dataset") -> None:
        self._use({**ref_metadata(info), "type": type_}, lambda: source_artifact(info, type_))

    def _log_output(self, artifact: Artifact) -> None:
        inputs = lineage_inputs(artifact)
        for item in inputs:
            if isinstance(item, InputDatasetInfo):
                self._use_source(item, "tokenizer" if _is_tokenizer(item) else "dataset")
            else:
                self._use_artifact(item)
        tokenizer = tokenizer_source(artifact)
        listed = any(isinstance(i, InputDatasetInfo) and _is_tokenizer(i) for i in inputs)
        if tokenizer is not None and not listed:
            self._use_source(tokenizer, "tokenizer")
        meta = artifact_metadata(artifact)
        self._outputs.append(
            {"ref": meta["kit_ref"], "uri": meta["kit_uri"], "type": artifact.type}
        )
        if self._log_artifacts:
            self._run.log_artifact(
                _draft(artifact, meta), aliases=["latest", wandb_name(self.run_id)]
            )
        self._update_config()

    def _update_config(self) -> None:
        lineage = {"run_id": self.run_id, "inputs": self._inputs, "outputs": self._outputs}
        self._run.config.update({"nemotron_lineage": lineage}, allow_val_change=True)


_OFFLINE_USE = ("is_user_created", "use_after_commit")


def _log_used_offline(run: Any, draft: Any) -> None:
    """Mark `draft` as used by an offline run: the record `use_artifact` writes online.

    `Run.use_artifact` refuses offline runs; for an artifact not logged yet it calls
    `Run._log_artifact(draft, is_user_created=True, use_after_commit=True)`, which `wandb sync`
    later replays as a use. wandb has no public call for that, so this checks the private one
    is still there (wandb 0.29-0.31) and raises `WandbApiChangedError` when it is not.
    """
    log = getattr(run, "_log_artifact", None)
    if not callable(log) or not all(p in inspect.signature(log).parameters for p in _OFFLINE_USE):
        from nemotron.kit.lineage._wandb_import import import_wandb

        call = f"Run._log_artifact({', '.join(f'{n}=...' for n in _OFFLINE_USE)})"
        raise WandbApiChangedError(call, import_wandb().__version__)
    log(draft, is_user_created=True, use_after_commit=True)


def _draft(artifact: Artifact, meta: dict[str, Any]) -> Any:
    return data_artifact(
        artifact.name or "unpublished", artifact.type, artifact.path, meta, extra_files(artifact)
    )


def _load(ref: ArtifactRef) -> Artifact | None:
    """The full published artifact behind `ref` (for its side files), or None."""
    if ref.name is None or ref.version is None:
        return None
    try:
        return Artifact.from_uri(ref.uri)
    except Exception:  # moved, deleted or another registry: the ref is enough
        return None


def _is_tokenizer(info: InputDatasetInfo) -> bool:
    """Recipes list the tokenizer as an input named `tokenizer...`."""
    return (info.name or "").startswith("tokenizer")

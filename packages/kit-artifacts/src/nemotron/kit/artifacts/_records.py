"""The small records an artifact carries: who produced it (`RunInfo`) and what it consumed.

`inputs` is a tagged union: each entry's `kind` field says whether it is a published artifact
(`ArtifactRef`, kind "artifact") or a source dataset (`InputDatasetInfo`, kind "dataset").
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class ArtifactRef(msgspec.Struct, kw_only=True, tag_field="kind", tag="artifact"):
    """One exact artifact version an artifact was made from."""

    name: str | None
    """Registry name (None for an unpublished artifact referenced by path)."""
    version: int | None
    """Registry version (None for an unpublished artifact)."""
    type: str
    """The artifact's type tag, e.g. "PretrainBlendsArtifact"."""
    path: str
    """Where its data lives."""
    digest: str | None = None
    """Its content digest, when it was published with one."""

    @property
    def uri(self) -> str:
        """`art://NAME:vN` for published versions, `art:///path` otherwise."""
        from nemotron.kit.artifacts._names import art_uri

        return str(art_uri(self.name, self.version, self.path))


class InputDatasetInfo(msgspec.Struct, kw_only=True, tag_field="kind", tag="dataset"):
    """A source dataset (outside the registry) that an artifact was made from."""

    uri: str
    """Where it comes from, e.g. "hf://nvidia/Nemotron-CC" or "/data/raw/"."""
    name: str | None = None
    """A human name for it."""
    revision: str | None = None
    """Commit, tag or snapshot of the source."""
    split: str | None = None
    """Dataset split, e.g. "train"."""
    subset: str | None = None
    """Subset / configuration name."""
    text_field: str | None = None
    """The column that holds the text."""
    weight: float | None = None
    """Its weight in a blend."""
    rows: int | None = None
    """Number of rows read."""
    bytes: int | None = None
    """Number of bytes read."""
    files: list[str] = []
    """Files read from it."""


InputRef = ArtifactRef | InputDatasetInfo
"""One entry of `Artifact.inputs`."""


class RunInfo(msgspec.Struct, kw_only=True):
    """The run (process) that produced an artifact."""

    run_id: str
    """`NEMOTRON_RUN_ID` when set, else generated at first use."""
    argv: list[str] = []
    """The command line, secrets masked (see `nemotron.kit.artifacts.secrets`)."""
    git_commit: str | None = None
    """HEAD of the git checkout the run started in, if any."""
    git_dirty: bool | None = None
    """Whether that checkout had uncommitted changes to tracked files."""
    config_digest: str | None = None
    """Digest of the resolved config (set by kit-config)."""
    host: str | None = None
    """Host name."""
    user: str | None = None
    """User name."""
    started_at: datetime | None = None
    """When the run started (UTC)."""
    ended_at: datetime | None = None
    """When the run ended, or when the artifact was saved if the run was still going."""

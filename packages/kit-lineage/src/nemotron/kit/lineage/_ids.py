"""Lineage node ids (registry name and version, never an absolute registry path) and inputs.

artifact version   `Name:v3`
unpublished        `path:/abs/path/to/data`
source dataset     `source:hf://org/name@rev` (the revision only when the input names one)
"""

from __future__ import annotations

import msgspec

from nemotron.kit.artifacts import (
    Artifact,
    ArtifactRef,
    ArtURI,
    InputDatasetInfo,
    UserError,
    parse_ref,
)

__all__ = ["artifact_id", "input_id", "lineage_inputs", "normalize_ref", "source_id"]


def artifact_id(name: str | None, version: int | None, path: str | None = None) -> str:
    """The node id of an artifact version (or of an unpublished artifact, by path)."""
    if name and version is not None:
        return ArtURI(name, version).short
    return f"path:{path}"


def source_id(info: InputDatasetInfo) -> str:
    """The node id of a source dataset."""
    return f"source:{info.uri}" + (f"@{info.revision}" if info.revision else "")


def input_id(item: ArtifactRef | InputDatasetInfo) -> str:
    """The node id of one entry of an artifact's `inputs`."""
    if isinstance(item, InputDatasetInfo):
        return source_id(item)
    return artifact_id(item.name, item.version, item.path)


def normalize_ref(ref: str) -> str:
    """A node id from a reference: `art://Name:3`, `Name:v3` -> `Name:v3`; `Name` ->
    `Name:latest`; `art:///abs/path` -> `path:/abs/path`; node ids and unparsable text as given."""
    if ref.startswith(("source:", "path:")):
        return ref
    try:
        uri = parse_ref(ref)
    except UserError:
        return ref.removeprefix("art://")
    return uri.short if uri.name is not None else f"path:{uri.path}"


def lineage_inputs(artifact: Artifact) -> list[ArtifactRef | InputDatasetInfo]:
    """An artifact's `inputs` plus its typed `source_datasets` (data artifacts), each once."""
    found: dict[str, ArtifactRef | InputDatasetInfo] = {}
    typed = getattr(artifact, "source_datasets", None)
    if typed is None:  # a type whose class is not imported here keeps it in `extra`
        typed = msgspec.convert(artifact.extra.get("source_datasets") or [], list[InputDatasetInfo])
    for item in (*artifact.inputs, *typed):
        found.setdefault(input_id(item), item)
    return list(found.values())

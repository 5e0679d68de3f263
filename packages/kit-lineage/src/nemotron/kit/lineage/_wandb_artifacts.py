"""How kit artifacts and source datasets become `wandb.Artifact`s.

A kit artifact becomes a W&B artifact that *references* its data (`file://...`, no upload) and
carries its small files (`metadata.json`, `blend.json`) and its kit identity (URI, inputs,
producer) as metadata. The manifest depends only on the data path and those small files, so the
artifact a producer logs and the one a consumer marks as used have the same digest, and W&B
links them to one version. Source datasets and tokenizers become reference-only artifacts, so
the W&B graph starts at the raw data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec

from nemotron.kit.artifacts import Artifact, ArtifactRef, InputDatasetInfo
from nemotron.kit.artifacts.secrets import redact
from nemotron.kit.lineage._ids import artifact_id, input_id, lineage_inputs
from nemotron.kit.lineage._wandb_import import import_wandb

__all__ = [
    "SMALL_FILES",
    "artifact_metadata",
    "data_artifact",
    "extra_files",
    "small_files",
    "source_artifact",
    "tokenizer_source",
]

SMALL_FILES = ("metadata.json", "blend.json")
"""Files uploaded with the artifact (everything else is referenced in place)."""

SMALL_FILE_MAX = 1 << 20
"""Largest side file (blend, manifest) uploaded rather than referenced."""

_BASE_FIELDS = {
    "path",
    "name",
    "version",
    "type",
    "created_at",
    "producer",
    "inputs",
    "metadata",
    "digest",
}
_SOURCE_IDENTITY = ("uri", "name", "revision", "split", "subset")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def wandb_name(text: str) -> str:
    """A valid W&B artifact name or alias made from `text`."""
    return _UNSAFE.sub("-", text).strip("-.")[:128] or "unnamed"


def _uri_name(uri: str) -> str:
    body = uri.split("://", 1)[-1]
    return wandb_name(body)


def small_files(path: str, extra: tuple[str | None, ...] = ()) -> dict[str, str]:
    """The small files uploaded with the data at `path`: upload name -> local file.

    `metadata.json` and `blend.json` in a data folder (a single-file artifact's metadata is
    `<file>.metadata.json`), plus the files named in `extra` (an artifact's blend or manifest
    path) when they exist and are under `SMALL_FILE_MAX` bytes.
    """
    data = Path(path)
    found: dict[str, str] = {}
    if data.is_dir():
        for small in SMALL_FILES:
            if (data / small).is_file():
                found[small] = str(data / small)
    elif Path(f"{path}.metadata.json").is_file():
        found["metadata.json"] = f"{path}.metadata.json"
    for item in extra:
        if item and Path(item).is_file() and Path(item).stat().st_size <= SMALL_FILE_MAX:
            found.setdefault(Path(item).name, item)
    return found


def data_artifact(
    name: str,
    type_: str,
    path: str,
    metadata: dict[str, Any],
    extra_files: tuple[str | None, ...] = (),
) -> Any:
    """A `wandb.Artifact` for a kit artifact's data at `path` (referenced, not uploaded).

    Args:
        name: the registry name (the W&B artifact name).
        type_: the kit type tag (the W&B artifact type).
        path: the data folder or file (a URL is referenced as is).
        metadata: W&B metadata (does not change the digest).
        extra_files: more small files to upload (blend or manifest paths).
    """
    wandb = import_wandb()
    art = wandb.Artifact(wandb_name(name), type=wandb_name(type_), metadata=metadata)
    _add_reference(art, path, "data")
    for upload_name, local in small_files(path, extra_files).items():
        art.add_file(local, name=upload_name)
    return art


def extra_files(artifact: Artifact) -> tuple[str | None, ...]:
    """Small side files an artifact names by field (blend file, manifest)."""
    return tuple(getattr(artifact, f, None) for f in ("blend_path", "manifest_path"))


def source_artifact(info: InputDatasetInfo, type_: str = "dataset") -> Any:
    """A reference-only `wandb.Artifact` for a source dataset or tokenizer."""
    wandb = import_wandb()
    identity = redact(
        {k: v for k, v in msgspec.to_builtins(info).items() if k in _SOURCE_IDENTITY and v}
    )
    art = wandb.Artifact(
        wandb_name(info.name or _uri_name(info.uri)), type=type_, metadata=identity
    )
    with art.new_file("source.json", mode="w", encoding="utf-8") as handle:
        json.dump(identity, handle, sort_keys=True)
    _add_reference(art, info.uri, "source")
    return art


def _add_reference(art: Any, location: str, name: str) -> None:
    """Reference `location` (URL or local path) in `art` without reading or uploading it.

    A local path that does not exist here (data on another machine, a moved registry) is not
    referenced: wandb cannot reference it, and the artifact's metadata still names it.
    """
    if "://" in location:
        art.add_reference(location, name=name, checksum=False)
    elif Path(location).exists():
        art.add_reference(Path(location).resolve().as_uri(), name=name, checksum=False)


def tokenizer_source(artifact: Artifact) -> InputDatasetInfo | None:
    """The tokenizer an artifact was made with (field or metadata `tokenizer`), as a source."""
    value = getattr(artifact, "tokenizer", None) or artifact.metadata.get("tokenizer")
    if isinstance(value, dict):
        value = value.get("uri") or value.get("model") or value.get("name")
    if not isinstance(value, str) or not value:
        return None
    if "://" in value or value.startswith("/"):
        return InputDatasetInfo(uri=value, name=f"tokenizer-{_uri_name(value)}")
    return InputDatasetInfo(uri=f"hf://{value}", name=f"tokenizer-{wandb_name(value)}")


def ref_metadata(item: ArtifactRef | InputDatasetInfo) -> dict[str, Any]:
    """How an input is named in W&B metadata and run config."""
    if isinstance(item, InputDatasetInfo):
        return {"ref": input_id(item), "uri": item.uri, "kind": "dataset"}
    return {"ref": input_id(item), "uri": item.uri, "type": item.type, "kind": "artifact"}


def artifact_metadata(artifact: Artifact) -> dict[str, Any]:
    """The W&B metadata of a kit artifact: kit identity, typed fields, inputs, producer."""
    fields = {k: v for k, v in msgspec.to_builtins(artifact).items() if k not in _BASE_FIELDS}
    producer = msgspec.to_builtins(artifact.producer) if artifact.producer is not None else None
    return redact(
        {
            "kit_ref": artifact_id(artifact.name, artifact.version, artifact.path),
            "kit_uri": artifact.uri if artifact.version is not None else None,
            "kit_type": artifact.type,
            "path": artifact.path,
            "digest": artifact.digest,
            "fields": fields,
            "metadata": msgspec.to_builtins(artifact.metadata),
            "inputs": [ref_metadata(i) for i in lineage_inputs(artifact)],
            "producer": producer,
        }
    )

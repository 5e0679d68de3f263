"""Artifact classes: a path plus typed metadata, and how that metadata is (de)serialised.

`metadata.json` holds the struct's fields plus `schema_version`. The `type` field names the
class; every `Artifact` subclass registers its type when it is defined, so `Artifact.load()`
returns the right class, and an unregistered type loads as plain `Artifact` with its unknown
fields kept in `extra` (written back unchanged).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, TypeVar

import msgspec

from nemotron.kit.artifacts._names import art_uri, normalize_path
from nemotron.kit.artifacts._records import ArtifactRef, InputDatasetInfo, InputRef, RunInfo
from nemotron.kit.artifacts.errors import ArtifactTypeError, CorruptMetadataError

SCHEMA_VERSION = 1
"""Written to every metadata file. 0 = files from before the field existed (still readable)."""

METADATA_FILE = "metadata.json"

_TYPES: dict[str, type[Artifact]] = {}

A = TypeVar("A", bound="Artifact")


def _now() -> datetime:
    return datetime.now(UTC)


class Artifact(msgspec.Struct, kw_only=True):
    """Data at `path` plus typed metadata; publish with `save()`, read with `load()`/`from_uri()`.

    Subclass it (with `kw_only=True`) to add typed fields; the class name is the type tag
    unless the subclass sets `artifact_type: ClassVar[str] = "..."`.
    """

    path: str
    """Where the data lives (a folder, a file, or an fsspec URL). Path objects are accepted."""
    name: str | None = None
    """Registry name, set when published."""
    version: int | None = None
    """Registry version, set when published."""
    type: str = ""
    """Type tag (the class's `artifact_type`); filled in automatically."""
    created_at: datetime = msgspec.field(default_factory=_now)
    """When this artifact object was created (UTC)."""
    producer: RunInfo | None = None
    """The run that produced it; `save()` fills it from `current_run()`."""
    inputs: list[ArtifactRef | InputDatasetInfo] = []
    """Artifact versions and source datasets it was made from."""
    metadata: dict[str, Any] = {}
    """Free-form metadata (secret-named keys are masked on save)."""
    digest: str | None = None
    """Content digest such as "xxh3_128:<hex>", when saved with `digest=True`."""
    files: dict[str, str] = {}
    """Per-file `"<size>:<hash>"` by relative path, when the producer hashed the data while
    writing it (`DigestWriter`); lets `verify` name each missing or changed file."""
    extra: dict[str, Any] = {}
    """Fields of an unregistered type (or a newer schema), kept so they round-trip."""

    artifact_type: ClassVar[str] = "Artifact"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "artifact_type" not in cls.__dict__:
            cls.artifact_type = cls.__name__
        _TYPES[cls.artifact_type] = cls

    def __post_init__(self) -> None:
        if not isinstance(self.path, str):
            self.path = os.fspath(self.path)
        if not self.type:
            self.type = self.artifact_type

    # ------------------------------------------------------------------ identity
    @property
    def uri(self) -> str:
        """`art://NAME:vN` once published, else `art:///abs/path` (or the URL)."""
        return str(art_uri(self.name, self.version, self.path))

    def ref(self) -> ArtifactRef:
        """An `ArtifactRef` to this exact artifact, for another artifact's `inputs`."""
        return ArtifactRef(
            name=self.name, version=self.version, type=self.type, path=self.path, digest=self.digest
        )

    # ------------------------------------------------------------------ I/O
    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read the artifact whose data is at `path` (its `metadata.json` beside the data)."""
        from nemotron.kit.artifacts._metadata_io import read_metadata

        return read_metadata(normalize_path(path), cls)

    @classmethod
    def from_uri(cls, uri: str | os.PathLike[str]) -> Self:
        """Resolve `art://NAME[:latest|:vN|:ALIAS]`, bare `NAME[:SEL]`, `art:///abs/path` or a
        path (see `nemotron.kit.artifacts.resolve`)."""
        from nemotron.kit.artifacts._registry import resolve

        return resolve(uri, cls)

    def save(
        self,
        name: str | None = None,
        *,
        copy: bool = False,
        aliases: tuple[str, ...] | list[str] = (),
        digest: bool = False,
        metadata_file: bool = True,
    ) -> Self:
        """Write `metadata.json` beside the data and publish to the active registry.

        Fills `producer` from `current_run()` and prepends the run's recorded inputs to
        `inputs`, then updates this object in place (name, version; path when `copy=True`)
        and returns it. The lineage tracker, if any, is told afterwards.

        Args:
            name: Registry name; defaults to `self.name`, then the type tag.
            copy: Copy the data into the registry instead of registering a reference.
            aliases: Aliases to point at the new version.
            digest: Compute a content digest of the data first (streaming, parallel).
            metadata_file: Write `metadata.json` beside the data; False leaves the data's
                folder untouched (the registry record alone describes the version, so load it
                with `from_uri`), e.g. to register a read-only folder.
        """
        from nemotron.kit.artifacts._registry import save_artifact

        return save_artifact(
            self,
            name,
            copy=copy,
            aliases=tuple(aliases),
            digest=digest,
            metadata_file=metadata_file,
        )


class PretrainBlendsArtifact(Artifact, kw_only=True):
    """Tokenized pretraining data: binary shards per split plus a Megatron blend file."""

    blend_path: str | None = None
    """The blend JSON listing (weight, prefix) per split."""
    train: list[str] = []
    """Shard prefixes of the training split."""
    valid: list[str] = []
    """Shard prefixes of the validation split."""
    test: list[str] = []
    """Shard prefixes of the test split."""
    total_tokens: int = 0
    """Tokens over all splits."""
    train_tokens: int = 0
    valid_tokens: int = 0
    test_tokens: int = 0
    total_sequences: int = 0
    """Documents / sequences over all splits."""
    num_shards: int = 0
    tokenizer: str | None = None
    """Tokenizer name or path used."""
    source_datasets: list[InputDatasetInfo] = []
    """Where the text came from."""


class SFTDataArtifact(Artifact, kw_only=True):
    """Packed SFT sequences (`.npy`/parquet packs) per split."""

    pack_size: int = 4096
    """Tokens per packed sequence."""
    training_path: str | None = None
    validation_path: str | None = None
    test_path: str | None = None
    total_tokens: int = 0
    training_tokens: int = 0
    validation_tokens: int = 0
    test_tokens: int = 0
    num_sequences: int = 0
    """Packed sequences over all splits."""
    tokenizer: str | None = None
    source_datasets: list[InputDatasetInfo] = []


class SplitJsonlDataArtifact(Artifact, kw_only=True):
    """RL prompts as JSONL files per split, with a manifest."""

    train_path: str | None = None
    val_path: str | None = None
    test_path: str | None = None
    train_count: int = 0
    """Records in the train file."""
    val_count: int = 0
    test_count: int = 0
    manifest_path: str | None = None
    """A JSON manifest describing the files."""
    source_datasets: list[InputDatasetInfo] = []


class ModelArtifact(Artifact, kw_only=True):
    """A model checkpoint folder."""

    step: int = 0
    """Training step of the checkpoint."""
    loss: float | None = None
    """Loss at that step."""
    format: str = "megatron"
    """Checkpoint format, e.g. "megatron", "torch_dist", "hf"."""


_TYPES["Artifact"] = Artifact


def registered_types() -> dict[str, type[Artifact]]:
    """Type tag -> class, for every Artifact subclass defined so far."""
    return dict(_TYPES)


# ---------------------------------------------------------------------- (de)serialisation
_FIELDS_CACHE: dict[type[Artifact], frozenset[str]] = {}


def _field_names(cls: type[Artifact]) -> frozenset[str]:
    names = _FIELDS_CACHE.get(cls)
    if names is None:
        names = _FIELDS_CACHE[cls] = frozenset(cls.__struct_fields__) - {"extra"}
    return names


def encode(artifact: Artifact, **overrides: Any) -> bytes:
    """The metadata file content for `artifact` (fields + schema_version; extra merged back)."""
    data: dict[str, Any] = msgspec.to_builtins(artifact)
    extra = data.pop("extra", None) or {}
    data.update(overrides)
    out = {"schema_version": SCHEMA_VERSION, **{k: v for k, v in extra.items() if k not in data}}
    out.update(data)
    return msgspec.json.encode(out)


def decode_dict(raw: bytes, source: str) -> dict[str, Any]:
    """Parse a metadata file into a dict, raising `CorruptMetadataError` with the reason."""
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError as err:
        problem = "truncated JSON" if "truncated" in str(err) else f"invalid JSON ({err})"
        raise CorruptMetadataError(source, problem) from None
    if not isinstance(data, dict):
        raise CorruptMetadataError(source, f"expected a JSON object, got {type(data).__name__}")
    version = data.pop("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        raise CorruptMetadataError(source, f"schema_version {version!r} is not a number")
    if version > SCHEMA_VERSION:
        raise CorruptMetadataError(
            source,
            f"schema_version {version} is newer than this kit-artifacts reads "
            f"({SCHEMA_VERSION}); upgrade kit-artifacts",
        )
    return data


def build(data: dict[str, Any], cls: type[A], source: str) -> A:
    """Turn decoded metadata into the registered class for its type (must be a `cls`)."""
    tag = data.get("type")
    if tag is None and "path" in data:
        tag = cls.artifact_type  # schema 0 files might not carry a type
    if not isinstance(tag, str) or not tag:
        raise CorruptMetadataError(source, "field 'type' is missing or not a string")
    target: type[Artifact] | None = _TYPES.get(tag)
    if target is None:
        if cls is not Artifact:
            raise ArtifactTypeError(source, cls.artifact_type, tag)
        target = Artifact
    elif not issubclass(target, cls):
        raise ArtifactTypeError(source, cls.artifact_type, tag)
    known = _field_names(target)
    fields = {k: v for k, v in data.items() if k in known}
    extra = {k: v for k, v in data.items() if k not in known}
    if extra:
        fields["extra"] = extra
    fields["type"] = tag
    try:
        return msgspec.convert(fields, target)  # type: ignore[return-value]
    except msgspec.ValidationError as err:
        raise CorruptMetadataError(source, str(err)) from None


def to_input(item: Artifact | InputRef) -> InputRef:
    """Accept an Artifact where an input reference is expected."""
    return item.ref() if isinstance(item, Artifact) else item

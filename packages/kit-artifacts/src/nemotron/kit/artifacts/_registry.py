"""The artifact registry: names -> immutable numbered versions, `latest`, aliases.

Guarantees (see `_store` for the per-backend mechanics):
- A version becomes visible complete or not at all; its number is never reused (deleting
  leaves a tombstone), so `art://X:v3` always means the same thing.
- Concurrent publishers to one name each get a distinct number; none is lost.
- Version numbers are allocated densely; `latest` is a pointer that publishers advance after
  they publish, and readers probe one slot past it, so resolving `latest` costs O(1) reads
  (plus one per publish still in flight) and never goes backwards, even if a slow publisher
  rewrote the pointer with a smaller number.
- Aliases are small pointer files replaced atomically: readers see the old or new target.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar, overload

import msgspec

from nemotron.kit.artifacts._lineage import get_lineage_tracker
from nemotron.kit.artifacts._metadata_io import read_metadata, write_metadata
from nemotron.kit.artifacts._models import (
    METADATA_FILE,
    SCHEMA_VERSION,
    Artifact,
    build,
    decode_dict,
    encode,
    is_url,
    normalize_path,
    to_input,
)
from nemotron.kit.artifacts._names import LATEST, check_alias, check_name, parse_uri, parse_version
from nemotron.kit.artifacts._run import merge_inputs, producer_snapshot, record_input, run_inputs
from nemotron.kit.artifacts._store import RECORD, Store, open_store
from nemotron.kit.artifacts.errors import (
    ArtifactNotFoundError,
    InvalidNameError,
    NoDigestError,
    RegistryError,
    VersionInUseError,
    VersionNotFoundError,
)
from nemotron.kit.artifacts.secrets import redact

ROOT_ENV = "NEMOTRON_ARTIFACTS_ROOT"
DEFAULT_ROOT = "~/.nemotron/artifacts"

A = TypeVar("A", bound=Artifact)
Selector = int | str | None


class Registry:
    """Named, versioned artifacts under a root folder or fsspec URL.

    Args:
        root: A local folder (created on first publish), `file://` URL, or any fsspec URL
            (`memory://reg`, `s3://bucket/prefix`; needs the `remote` extra).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.store: Store = open_store(root)
        self.root: str = self.store.root

    def __repr__(self) -> str:
        return f"Registry({self.root!r})"

    # ------------------------------------------------------------------ reading
    @overload
    def resolve(self, name: str, version: Selector = None) -> Artifact: ...
    @overload
    def resolve(self, name: str, version: Selector = None, *, cls: type[A]) -> A: ...
    def resolve(self, name: str, version: Selector = None, *, cls: type[Any] = Artifact) -> Any:
        """The artifact `name` at `version` ("latest"/None, N, "vN" or an alias) as `cls`."""
        name = check_name(name)
        selector = parse_version(version)
        if selector == LATEST:
            found = self._find_latest(name)
            if found is None:
                self._raise_missing(name, LATEST)
            n, data = found
        else:
            n = selector if isinstance(selector, int) else self._alias_target(name, selector)
            record = self._read_record(name, n)
            if record is None:
                self._raise_missing(name, f"v{n}" if isinstance(selector, int) else selector)
            data = record
        return self._build(name, n, data, cls)

    def latest_version(self, name: str) -> int | None:
        """The newest live version number of `name`, or None."""
        found = self._find_latest(check_name(name))
        return found[0] if found else None

    def list_names(self) -> list[str]:
        """Every artifact name in the registry, sorted."""
        names = []
        for entry in self.store.listdir(""):
            try:
                names.append(check_name(entry))
            except InvalidNameError:
                continue
        return sorted(names)

    def list_versions(self, name: str) -> list[Artifact]:
        """Every live version of `name` (with its metadata), oldest first."""
        name = check_name(name)
        out = []
        for n in self._slots(name):
            record = self._read_record(name, n)
            if record is not None:
                out.append(self._build(name, n, record, Artifact))
        return out

    def versions(self, name: str) -> list[int]:
        """The live version numbers of `name`, ascending."""
        name = check_name(name)
        return [n for n in self._slots(name) if self._read_record(name, n) is not None]

    def aliases(self, name: str) -> dict[str, int]:
        """Alias -> version number for `name`."""
        name = check_name(name)
        out = {}
        for entry in sorted(self.store.listdir(f"{name}/aliases")):
            if entry.startswith("."):
                continue
            target = _parse_int(self.store.read(f"{name}/aliases/{entry}"))
            if target is not None:
                out[entry] = target
        return out

    # ------------------------------------------------------------------ writing
    def publish(
        self,
        artifact: A,
        name: str | None = None,
        *,
        copy: bool = False,
        aliases: tuple[str, ...] | list[str] = (),
    ) -> A:
        """Register `artifact` as the next version of `name`; return a copy with it set.

        With `copy=True` the data at `artifact.path` (a local file or folder) is copied into
        the version; otherwise only a reference (the path) is recorded.
        """
        name = check_name(name if name is not None else artifact.name or artifact.artifact_type)
        aliases = [check_alias(a) for a in aliases]
        source = normalize_path(artifact.path)
        if copy and is_url(source):
            raise ValueError(f"copy=True needs local data, got {source}; publish a reference")
        stored_path = (
            ("data" if os.path.isdir(source) else f"data/{os.path.basename(source)}")
            if copy
            else source
        )
        if copy and not os.path.exists(source):
            raise ArtifactNotFoundError(source, root=None)
        record = encode(artifact, name=name, version=None, path=stored_path)
        try:
            first = self._pointer(name) + 1
            n = self.store.publish(name, record, source if copy else None, first)
            self._advance_latest(name, n)
            for alias in aliases:
                self.store.write_atomic(f"{name}/aliases/{alias}", f"{n}\n".encode())
            self.store.clean_staging(name)
        except OSError as err:
            raise RegistryError(self.root, f"publishing {name!r} failed: {err}") from err
        path = self.store.full(f"{name}/versions/{n}/{stored_path}") if copy else source
        published = msgspec.structs.replace(artifact, name=name, version=n, path=path)
        if copy:  # the copy's own metadata.json learns its version (temp file in .staging)
            meta = (
                f"{stored_path}/{METADATA_FILE}"
                if stored_path == "data"
                else (f"{stored_path}.{METADATA_FILE}")
            )
            self.store.write_atomic(f"{name}/versions/{n}/{meta}", encode(published))
        return published

    def alias(self, name: str, version: Selector, alias: str) -> int:
        """Point `alias` at a live version of `name` (atomically); return the version number."""
        name = check_name(name)
        alias = check_alias(alias)
        n = self.resolve(name, version).version
        assert n is not None
        self.store.write_atomic(f"{name}/aliases/{alias}", f"{n}\n".encode())
        return n

    def untag(self, name: str, alias: str) -> None:
        """Remove `alias` from `name`."""
        name = check_name(name)
        alias = check_alias(alias)
        if not self.store.remove(f"{name}/aliases/{alias}"):
            self._raise_missing(name, alias)

    def delete(self, name: str, version: Selector, *, force: bool = False) -> None:
        """Delete a version (its number is never reused). Copied data is removed; referenced
        data is left alone. Refuses a version that aliases point at unless `force=True`,
        which removes those aliases too."""
        name = check_name(name)
        n = self.resolve(name, version).version
        assert n is not None
        pointing = [a for a, target in self.aliases(name).items() if target == n]
        if pointing and not force:
            raise VersionInUseError(name, n, pointing)
        for alias in pointing:
            self.store.remove(f"{name}/aliases/{alias}")
        tombstone = {
            "schema_version": SCHEMA_VERSION,
            "deleted": True,
            "deleted_at": datetime.now(UTC).isoformat(),
        }
        self.store.write_atomic(f"{name}/versions/{n}/{RECORD}", msgspec.json.encode(tombstone))
        self.store.remove_tree(f"{name}/versions/{n}/data")

    def verify(self, name: str, version: Selector = None) -> bool:
        """Recompute the content digest of a version's data and compare it with the record."""
        from nemotron.kit.artifacts._digest import compute_digest, digest_algorithm

        artifact = self.resolve(name, version)
        assert artifact.version is not None
        if not artifact.digest:
            raise NoDigestError(check_name(name), artifact.version)
        actual = compute_digest(artifact.path, digest_algorithm(artifact.digest))
        return actual == artifact.digest

    # ------------------------------------------------------------------ internals
    def _pointer(self, name: str) -> int:
        n = _parse_int(self.store.read(f"{name}/latest"))
        if n is None:  # no or damaged pointer: fall back to a listing
            return max(self._slots(name), default=0)
        return n

    def _probe_up(self, name: str, n: int) -> int:
        while self.store.slot_taken(name, n + 1):
            n += 1
        return n

    def _advance_latest(self, name: str, n: int) -> None:
        target = max(n, self._pointer(name))
        while True:
            self.store.write_atomic(f"{name}/latest", f"{target}\n".encode())
            top = self._probe_up(name, target)
            if top == target:
                return
            target = top

    def _find_latest(self, name: str) -> tuple[int, dict[str, Any]] | None:
        n = self._probe_up(name, self._pointer(name))
        while n > 0:
            record = self._read_record(name, n)
            if record is not None:
                return n, record
            n -= 1
        return None

    def _slots(self, name: str) -> list[int]:
        return sorted(int(e) for e in self.store.listdir(f"{name}/versions") if e.isdigit())

    def _read_record(self, name: str, n: int) -> dict[str, Any] | None:
        rel = f"{name}/versions/{n}/{RECORD}"
        raw = self.store.read(rel)
        if raw is None:
            return None
        data = decode_dict(raw, self.store.full(rel))
        return None if data.get("deleted") else data

    def _alias_target(self, name: str, alias: str) -> int:
        n = _parse_int(self.store.read(f"{name}/aliases/{alias}"))
        if n is None:
            self._raise_missing(name, alias)
        return n

    def _build(self, name: str, n: int, data: dict[str, Any], cls: type[A]) -> A:
        data["name"], data["version"] = name, n
        path = data.get("path")
        if isinstance(path, str) and not os.path.isabs(path) and not is_url(path):
            data["path"] = self.store.full(f"{name}/versions/{n}/{path}")
        return build(data, cls, self.store.full(f"{name}/versions/{n}/{RECORD}"))

    def _raise_missing(self, name: str, label: str) -> NoReturn:
        if not self.store.exists(name):
            import difflib

            close = difflib.get_close_matches(name, self.list_names(), n=3, cutoff=0.6)
            raise ArtifactNotFoundError(name, self.root, close)
        raise VersionNotFoundError(name, label, self.versions(name))


def _parse_int(raw: bytes | None) -> int | None:
    if raw is None:
        return None
    try:
        n = int(raw.strip() or b"x")
    except ValueError:
        return None
    return n if n >= 0 else None


# ---------------------------------------------------------------------- the active registry
_explicit: Registry | None = None
_default: tuple[str, Registry] | None = None


def default_root() -> str:
    """`NEMOTRON_ARTIFACTS_ROOT` if set, else `~/.nemotron/artifacts`."""
    return os.environ.get(ROOT_ENV) or os.path.expanduser(DEFAULT_ROOT)


def get_registry() -> Registry:
    """The active registry: the one given to `set_registry`, else one at `default_root()`."""
    global _default
    if _explicit is not None:
        return _explicit
    root = default_root()
    if _default is None or _default[0] != root:
        _default = (root, Registry(root))
    return _default[1]


def set_registry(registry_or_root: Registry | str | os.PathLike[str] | None) -> Registry | None:
    """Make a registry (or a root folder/URL) the active one; `None` restores the default."""
    global _explicit
    if registry_or_root is None or isinstance(registry_or_root, Registry):
        _explicit = registry_or_root
    else:
        _explicit = Registry(registry_or_root)
    return _explicit


# ---------------------------------------------------------------------- artifact-level API
def resolve_ref(ref: str, cls: type[A]) -> A:
    """An artifact from `art://NAME[:SEL]`, `art:///abs/path`, a path or an fsspec URL."""
    if ref.startswith("art://"):
        uri = parse_uri(ref)
        if uri.path is not None:
            return read_metadata(uri.path, cls)
        assert uri.name is not None
        return get_registry().resolve(uri.name, uri.selector, cls=cls)
    return read_metadata(normalize_path(ref), cls)


@overload
def use_artifact(ref: str | os.PathLike[str]) -> Artifact: ...
@overload
def use_artifact(ref: str | os.PathLike[str], cls: type[A]) -> A: ...
def use_artifact(ref: str | os.PathLike[str], cls: type[Any] = Artifact) -> Any:
    """Resolve `ref` (URI or path), record it as an input of the current run, tell the tracker."""
    artifact = resolve_ref(os.fspath(ref), cls)
    record_input(artifact.ref())
    tracker = get_lineage_tracker()
    if tracker is not None:
        tracker.artifact_used(artifact)
    return artifact


def save_artifact(
    artifact: A, name: str | None, *, copy: bool, aliases: tuple[str, ...], digest: bool
) -> A:
    """What `Artifact.save()` does (see there)."""
    name = check_name(name if name is not None else artifact.name or artifact.artifact_type)
    registry = get_registry()
    artifact.path = normalize_path(artifact.path)
    if artifact.producer is None:
        artifact.producer = producer_snapshot()
    artifact.inputs = merge_inputs(run_inputs(), [to_input(i) for i in artifact.inputs])
    artifact.metadata = redact(artifact.metadata)
    if digest:
        from nemotron.kit.artifacts._digest import compute_digest

        artifact.digest = compute_digest(artifact.path)
    artifact.name, artifact.version = name, None
    write_metadata(artifact)
    published = registry.publish(artifact, name, copy=copy, aliases=aliases)
    if not copy:  # (a copy's metadata is written by publish, inside the registry)
        write_metadata(published)
    for field in artifact.__struct_fields__:
        setattr(artifact, field, getattr(published, field))
    tracker = get_lineage_tracker()
    if tracker is not None:
        tracker.artifact_published(artifact)
    return artifact

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

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar, overload

import msgspec

from nemotron.kit.artifacts._lineage import get_lineage_tracker
from nemotron.kit.artifacts._metadata_io import Files, read_metadata, write_metadata
from nemotron.kit.artifacts._models import (
    METADATA_FILE,
    SCHEMA_VERSION,
    Artifact,
    build,
    decode_dict,
    encode,
    registered_types,
    to_input,
)
from nemotron.kit.artifacts._names import (
    LATEST,
    ArtURI,
    check_alias,
    check_name,
    is_url,
    normalize_path,
    parse_ref,
    parse_version,
)
from nemotron.kit.artifacts._run import merge_inputs, producer_snapshot, record_input, run_inputs
from nemotron.kit.artifacts._store import PRODUCED, RECORD, Store, open_store
from nemotron.kit.artifacts.errors import (
    AliasMismatchError,
    AliasNotFoundError,
    ArtifactNotFoundError,
    ArtifactTypeError,
    CorruptMetadataError,
    InvalidNameError,
    NemotronError,
    NoDigestError,
    RegistryError,
    RegistryReadOnlyError,
    VersionInUseError,
    VersionNotFoundError,
)
from nemotron.kit.artifacts.publish_point import pass_publish_point
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

    def list_versions(
        self, name: str, *, bad: list[CorruptMetadataError] | None = None
    ) -> list[Artifact]:
        """Every live version of `name` (with its metadata), oldest first.

        Args:
            bad: When given, versions whose record is corrupt are skipped and their errors
                appended here (a scan over many names keeps going); otherwise the first raises.
        """
        name = check_name(name)
        out = []
        for n in self._slots(name):
            try:
                record = self._read_record(name, n)
                if record is not None:
                    out.append(self._build(name, n, record, Artifact))
            except CorruptMetadataError as err:
                if bad is None:
                    raise
                bad.append(err)
        return out

    def produced_by(self, run_id: str) -> list[Artifact]:
        """The versions the run `run_id` published, oldest first (reads only that run's index).

        Each publish records `<root>/.produced/<run>/<name>@v<n>` when the artifact has a
        producer run id; deleted or corrupt versions are left out.
        """
        out = []
        for entry in self.store.listdir(f"{PRODUCED}/{_run_key(run_id)}"):
            name, sep, version = entry.rpartition("@v")
            if not sep or not version.isdigit():
                continue
            try:
                artifact = self.resolve(name, int(version))
            except (CorruptMetadataError, VersionNotFoundError, InvalidNameError):
                continue
            if artifact.producer is not None and artifact.producer.run_id == run_id:
                out.append(artifact)
        return sorted(out, key=lambda a: (a.created_at, a.name or "", a.version or 0))

    def versions(self, name: str) -> list[int]:
        """The live version numbers of `name`, ascending (corrupt records included)."""
        name = check_name(name)
        return [n for n in self._slots(name) if self._live(name, n)]

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
        pass_publish_point()
        try:
            first = self._pointer(name) + 1
            n = self.store.publish(name, record, source if copy else None, first)
            if artifact.producer is not None and artifact.producer.run_id:
                key = f"{PRODUCED}/{_run_key(artifact.producer.run_id)}/{name}@v{n}"
                self.store.write_atomic(key, b"")
            self._advance_latest(name, n)
            for alias in aliases:
                self.store.write_atomic(f"{name}/aliases/{alias}", f"{n}\n".encode())
            self.store.clean_staging(name)
        except OSError as err:
            raise _storage_error(self.root, f"publishing {name!r}", err) from err
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
        pass_publish_point()
        with _writing(self.root, f"setting alias {alias!r} of {name!r}"):
            self.store.write_atomic(f"{name}/aliases/{alias}", f"{n}\n".encode())
        return n

    def untag(self, name: str, alias: str, version: int | None = None) -> None:
        """Remove `alias` from `name`; with `version`, only if the alias points at it
        (else `AliasMismatchError`)."""
        name = check_name(name)
        alias = check_alias(alias)
        target = self._alias_target(name, alias)
        if version is not None and target != version:
            raise AliasMismatchError(name, alias, version, target)
        with _writing(self.root, f"removing alias {alias!r} of {name!r}"):
            if not self.store.remove(f"{name}/aliases/{alias}"):
                self._raise_missing(name, alias)

    def delete(self, name: str, version: Selector, *, force: bool = False) -> None:
        """Delete a version (its number is never reused). Copied data is removed; referenced
        data is left alone. Refuses a version that aliases point at unless `force=True`,
        which removes those aliases too."""
        name = check_name(name)
        n = self.version_number(name, version)
        pointing = [a for a, target in self.aliases(name).items() if target == n]
        if pointing and not force:
            raise VersionInUseError(name, n, pointing)
        tombstone = {
            "schema_version": SCHEMA_VERSION,
            "deleted": True,
            "deleted_at": datetime.now(UTC).isoformat(),
        }
        with _writing(self.root, f"deleting {name}:v{n}"):
            for alias in pointing:
                self.store.remove(f"{name}/aliases/{alias}")
            record = msgspec.json.encode(tombstone)
            self.store.write_atomic(f"{name}/versions/{n}/{RECORD}", record)
            self.store.remove_tree(f"{name}/versions/{n}/data")

    def version_number(self, name: str, version: Selector) -> int:
        """The live version number `version` selects (a corrupt record still counts as live,
        so it can be deleted); raises the not-found errors `resolve` raises."""
        name = check_name(name)
        selector = parse_version(version)
        if selector == LATEST:
            n = self._probe_up(name, self._pointer(name))
            while n > 0 and not self._live(name, n):
                n -= 1
            if n == 0:
                self._raise_missing(name, LATEST)
            return n
        n = selector if isinstance(selector, int) else self._alias_target(name, selector)
        if not self._live(name, n):
            self._raise_missing(name, f"v{n}" if isinstance(selector, int) else selector)
        return n

    def verify(self, name: str, version: Selector = None) -> bool:
        """Recompute the content digest of a version's data and compare it with the record."""
        return verify_digest(self.resolve(name, version))

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

    def _live(self, name: str, n: int) -> bool:
        """Whether version `n` has a record that is not a tombstone (corrupt counts as live)."""
        try:
            return self._read_record(name, n) is not None
        except CorruptMetadataError:
            return True

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
        try:
            return build(data, cls, self.store.full(f"{name}/versions/{n}/{RECORD}"))
        except ArtifactTypeError as err:  # name the version, not the record file
            raise ArtifactTypeError(str(ArtURI(name, n)), err.expected, err.found) from None

    def _raise_missing(self, name: str, label: str) -> NoReturn:
        if not self.store.exists(name):
            import difflib

            close = difflib.get_close_matches(name, self.list_names(), n=3, cutoff=0.6)
            raise ArtifactNotFoundError(name, self.root, close)
        if label != LATEST and not label.startswith("v"):
            raise AliasNotFoundError(name, label, self.aliases(name))
        raise VersionNotFoundError(name, label, self.versions(name))


def _run_key(run_id: str) -> str:
    """A run id as one safe folder name (ids that are not get a digest-based name)."""
    try:
        return check_name(run_id, "run id")
    except InvalidNameError:
        import hashlib

        return "sha256-" + hashlib.sha256(run_id.encode()).hexdigest()[:32]


def _storage_error(root: str, action: str, err: OSError) -> NemotronError:
    """A failed write as one line: read-only/permission problems are the user's to fix."""
    import errno

    if isinstance(err, PermissionError) or err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return RegistryReadOnlyError(root, f"{action}: {err.strerror or err}")
    return RegistryError(root, f"{action} failed: {err}")


@contextlib.contextmanager
def _writing(root: str, action: str) -> Iterator[None]:
    try:
        yield
    except OSError as err:
        raise _storage_error(root, action, err) from err


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
@overload
def resolve(
    ref: str | os.PathLike[str] | ArtURI,
    *,
    registry: Registry | None = None,
    files: Files | None = None,
) -> Artifact: ...
@overload
def resolve(
    ref: str | os.PathLike[str] | ArtURI,
    expected_type: type[A],
    *,
    registry: Registry | None = None,
    files: Files | None = None,
) -> A: ...
@overload
def resolve(
    ref: str | os.PathLike[str] | ArtURI,
    expected_type: str,
    *,
    registry: Registry | None = None,
    files: Files | None = None,
) -> Artifact: ...
def resolve(
    ref: str | os.PathLike[str] | ArtURI,
    expected_type: type[Any] | str = Artifact,
    *,
    registry: Registry | None = None,
    files: Files | None = None,
) -> Any:
    """The artifact a reference names, checked to be of `expected_type`.

    The one resolver behind `from_uri`, `use_artifact`, `${art:...}`, the CLI's input check and
    the admin commands. Reads nothing but the one record (or metadata file) named.

    Args:
        ref: `art://NAME[:SEL]`, bare `NAME[:SEL]`, `art:///abs/path`, a path or an fsspec URL
            (see `parse_ref`), or an `ArtURI`.
        expected_type: An `Artifact` class, or a type tag such as "SFTDataArtifact" (the class
            need not be imported: the record's `type` is compared).
        registry: Where names are looked up (default: the active registry).
        files: The machine a path reference is on when it is not this one (a cluster's files
            over SSH: a job there reads the path, not this machine).

    Raises:
        InvalidURIError, ArtifactNotFoundError, VersionNotFoundError, AliasNotFoundError,
        CorruptMetadataError, ArtifactTypeError (all `UserError`s, one line each).
    """
    uri = ref if isinstance(ref, ArtURI) else parse_ref(ref)
    cls: type[Any] = expected_type if isinstance(expected_type, type) else Artifact
    if isinstance(expected_type, str):
        cls = registered_types().get(expected_type, Artifact)
    if uri.path is not None:
        artifact = read_metadata(uri.path, cls, files)
    else:
        assert uri.name is not None
        artifact = (registry or get_registry()).resolve(uri.name, uri.selector, cls=cls)
    if isinstance(expected_type, str) and not _is_a(artifact, expected_type):
        raise ArtifactTypeError(str(uri), expected_type, artifact.type)
    return artifact


def _is_a(artifact: Artifact, tag: str) -> bool:
    return artifact.type == tag or any(
        getattr(k, "artifact_type", None) == tag for k in type(artifact).__mro__
    )


def verify_digest(artifact: Artifact) -> bool:
    """Recompute the content digest of `artifact`'s data and compare it with its record."""
    return not digest_problems(artifact)


def digest_problems(artifact: Artifact) -> list[str]:
    """What differs between `artifact`'s data and its recorded digest, one line per problem
    (`missing: train/a.bin`, `changed: blend.json`; per file when the artifact lists its
    `files`); empty when it matches."""
    from nemotron.kit.artifacts._digest import check_files

    if not artifact.digest:
        raise NoDigestError(artifact.uri)
    return check_files(artifact.path, artifact.digest, artifact.files)


@overload
def use_artifact(ref: str | os.PathLike[str]) -> Artifact: ...
@overload
def use_artifact(ref: str | os.PathLike[str], cls: type[A]) -> A: ...
def use_artifact(ref: str | os.PathLike[str], cls: type[Any] = Artifact) -> Any:
    """`resolve(ref, cls)`, record it as an input of the current run, tell the tracker."""
    artifact = resolve(ref, cls)
    record_input(artifact.ref())
    tracker = get_lineage_tracker()
    if tracker is not None:
        tracker.artifact_used(artifact)
    return artifact


def save_artifact(
    artifact: A,
    name: str | None,
    *,
    copy: bool,
    aliases: tuple[str, ...],
    digest: bool,
    metadata_file: bool = True,
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
    if metadata_file:
        write_metadata(artifact)
    published = registry.publish(artifact, name, copy=copy, aliases=aliases)
    if metadata_file and not copy:  # (a copy's metadata is written by publish, inside)
        write_metadata(published)
    for field in artifact.__struct_fields__:
        setattr(artifact, field, getattr(published, field))
    tracker = get_lineage_tracker()
    if tracker is not None:
        tracker.artifact_published(artifact)
    return artifact

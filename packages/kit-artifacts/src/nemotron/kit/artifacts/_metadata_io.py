"""Reading and writing an artifact's `metadata.json` beside its data (local or fsspec URL).

A folder artifact keeps `metadata.json` inside the folder; a single-file artifact `x.jsonl`
keeps `x.jsonl.metadata.json` beside it. Reading also works on another machine's files (a
cluster's, over SSH) given as a `Files` object.
"""

from __future__ import annotations

import os
from typing import Any, Protocol, TypeVar

from nemotron.kit.artifacts._atomic import write_atomic
from nemotron.kit.artifacts._models import (
    METADATA_FILE,
    Artifact,
    build,
    decode_dict,
    encode,
)
from nemotron.kit.artifacts._names import is_url
from nemotron.kit.artifacts.errors import ArtifactNotFoundError, CorruptMetadataError

A = TypeVar("A", bound=Artifact)


def url_fs(url: str) -> tuple[Any, str]:
    """`(filesystem, path)` for an fsspec URL; ImportError with the install line if missing."""
    try:
        import fsspec
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(f'{url} needs fsspec: pip install "kit-artifacts[remote]"') from err
    return fsspec.core.url_to_fs(url)


def metadata_file(path: str) -> str:
    """Where the metadata of the artifact at `path` lives."""
    if is_url(path):
        fs, fpath = url_fs(path)
        if fs.isfile(fpath):
            return path + "." + METADATA_FILE
        return path.rstrip("/") + "/" + METADATA_FILE
    if os.path.isdir(path) or not os.path.exists(path):
        return os.path.join(path, METADATA_FILE)
    return path + "." + METADATA_FILE


class Files(Protocol):
    """Another machine's files, as `read_metadata` reads them (a subset of fsspec's API)."""

    def isdir(self, path: str) -> bool: ...

    def exists(self, path: str) -> bool: ...

    def cat_file(self, path: str) -> bytes:
        """The file's bytes; FileNotFoundError when it is not there."""
        ...


def read_metadata(path: str, cls: type[A], files: Files | None = None) -> A:
    """Load the artifact at `path` (a data folder/file, or a metadata file itself) as `cls`.

    Args:
        files: The machine `path` is on when it is not this one (e.g. a cluster's login node);
            there `path` is the data folder or file, not a metadata file.
    """
    exists = _exists if files is None else files.exists
    if files is not None:
        raw, file = _read_on(files, path)
        data_path = path
    else:
        if os.path.basename(path).endswith(METADATA_FILE) and not os.path.isdir(path):
            file = path
            data_path = path[: -len(METADATA_FILE)].rstrip(".").rstrip("/") or path
        else:
            file, data_path = metadata_file(path), path
        raw = _read(file)
    if raw is None:
        if not exists(path):
            raise ArtifactNotFoundError(path, root=None)
        raise CorruptMetadataError(file, "file is missing (was the artifact ever saved?)")
    artifact = build(decode_dict(raw, file), cls, file)
    artifact.path = data_path
    return artifact


def write_metadata(artifact: Artifact) -> str:
    """Atomically write `artifact`'s metadata beside its data; return the file written."""
    file = metadata_file(artifact.path)
    data = encode(artifact)
    if is_url(file):
        fs, fpath = url_fs(file)
        fs.pipe_file(fpath, data)  # one object put: readers see old or new content
        return file
    folder = os.path.dirname(file)
    os.makedirs(folder, exist_ok=True)
    if os.path.normpath(folder) != os.path.normpath(artifact.path):  # a file artifact
        write_atomic(file, data)
        return file
    try:  # the temp file beside the folder: nothing temporary ever appears inside an artifact
        write_atomic(file, data, temp_dir=os.path.dirname(folder))
    except OSError:  # the parent is not writable, or on another file system
        write_atomic(file, data)
    return file


def _read(file: str) -> bytes | None:
    try:
        if is_url(file):
            fs, fpath = url_fs(file)
            return bytes(fs.cat_file(fpath))
        with open(file, "rb") as f:
            return f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _exists(path: str) -> bool:
    if is_url(path):
        fs, fpath = url_fs(path)
        return bool(fs.exists(fpath))
    return os.path.exists(path)


def _read_on(files: Files, path: str) -> tuple[bytes | None, str]:
    """(bytes or None, file) of the metadata of the artifact at `path` on another machine."""
    file = os.path.join(path, METADATA_FILE)
    if files.exists(path) and not files.isdir(path):
        file = path + "." + METADATA_FILE
    try:
        return files.cat_file(file), file
    except FileNotFoundError:
        return None, file

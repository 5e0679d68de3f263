"""Reading and writing an artifact's `metadata.json` beside its data (local or fsspec URL).

A folder artifact keeps `metadata.json` inside the folder; a single-file artifact `x.jsonl`
keeps `x.jsonl.metadata.json` beside it.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

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


def read_metadata(path: str, cls: type[A]) -> A:
    """Load the artifact at `path` (a data folder/file, or a metadata file itself) as `cls`."""
    if os.path.basename(path).endswith(METADATA_FILE) and not os.path.isdir(path):
        file = path
        data_path = path[: -len(METADATA_FILE)].rstrip(".").rstrip("/") or path
    else:
        file, data_path = metadata_file(path), path
    raw = _read(file)
    if raw is None:
        if not _exists(path):
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

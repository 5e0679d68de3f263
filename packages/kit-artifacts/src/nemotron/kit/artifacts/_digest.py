"""Content digests of artifact data: streaming, parallel over files, multi-GB friendly.

The digest string names its algorithm: `xxh3_128:<hex>` (xxhash, the `digest` extra),
`blake3:<hex>` (if the blake3 package is installed) or `blake2b:<hex>` (stdlib fallback).
A folder's digest hashes, in path order, each file's relative path, size and own hash;
the artifact's own `metadata.json` at the top of the folder is left out (it changes on publish),
and so are temp files of an interrupted metadata write (`.<host>-<pid>-<rand>-metadata.json`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

from nemotron.kit.artifacts._models import METADATA_FILE
from nemotron.kit.artifacts._names import is_url

_CHUNK = 4 << 20
Hasher = Callable[[], Any]


def _xxh3() -> Hasher:
    import xxhash

    return xxhash.xxh3_128


def _blake3() -> Hasher:
    import blake3

    return blake3.blake3


def _blake2b() -> Hasher:
    return lambda: hashlib.blake2b(digest_size=32)


_ALGORITHMS: dict[str, tuple[Callable[[], Hasher], str]] = {
    "xxh3_128": (_xxh3, 'pip install "kit-artifacts[digest]"'),
    "blake3": (_blake3, "pip install blake3"),
    "blake2b": (_blake2b, ""),
}


def default_algorithm() -> str:
    """The fastest available: xxh3_128, then blake3, then blake2b (always there)."""
    for name in ("xxh3_128", "blake3"):
        try:
            _ALGORITHMS[name][0]()
        except ImportError:
            continue
        return name
    return "blake2b"


def _hasher(algorithm: str) -> Hasher:
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"unknown digest algorithm {algorithm!r}; use one of {list(_ALGORITHMS)}")
    factory, install = _ALGORITHMS[algorithm]
    try:
        return factory()
    except ImportError as err:
        raise ImportError(f"digest algorithm {algorithm} needs: {install}") from err


def _list_files(path: str) -> list[tuple[str, str]]:
    """(relative name, absolute path) of every file under `path`, sorted by name."""
    if os.path.isfile(path):
        return [(os.path.basename(path), path)]
    found: list[tuple[str, str]] = []
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in files:
            full = os.path.join(folder, name)
            rel = os.path.relpath(full, path).replace(os.sep, "/")
            if not _own_metadata(rel):
                found.append((rel, full))
    found.sort()
    return found


def _own_metadata(rel: str) -> bool:
    return rel == METADATA_FILE or (
        rel.startswith(".") and "/" not in rel and rel.endswith("-" + METADATA_FILE)
    )


def _hash_file(new: Hasher, file: str) -> tuple[int, str]:
    h = new()
    size = 0
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with open(file, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
            size += n
    return size, h.hexdigest()


def compute_digest(
    path: str | os.PathLike[str], algorithm: str | None = None, workers: int | None = None
) -> str:
    """Digest the file or folder at `path` as `"<algorithm>:<hex>"`.

    Args:
        path: A local file or folder.
        algorithm: "xxh3_128", "blake3" or "blake2b"; default: the fastest installed.
        workers: Threads hashing files in parallel (default: CPU count, at most 16).
    """
    path = os.fspath(path)
    if is_url(path):
        raise ValueError(f"digest of remote data is not supported: {path}; digest a local copy")
    algorithm = algorithm or default_algorithm()
    new = _hasher(algorithm)
    files = _list_files(path)
    workers = workers or min(16, os.cpu_count() or 1)
    if workers > 1 and len(files) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(lambda item: _hash_file(new, item[1]), files))
    else:
        results = [_hash_file(new, full) for _, full in files]
    total = new()
    for (rel, _), (size, hexdigest) in zip(files, results, strict=True):
        total.update(f"{rel}\0{size}\0{hexdigest}\n".encode())
    return f"{algorithm}:{total.hexdigest()}"


def digest_algorithm(digest: str) -> str:
    """The algorithm named by a digest string (`"xxh3_128:ab.."` -> `"xxh3_128"`)."""
    return digest.partition(":")[0]

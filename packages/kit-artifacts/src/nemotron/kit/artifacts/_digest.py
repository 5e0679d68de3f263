"""Content digests of artifact data: streaming, parallel over files, multi-GB friendly.

The digest string names its algorithm: `xxh3_128:<hex>` (xxhash, the `digest` extra),
`blake3:<hex>` (if the blake3 package is installed) or `blake2b:<hex>` (stdlib fallback).
A folder's digest hashes, in path order, each file's relative path, size and own hash;
the artifact's own `metadata.json` at the top of the folder is left out (it changes on publish),
and so are temp files of an interrupted metadata write (`.<host>-<pid>-<rand>-metadata.json`).

A producer that writes the data itself can get the same digest without reading it again:
`DigestWriter` hashes each file as its bytes go out and keeps a per-file manifest
(`relative path -> "<size>:<hash>"`, the artifact's `files`), with which `check_files` names
each missing, changed or unexpected file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
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
    entries = {
        rel: (size, hexdigest) for (rel, _), (size, hexdigest) in zip(files, results, strict=True)
    }
    return _combine(new, algorithm, entries)


def _combine(new: Hasher, algorithm: str, entries: dict[str, tuple[int, str]]) -> str:
    """The folder digest from each file's (size, hash), in path order."""
    total = new()
    for rel in sorted(entries):
        size, hexdigest = entries[rel]
        total.update(f"{rel}\0{size}\0{hexdigest}\n".encode())
    return f"{algorithm}:{total.hexdigest()}"


class HashingFile:
    """A binary file open for writing that hashes what is written (see `DigestWriter.open`)."""

    def __init__(self, path: Path, done: Callable[[int, str], None], new: Hasher) -> None:
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 - closed in close()
        self._hash = new()
        self._done = done
        self.size = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._hash.update(view)
        written = 0
        while written < len(view):
            written += self._file.write(view[written:])
        self.size += written
        return written

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
            self._done(self.size, self._hash.hexdigest())

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DigestWriter:
    """Writes the files of a folder and hashes them on the way out: `digest()` then equals
    `compute_digest(root)` (metadata.json aside) with no second read of the data.

    Args:
        root: The folder being written (may be a staging folder renamed later).
        algorithm: As for `compute_digest`; default: the fastest installed.
    """

    def __init__(self, root: str | os.PathLike[str], algorithm: str | None = None) -> None:
        self.root = Path(root)
        self.algorithm = algorithm or default_algorithm()
        self._new = _hasher(self.algorithm)
        self._entries: dict[str, tuple[int, str]] = {}

    def open(self, rel: str) -> HashingFile:
        """A new file `rel` (a `/`-separated path under root; folders are created)."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)

        def done(size: int, hexdigest: str) -> None:
            self._entries[rel] = (size, hexdigest)

        return HashingFile(path, done, self._new)

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write a whole small file."""
        with self.open(rel) as f:
            f.write(data)

    @property
    def files(self) -> dict[str, str]:
        """relative path -> `"<size>:<hash>"` of every file written and closed."""
        return {rel: f"{size}:{h}" for rel, (size, h) in sorted(self._entries.items())}

    def digest(self) -> str:
        """The folder digest of every file written (and closed) so far."""
        return _combine(self._new, self.algorithm, self._entries)


def check_files(
    path: str | os.PathLike[str], digest: str, files: dict[str, str] | None = None
) -> list[str]:
    """What differs between the data at `path` and its recorded `digest`: one line per problem
    (`missing: train/a.bin`, `changed: blend.json`, `unexpected: x.tmp`); empty when it matches.

    With `files` (the per-file manifest) each file is named; without, the data as a whole.
    """
    path = os.fspath(path)
    algorithm = digest_algorithm(digest)
    if not os.path.exists(path):
        return [f"missing: {path}"]
    if not files:
        return [] if compute_digest(path, algorithm) == digest else [f"changed: {path}"]
    new = _hasher(algorithm)
    found = dict(_list_files(path))
    problems = [f"missing: {rel}" for rel in files if rel not in found]
    problems += [f"unexpected: {rel}" for rel in found if rel not in files]
    for rel, recorded in files.items():
        if rel in found:
            size, hexdigest = _hash_file(new, found[rel])
            if f"{size}:{hexdigest}" != recorded:
                problems.append(f"changed: {rel}")
    if not problems and _combine(new, algorithm, _parse(files)) != digest:
        problems.append("changed: the file list does not match the recorded digest")
    return sorted(problems, key=lambda p: p.partition(": ")[2])


def _parse(files: dict[str, str]) -> dict[str, tuple[int, str]]:
    out = {}
    for rel, entry in files.items():
        size, _, hexdigest = entry.partition(":")
        out[rel] = (int(size), hexdigest)
    return out


def digest_algorithm(digest: str) -> str:
    """The algorithm named by a digest string (`"xxh3_128:ab.."` -> `"xxh3_128"`)."""
    return digest.partition(":")[0]

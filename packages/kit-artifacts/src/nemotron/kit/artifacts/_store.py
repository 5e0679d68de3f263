"""Storage primitives under a registry root: a local folder, or any fsspec URL.

Paths given to a store are relative to the root and use "/". Layout per artifact name:

    <name>/versions/<n>/artifact.json   the published record (immutable; a tombstone once deleted)
    <name>/versions/<n>/data/            the data, only when published with copy=True
    <name>/latest                        pointer: a recent version number (a hint, see Registry)
    <name>/aliases/<alias>               pointer: the version number the alias names
    <name>/.staging/                     in-flight publishes and temp files (never read)
    .produced/<run>/<name>@v<n>          index: versions published by a run (`produced_by`)

Publishing, per backend:
- `LocalStore`: the version is assembled in `.staging/<id>/` (record + copied data, fsynced),
  then `os.rename`d to `versions/<n>`. Renaming a folder onto an existing non-empty folder
  fails, so allocating the number and making the complete version visible is one atomic step;
  on a clash the publisher tries n+1. Pointers are replaced with temp file + fsync + os.replace.
- `FsspecStore`: the number is claimed by creating `versions/<n>/.claim` with
  `pipe_file(mode="create")` (atomic on backends with conditional create: local, memory,
  S3 If-None-Match, GCS generation match; a check-then-write elsewhere), then the data is
  uploaded and `artifact.json` written last as one object put, which is what makes the version
  visible. A publisher that dies after claiming leaves a gap in the numbers, never a visible
  half-version.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
from typing import Any

from nemotron.kit.artifacts._atomic import (
    fsync_dir,
    owner_gone,
    temp_name,
    write_atomic,
    write_file_synced,
)

RECORD = "artifact.json"
STAGING = ".staging"
PRODUCED = ".produced"
"""`.produced/<run id>/<name>@v<n>`: empty files indexing the versions each run published."""
_STALE_S = 24 * 3600.0


class LocalStore:
    """A registry root on a local (POSIX) file system."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))

    def __repr__(self) -> str:
        return f"LocalStore({self.root!r})"

    def full(self, rel: str) -> str:
        """Local path (or URL) of `rel`, as stored in an artifact's `path`."""
        return os.path.join(self.root, *rel.split("/"))

    def read(self, rel: str) -> bytes | None:
        try:
            with open(self.full(rel), "rb") as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.full(rel))

    def slot_taken(self, name: str, n: int) -> bool:
        """Whether version number `n` of `name` is allocated (published or deleted)."""
        return os.path.isdir(self.full(f"{name}/versions/{n}"))

    def listdir(self, rel: str) -> list[str]:
        try:
            return os.listdir(self.full(rel))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def write_atomic(self, rel: str, data: bytes) -> None:
        target = self.full(rel)
        name = rel.split("/", 1)[0]
        staging = self.full(f"{name}/{STAGING}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.makedirs(staging, exist_ok=True)
        write_atomic(target, data, temp_dir=staging)

    def remove(self, rel: str) -> bool:
        try:
            os.unlink(self.full(rel))
        except FileNotFoundError:
            return False
        return True

    def remove_tree(self, rel: str) -> None:
        shutil.rmtree(self.full(rel), ignore_errors=True)

    def publish(self, name: str, record: bytes, data_src: str | None, first: int) -> int:
        """Make a new version of `name` visible, numbered `first` or the next free one."""
        staging_root = self.full(f"{name}/{STAGING}")
        versions = self.full(f"{name}/versions")
        os.makedirs(staging_root, exist_ok=True)
        os.makedirs(versions, exist_ok=True)
        stage = os.path.join(staging_root, temp_name("version"))
        os.mkdir(stage)
        try:
            if data_src is not None:
                _copy_data(data_src, os.path.join(stage, "data"))
            write_file_synced(os.path.join(stage, RECORD), record)
            fsync_dir(stage)
            n = max(first, 1)
            while True:
                try:
                    os.rename(stage, os.path.join(versions, str(n)))
                    break
                except OSError as err:
                    if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
                    n += 1
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        fsync_dir(versions)
        return n

    def clean_staging(self, name: str) -> int:
        """Remove staging leftovers of dead publishers (or older than a day); return count."""
        folder = self.full(f"{name}/{STAGING}")
        now = time.time()
        removed = 0
        for entry in self.listdir(f"{name}/{STAGING}"):
            full = os.path.join(folder, entry)
            try:
                mtime = os.lstat(full).st_mtime
            except FileNotFoundError:
                continue
            if owner_gone(entry, _STALE_S, mtime, now):
                if os.path.isdir(full):
                    shutil.rmtree(full, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(full)
                removed += 1
        return removed


def _copy_data(src: str, dst: str) -> None:
    if os.path.isdir(src):
        shutil.copytree(src, dst)
    else:
        os.mkdir(dst)
        shutil.copy2(src, os.path.join(dst, os.path.basename(src)))


def _install_hint(message: str) -> str:
    """The install line for a missing fsspec (the extra) plus the scheme's backend it names."""
    import re

    backend = re.search(r"[Ii]nstall (\S+) to access", message)
    return 'pip install "kit-artifacts[remote]"' + (f" {backend[1]}" if backend else "")


class FsspecStore:
    """A registry root at an fsspec URL (memory://, s3://, gs://, ...)."""

    def __init__(self, url: str) -> None:
        from nemotron.kit.artifacts._metadata_io import url_fs
        from nemotron.kit.artifacts.errors import RegistryRootError

        self.url = url.rstrip("/")
        self.fs: Any
        try:
            self.fs, path = url_fs(self.url)
        except ImportError as err:  # fsspec, or the backend of this scheme (s3fs, gcsfs, ...)
            raise RegistryRootError(url, f"{err}; {_install_hint(str(err))}") from err
        except ValueError as err:  # "Protocol not known: bogus"
            raise RegistryRootError(url, f"unknown URL scheme ({err})") from err
        self.base = path.rstrip("/")
        self.root = self.url

    def __repr__(self) -> str:
        return f"FsspecStore({self.url!r})"

    def _p(self, rel: str) -> str:
        return f"{self.base}/{rel}" if rel else self.base

    def full(self, rel: str) -> str:
        return f"{self.url}/{rel}"

    def read(self, rel: str) -> bytes | None:
        try:
            return bytes(self.fs.cat_file(self._p(rel)))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self._p(rel)))

    def slot_taken(self, name: str, n: int) -> bool:
        return self.exists(f"{name}/versions/{n}/.claim")

    def listdir(self, rel: str) -> list[str]:
        try:
            entries = self.fs.ls(self._p(rel), detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries]

    def write_atomic(self, rel: str, data: bytes) -> None:
        self.fs.pipe_file(self._p(rel), data)  # a single object put

    def remove(self, rel: str) -> bool:
        try:
            self.fs.rm_file(self._p(rel))
        except FileNotFoundError:
            return False
        return True

    def remove_tree(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self._p(rel), recursive=True)

    def publish(self, name: str, record: bytes, data_src: str | None, first: int) -> int:
        n = max(first, 1)
        claim = temp_name("claim").encode()
        while True:
            try:
                self.fs.pipe_file(self._p(f"{name}/versions/{n}/.claim"), claim, mode="create")
                break
            except FileExistsError:
                n += 1
        if data_src is not None:
            target = self._p(f"{name}/versions/{n}/data")
            if os.path.isdir(data_src):
                self.fs.put(data_src.rstrip("/") + "/", target + "/", recursive=True)
            else:
                self.fs.put_file(data_src, f"{target}/{os.path.basename(data_src)}")
        self.fs.pipe_file(self._p(f"{name}/versions/{n}/{RECORD}"), record)
        return n

    def clean_staging(self, name: str) -> int:
        return 0  # nothing is staged: unpublished claims stay as gaps


Store = LocalStore | FsspecStore


def open_store(root: str | os.PathLike[str]) -> Store:
    """The store for a registry root: a local path / file:// URL, or another fsspec URL."""
    text = os.fspath(root)
    if text.startswith("file://"):
        text = text[len("file://") :]
    if "://" in text:
        return FsspecStore(text)
    return LocalStore(text)

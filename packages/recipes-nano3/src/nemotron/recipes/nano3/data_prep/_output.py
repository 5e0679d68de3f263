"""Where a stage writes: one published folder per config, built aside, locked while in use.

    <output_dir>/<key>/             the published folder of one config (never rewritten)
    <output_dir>/.work/<key>/       shard work (done records: resume) and `publish/`, where the
                                    folder is assembled before it is renamed into place
    <output_dir>/.work/<key>.lock   held (flock) by the run using that folder

`key` is a digest of everything that decides the bytes (input plan, tokenizer, settings,
artifact name), so another config writes another folder, and the same config resumes its work
or reuses what it published (registered again as the run's output, pointing at the same files). A published folder appears whole (one rename) and nothing
temporary is ever written inside it; its files are hashed as they are written (`DigestWriter`),
so the artifact carries a digest `nemotron artifacts verify` checks. `overwrite=true` deletes the
registry version that points at the folder before the folder is rebuilt. A run stopped by bad
input or config removes its work folder (a kill or a crash keeps it, to resume).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError, OutputInUseError

_PUBLISH = "publish"


class OutputFolder:
    """The published folder, work folder and lock of one stage config (a context manager that
    holds the lock: exclusive, or shared for the tasks of a Slurm array)."""

    def __init__(self, output_dir: str, key: str, *, shared: bool = False) -> None:
        self.root = Path(output_dir).expanduser().resolve()
        self.key = key
        self.final = self.root / key
        self.work = self.root / ".work" / key
        self.staging = self.work / _PUBLISH
        self._lock_path = self.root / ".work" / f"{key}.lock"
        self._shared = shared
        self._lock: Any = None

    @classmethod
    def of(cls, cfg: Any, key: str) -> OutputFolder:
        """The folder of a stage config (a Slurm array task shares it with its siblings)."""
        task = cfg.run.engine == "slurm-array" and cfg.run.array_role == "task"
        return cls(cfg.output_dir, key, shared=task)

    def published(self, cfg: Any, artifact_cls: type, stage: str) -> Any:
        """The artifact of this config when it was published before (None: build it): its
        files are reused, registered again as this run's output (the next version, the same
        folder and digest; the folder's own metadata.json stays the first version's), so a
        pipe pins what its step produced. Array tasks never reuse."""
        if self._shared:
            return None
        from datetime import UTC, datetime

        import msgspec

        found = self.reuse(cfg.artifact_name, artifact_cls, cfg.overwrite)
        if found is None:
            return None
        again = msgspec.structs.replace(
            found,
            name=None,
            version=None,
            producer=None,
            created_at=datetime.now(UTC),
            metadata={**found.metadata, "reuses": found.uri},
        ).save(name=cfg.artifact_name, metadata_file=False)
        print(
            f"{stage} data: this config is already published as {found.uri} ({found.path}); "
            f"its files are reused, not rebuilt, as {again.uri} (overwrite=true rebuilds them)"
        )
        return again

    def __enter__(self) -> OutputFolder:
        try:
            self._lock_path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(self._lock_path, "a+")
        except OSError as err:
            raise DataPrepConfigError(
                "output_dir", f"cannot write under {self.root} ({err.strerror or err})"
            ) from None
        try:
            fcntl.flock(lock, (fcntl.LOCK_SH if self._shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise OutputInUseError(str(self.final), holder) from None
        if not self._shared:
            lock.seek(0)
            lock.truncate()
            lock.write(f"pid {os.getpid()} on {os.uname().nodename}\n")
            lock.flush()
        self._lock = lock
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        from nemotron.kit.artifacts.errors import UserError

        if exc_type is not None and issubclass(exc_type, UserError) and not self._shared:
            shutil.rmtree(self.work, ignore_errors=True)  # bad input: nothing to resume from
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def reuse(self, name: str, cls: type, overwrite: bool) -> Any:
        """The artifact this config already published (None: build it). With `overwrite`, that
        registry version is deleted and the folder removed instead. A folder no live version of
        this registry points at is removed when it was never published, refused otherwise."""
        from nemotron.kit.artifacts import get_registry

        registry = get_registry()
        live = [a for a in _versions(registry, name) if Path(a.path) == self.final]
        if live and not overwrite:
            return registry.resolve(name, live[-1].version, cls=cls)
        for artifact in live:
            registry.delete(name, artifact.version)
            print(f"{name}: retired {artifact.uri} (overwrite=true)")
        if self.final.exists():
            published = _published_as(self.final)
            if published and not live and not overwrite:
                raise DataPrepConfigError(
                    "overwrite",
                    f"{self.final} holds {published}, which this registry does not list "
                    "(deleted, or another registry's); set overwrite=true to rebuild it, or "
                    "choose another output_dir",
                )
            shutil.rmtree(self.final)
        return None

    def start(self) -> None:
        """An empty staging folder (left over by a killed run: removed)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True)

    def writer(self) -> Any:
        """A `DigestWriter` into the staging folder (relative paths = the published layout)."""
        from nemotron.kit.artifacts import DigestWriter

        return DigestWriter(self.staging)

    def publish(self, artifact: Any, name: str, writer: Any) -> Any:
        """Move the staged folder into place, then publish `artifact` (its path must be
        `final`) with the digest and file list `writer` recorded."""
        from nemotron.recipes.nano3.data_prep._common import publish

        os.rename(self.staging, self.final)
        artifact.digest, artifact.files = writer.digest(), writer.files
        return publish(artifact, name)

    def finish(self, keep_work: bool) -> None:
        """Remove this config's work folder (unless kept); other configs' work stays."""
        if not keep_work:
            shutil.rmtree(self.work, ignore_errors=True)


def _versions(registry: Any, name: str) -> list[Any]:
    from nemotron.kit.artifacts import ArtifactNotFoundError

    try:
        return list(registry.list_versions(name, bad=[]))  # (corrupt records: skipped)
    except ArtifactNotFoundError:
        return []


def _published_as(folder: Path) -> str | None:
    """`art://NAME:vN` from the folder's metadata.json, if it was ever published."""
    import json

    try:
        data = json.loads((folder / "metadata.json").read_text())
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and data.get("name") and data.get("version"):
        return f"art://{data['name']}:v{data['version']}"
    return None

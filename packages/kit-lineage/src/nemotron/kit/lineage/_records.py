"""Per-run lineage records: `<registry root>/.runs/<run_id>.json` (local folder or fsspec URL).

A record says what one run consumed and produced, by registry name and version (never by
absolute registry path, so the records stay valid when the registry moves), plus the run's
identity (command, git commit, config digest, host, times) and its exit code. Several
processes of one run (ranks, stages) may update a record: updates are merged under a file
lock (local roots) and written atomically through the registry's store.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from nemotron.kit.artifacts import Registry
from nemotron.kit.lineage.errors import RunRecordError

__all__ = [
    "RUNS_DIR",
    "RunArtifact",
    "RunRecord",
    "load_run_records",
    "record_rel",
    "update_run_record",
]

RUNS_DIR = ".runs"


class RunArtifact(msgspec.Struct, kw_only=True, frozen=True):
    """One artifact a run consumed or produced.

    Attributes:
        ref: `Name:vN` for a registry version, `path:/abs/path` for an unpublished one.
        type: the artifact's type tag.
        at: when the run used or published it (ISO 8601, UTC).
    """

    ref: str
    type: str | None = None
    at: str = ""


class RunRecord(msgspec.Struct, kw_only=True):
    """What one run consumed and produced.

    Attributes:
        run_id: kit's run id.
        info: the run's identity from kit-artifacts' `RunInfo` (argv, git commit, config
            digest, host, user, started_at).
        status: `running`, `succeeded` or `failed`.
        exit_code: the code given to `finish`, None while running.
        ended_at: when `finish` was called (ISO 8601, UTC).
        consumed: the inputs, in first-use order, each once.
        produced: the outputs, in publish order, each once.
        wandb: the W&B run this run logged to (`id`, `project`, `entity`, `mode`, `url`).
    """

    run_id: str
    info: dict[str, Any] = {}
    status: str = "running"
    exit_code: int | None = None
    ended_at: str | None = None
    consumed: list[RunArtifact] = []
    produced: list[RunArtifact] = []
    wandb: dict[str, Any] | None = None

    def absorb(self, newer: RunRecord) -> None:
        """Add what `newer` (this or another process's later view of the run) knows."""
        self.info = {**self.info, **newer.info}
        _extend_unique(self.consumed, newer.consumed)
        _extend_unique(self.produced, newer.produced)
        if newer.exit_code is not None:
            self.exit_code, self.ended_at, self.status = (
                newer.exit_code,
                newer.ended_at,
                newer.status,
            )
        self.wandb = newer.wandb or self.wandb


def now_iso() -> str:
    """The current time as an ISO 8601 UTC string."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _extend_unique(into: list[RunArtifact], items: list[RunArtifact]) -> None:
    seen = {item.ref for item in into}
    for item in items:
        if item.ref not in seen:
            into.append(item)
            seen.add(item.ref)


@contextlib.contextmanager
def _locked(registry: Registry, rel: str) -> Iterator[None]:
    """Serialize updates of one record between processes (local roots; remote: last writer)."""
    if "://" in registry.root:
        yield
        return
    lock = registry.store.full(rel.removesuffix(".json") + ".lock")
    os.makedirs(os.path.dirname(lock), exist_ok=True)
    with open(lock, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(registry: Registry, rel: str) -> RunRecord | None:
    where = registry.store.full(rel)
    try:
        raw = registry.store.read(rel)
        return None if raw is None else msgspec.json.decode(raw, type=RunRecord)
    except (OSError, msgspec.DecodeError) as err:
        raise RunRecordError(where, f"cannot read ({err}); delete or fix the file") from err


def record_rel(run_id: str) -> str:
    """The record of `run_id`, relative to the registry root."""
    return f"{RUNS_DIR}/{run_id}.json"


def update_run_record(registry: Registry, change: RunRecord) -> RunRecord:
    """Merge `change` into the stored record of `change.run_id` and write it back atomically.

    Args:
        registry: the registry whose root holds the `.runs` folder.
        change: what this process knows about the run now.

    Returns:
        The merged record as written.
    """
    rel = record_rel(change.run_id)
    try:
        with _locked(registry, rel):
            record = _read(registry, rel)
            if record is None:
                record = change
            else:
                record.absorb(change)
            data = msgspec.json.format(msgspec.json.encode(record), indent=2) + b"\n"
            registry.store.write_atomic(rel, data)
    except OSError as err:
        raise RunRecordError(registry.store.full(rel), f"cannot write ({err})") from err
    return record


def load_run_records(registry: Registry) -> list[RunRecord]:
    """All run records of `registry`, oldest run first."""
    names = sorted(e for e in registry.store.listdir(RUNS_DIR) if e.endswith(".json"))
    records = [r for e in names if (r := _read(registry, f"{RUNS_DIR}/{e}")) is not None]
    records.sort(key=lambda r: (str(r.info.get("started_at") or ""), r.run_id))
    return records

"""Job records: one folder per launch under `.nemotron/jobs/<id>/`, written atomically.

job.json        JobRecord: argv, profile name, executor summary, NeMo-Run ids, state
profile.json    the profile, secrets redacted
config.*        the resolved config (when one was given)
submission.sh   what was (or, for a dry run, would be) submitted
output.log      a local job's output (see _supervisor.py; publish.latch, cancel.request beside it)
files/          copies of the files shipped with the job (its config), secrets masked
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path
from typing import Any

import msgspec

from nemotron.kit.run._paths import jobs_dir
from nemotron.kit.run.errors import JobNotFoundError

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "DRY_RUN"})


class JobRecord(msgspec.Struct, kw_only=True):
    """What kit remembers about one launch."""

    id: str
    name: str
    profile: str
    executor: str
    """Executor kind (`local`, `slurm`, ...)."""
    command: list[str]
    """The job's command line (entrypoint, script or module, args)."""
    launched_by: list[str]
    """`sys.argv` of the launching process."""
    created_at: str
    detach: bool = False
    dry_run: bool = False
    state: str = "CREATED"
    exit_code: int | None = None
    message: str = ""
    ended_at: str | None = None
    executor_summary: dict[str, Any] = {}
    experiment_id: str | None = None
    experiment_dir: str | None = None
    handle: str | None = None
    """NeMo-Run app handle, e.g. `slurm_tunnel://nemo_run/42`."""
    backend_id: str | None = None
    """The scheduler's id (Slurm job id, local app id)."""
    tunnel: dict[str, Any] | None = None
    """How to reach the scheduler again (`{"kind": "local"}` or ssh host/user/identity)."""
    log_files: list[str] = []
    """Glob patterns of the job's own output (stdout/stderr of the command, every restart)."""
    scheduler_log_files: list[str] = []
    """Glob patterns of the scheduler's output (Slurm: the sbatch script's `set -x` trace)."""
    pid: int | None = None
    """Local jobs: the supervisor process (`_supervisor.py`) that runs the stage."""
    stage_pid: int | None = None
    """Local jobs: the stage's process, leader of its own process group."""
    launcher_pid: int | None = None
    """Local jobs: the process that launched it (until the supervisor has started)."""
    process_starts: dict[str, int] = {}
    """Local jobs: start time of each pid above (clock ticks after boot, from /proc), so a pid
    the system has since given to another process is not taken for the job's."""
    started_at: str | None = None
    depends_on: list[str] = []
    config_digest: str | None = None
    files: dict[str, str] = {}
    """Files shipped with the job: job-side path -> the copy kept in this record (`files/`)."""


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_job_id(name: str) -> str:
    """`<name>-<yyyymmdd-hhmmss>-<4 hex>`, sortable by time."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "job"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{safe}-{stamp}-{secrets.token_hex(2)}"


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` through a temporary file and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
    raw = data.encode() if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
    os.replace(tmp, path)


def write_json(path: Path, value: Any) -> None:
    write_atomic(path, json.dumps(msgspec.to_builtins(value), indent=2, sort_keys=True) + "\n")


def record_dir(job_id: str, root: Path | None = None) -> Path:
    return (root or jobs_dir()) / job_id


def save_record(record: JobRecord, root: Path | None = None) -> Path:
    folder = record_dir(record.id, root)
    write_json(folder / "job.json", record)
    return folder


def load_record(job_id: str, root: Path | None = None) -> JobRecord:
    path = record_dir(job_id, root) / "job.json"
    try:
        return msgspec.json.decode(path.read_bytes(), type=JobRecord)
    except FileNotFoundError:
        raise JobNotFoundError(job_id, root or jobs_dir()) from None


def list_records(root: Path | None = None) -> list[JobRecord]:
    """Every job record, newest first."""
    base = root or jobs_dir()
    if not base.is_dir():
        return []
    records = []
    for folder in base.iterdir():
        if (folder / "job.json").is_file():
            try:
                records.append(
                    msgspec.json.decode((folder / "job.json").read_bytes(), type=JobRecord)
                )
            except msgspec.DecodeError:
                continue
    return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)

"""`Job`: a handle on one launch (status, logs, cancel), backed by its job record."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nemotron.kit.run._executors import import_nemo_run
from nemotron.kit.run._hosts import JobHost, job_host
from nemotron.kit.run._records import (
    TERMINAL_STATES,
    JobRecord,
    list_records,
    load_record,
    now,
    save_record,
)
from nemotron.kit.run._secretfile import secrets_path_in
from nemotron.kit.run.errors import JobFailedError

_SLURM_STATES = {
    "PENDING": "PENDING",
    "REQUEUED": "PENDING",
    "CONFIGURING": "RUNNING",
    "RUNNING": "RUNNING",
    "COMPLETING": "RUNNING",
    "SUSPENDED": "RUNNING",
    "RESIZING": "RUNNING",
    "COMPLETED": "SUCCEEDED",
    "CANCELLED": "CANCELLED",
    "FAILED": "FAILED",
    "TIMEOUT": "FAILED",
    "NODE_FAIL": "FAILED",
    "OUT_OF_MEMORY": "FAILED",
    "BOOT_FAIL": "FAILED",
    "DEADLINE": "FAILED",
    "PREEMPTED": "FAILED",
}

# A job array has one sacct row per task; the row that speaks for the whole array comes first.
_ROW_ORDER = ("RUNNING", "PENDING", "UNKNOWN", "FAILED", "CANCELLED", "SUCCEEDED")


def _overall(rows: list[str]) -> str:
    """The `State|ExitCode` row of a job, or of a job array as a whole: running while any task
    runs or waits, else failed or cancelled if any task was, else succeeded."""

    def order(row: str) -> int:
        state = _SLURM_STATES.get(row.partition("|")[0].split(" ")[0], "UNKNOWN")
        return _ROW_ORDER.index(state) if state in _ROW_ORDER else 2

    return min(rows, key=order, default="")


_NEVER_STARTS = "a job it depends on did not succeed, so it could never start (cancelled)"


class Job:
    """A launched (or dry-run) job. Reads and updates `.nemotron/jobs/<id>/job.json`."""

    def __init__(self, record: JobRecord, root: Path | None = None) -> None:
        self.record = record
        self._root = root
        self.rendered: str | None = None
        """For a dry run: exactly what would have been submitted."""

    def __repr__(self) -> str:
        return f"Job({self.id!r}, profile={self.record.profile!r}, state={self.record.state!r})"

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def state(self) -> str:
        """The last known state (see `status()` to refresh)."""
        return self.record.state

    @property
    def host(self) -> JobHost:
        """Where the scheduler and the job's files are (this machine or the ssh tunnel's host)."""
        return job_host(self.record.tunnel)

    @property
    def folder(self) -> Path:
        from nemotron.kit.run._records import record_dir

        return record_dir(self.id, self._root)

    # ----------------------------------------------------------------- status
    def status(self) -> str:
        """Refresh the state from the scheduler and return it."""
        rec = self.record
        if rec.state in TERMINAL_STATES:
            return rec.state
        if rec.executor == "slurm" and rec.backend_id:
            self._refresh_slurm()
        elif rec.executor == "local":
            from nemotron.kit.run._local import reconcile_local

            reconcile_local(self)
        return self.record.state

    def _refresh_slurm(self) -> None:
        rec = self.record
        job_id = rec.backend_id or ""
        out = self.host.run(["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "State,ExitCode"])
        line = _overall(out.strip().splitlines())
        if not line:  # not in the accounting database yet
            queued = self.host.run(["squeue", "-h", "-j", job_id, "-o", "%T"]).strip()
            state = _SLURM_STATES.get(queued.split(" ")[0], rec.state) if queued else rec.state
            self._update(state)
            return
        raw_state, _, raw_code = line.partition("|")
        state = _SLURM_STATES.get(raw_state.split(" ")[0], "UNKNOWN")
        code = int(raw_code.split(":")[0]) if raw_code.split(":")[0].isdigit() else None
        if state in TERMINAL_STATES:
            message = "" if state == "SUCCEEDED" else _last_line(self.logs(tail=20))
            self._finish(state, code, message)
        elif state == "PENDING" and self._never_starts(job_id):
            self.host.run(["scancel", job_id])
            self._finish("CANCELLED", None, _NEVER_STARTS)
        else:
            self._update(state)

    def _never_starts(self, job_id: str) -> bool:
        """Slurm keeps a job whose `afterok` dependency failed pending forever."""
        reason = self.host.run(["squeue", "-h", "-j", job_id, "-o", "%r"]).strip()
        return reason == "DependencyNeverSatisfied"

    def _update(self, state: str) -> None:
        if state != self.record.state:
            self.record.state = state
            save_record(self.record, self._root)

    def _finish(self, state: str, exit_code: int | None, message: str = "") -> None:
        self.record.state = state
        self.record.exit_code = exit_code
        self.record.message = message
        self.record.ended_at = now()
        save_record(self.record, self._root)

    # ------------------------------------------------------------------- logs
    def log_files(self) -> list[str]:
        """The files holding the job's own output that exist now, in restart order.

        Paths on `host`: the cluster's for a job submitted through an ssh tunnel.
        """
        return list(self.host.files(self.record.log_files))

    def scheduler_log_files(self) -> list[str]:
        """The scheduler's output files that exist now (Slurm: the sbatch script's trace)."""
        return list(self.host.files(self.record.scheduler_log_files))

    def logs(self, tail: int | None = None) -> str:
        """The job's own output so far (the last `tail` lines when given).

        When the job wrote no output at all (say the batch script failed before the command
        started), the scheduler's output is returned instead, so a failure still explains itself.
        """
        text = self._read(self.log_files())
        if not text.strip():
            text = self._read(self.scheduler_log_files())
        lines = text.splitlines()
        return "\n".join(lines[-tail:] if tail else lines)

    def _read(self, files: list[str]) -> str:
        texts = [self.host.read(path).decode(errors="replace") for path in files]
        return "".join(t if t.endswith("\n") else t + "\n" for t in texts if t)

    # ----------------------------------------------------------------- control
    def cancel(self) -> bool:
        """Stop the job (scancel for Slurm; locally its whole process tree).

        Returns False when a local job was past its publish point: it is left to finish its
        publish, and its record says so when it ends.
        """
        rec = self.record
        if rec.state in TERMINAL_STATES:
            return True
        if rec.executor == "local":
            from nemotron.kit.run._local import cancel_local

            return cancel_local(self)
        if rec.executor == "slurm" and rec.backend_id:
            self.host.run(["scancel", rec.backend_id])
            if rec.tunnel and rec.tunnel.get("shared_root"):  # a job that never started
                self.host.run(["rm", "-f", secrets_path_in(rec.tunnel["shared_root"], rec.id)])
        elif rec.handle:
            import_nemo_run()
            from nemo_run.run.torchx_backend.runner import get_runner

            get_runner().cancel(rec.handle)
        self._finish("CANCELLED", None, "cancelled by user")
        return True

    def wait(
        self,
        timeout: float | None = None,
        poll: float = 1.0,
        on_output: Callable[[str], Any] | None = None,
    ) -> str:
        """Block until the job ends (or `timeout` seconds); stream new output to `on_output`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        follower = LogFollower(self.host, self.record.log_files)
        while True:
            state = self.status()
            if on_output is not None:  # the job's own output only, never the scheduler's trace
                done = state in TERMINAL_STATES
                for line in follower.rest() if done else follower.new_lines():
                    on_output(line)
            if state in TERMINAL_STATES:
                return state
            if deadline is not None and time.monotonic() > deadline:
                return state
            time.sleep(poll)

    def raise_for_state(self) -> None:
        """Raise JobFailedError when the job failed or was cancelled."""
        if self.record.state in ("FAILED", "CANCELLED"):
            raise JobFailedError(
                self.id, self.record.state, self.record.exit_code, self.logs(tail=20)
            )


class LogFollower:
    """The new complete lines of growing log files, each file followed from where it was left.

    Only bytes past each file's last offset are read (over ssh: only those cross the tunnel).
    """

    def __init__(self, host: JobHost, patterns: list[str]) -> None:
        self._host = host
        self._patterns = patterns
        self._offsets: dict[str, int] = {}

    def new_lines(self, final: bool = False) -> list[str]:
        """Lines written since the last call; `final` also returns an unterminated last line."""
        return self._lines(self._host.files(self._patterns), final)

    def _lines(self, sizes: dict[str, int], final: bool) -> list[str]:
        lines: list[str] = []
        for path, size in sizes.items():
            start = self._offsets.get(path, 0)
            if size <= start:
                continue
            data = self._host.read(path, start)
            if not final:
                data = data[: data.rfind(b"\n") + 1]
            self._offsets[path] = start + len(data)
            lines += data.decode(errors="replace").splitlines()
        return lines

    def rest(self, quiet: float = 0.3, limit: float = 5.0) -> list[str]:
        """Once the job has ended: every line left, read after the files stop growing.

        Writers such as a log tee may lag the job's exit a moment; waits at most `limit` s.
        """
        deadline = time.monotonic() + limit
        sizes = self._host.files(self._patterns)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            sizes, before = self._host.files(self._patterns), sizes
            if sizes == before:
                break
        return self._lines(sizes, final=True)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def get_job(job_id: str, root: Path | None = None) -> Job:
    """The job with this id (see `list_jobs`)."""
    return Job(load_record(job_id, root), root)


def list_jobs(root: Path | None = None) -> list[Job]:
    """Every recorded job, newest first."""
    return [Job(r, root) for r in list_records(root)]

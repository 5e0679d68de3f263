"""`Job`: a handle on one launch (status, logs, cancel), backed by its job record."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nemotron.kit.run._hosts import JobHost, job_host
from nemotron.kit.run._records import (
    TERMINAL_STATES,
    JobRecord,
    list_records,
    load_record,
    now,
    save_record,
)
from nemotron.kit.run.errors import JobFailedError


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
    def status(self, *, scheduler: bool = True) -> str:
        """Refresh the state from where the job runs (its backend) and return it.

        `scheduler=False`: only what this machine tells without asking a scheduler (a local
        job's processes); other jobs keep their last known state.
        """
        from nemotron.kit.run._backends import backend_of

        backend = backend_of(self.record)
        if self.record.state in TERMINAL_STATES or (backend.asks_scheduler and not scheduler):
            return self.record.state
        return backend.status(self)

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
        from nemotron.kit.run._backends import backend_of

        if self.record.state in TERMINAL_STATES:
            return True
        return backend_of(self.record).cancel(self)

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


def get_job(job_id: str, root: Path | None = None) -> Job:
    """The job with this id (see `list_jobs`)."""
    return Job(load_record(job_id, root), root)


def list_jobs(root: Path | None = None) -> list[Job]:
    """Every recorded job, newest first."""
    return [Job(r, root) for r in list_records(root)]

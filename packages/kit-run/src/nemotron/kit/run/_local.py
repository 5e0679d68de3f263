"""The local backend: a stage runs as a subprocess of ours, without NeMo-Run.

`launch()` on a local profile comes here. The job is run by `_supervisor.py` (started by path,
in its own session; see its docstring), which keeps `output.log` and the record. Attached, this
process relays the supervisor's output (raw bytes to a terminal, so progress bars draw; lines to
`echo` otherwise) and holds the supervisor's lifeline: when this process ends without detaching,
however it ends, the job is cancelled. Ctrl-C asks, then cancels (or detaches on "no").
Detached, the supervisor runs on alone.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from nemotron.kit.artifacts.processes import pid_alive, process_start
from nemotron.kit.artifacts.publish_point import LATCH_ENV
from nemotron.kit.run import _supervisor as supervisor
from nemotron.kit.run._job import Job
from nemotron.kit.run._launch import _confirm_cancel
from nemotron.kit.run._records import TERMINAL_STATES, load_record, save_record, write_atomic

__all__ = ["cancel_local", "reconcile_local", "run_local"]

CANCEL_WAIT_S = 2.0
"""How long a cancel waits for the stage to start, and then for its supervisor to record the end."""


def run_local(
    job: Job,
    command: list[str],
    plain_env: Mapping[str, str],
    secret_env: Mapping[str, str],
    deps: Sequence[Job],
    *,
    detach: bool,
    dry_run: bool,
    check: bool,
    echo: Callable[[str], Any] | None,
) -> Job:
    """Run (or, as a dry run, describe) `command` here as the job `job`."""
    record = job.record
    if dry_run:
        job.rendered = _describe(command, plain_env, secret_env)
        write_atomic(job.folder / "submission.sh", job.rendered)
        job._finish("DRY_RUN", None, "dry run: nothing run")
        if echo is not None:
            echo(job.rendered)
        return job
    write_atomic(job.folder / "submission.sh", shlex.join(command) + "\n")
    record.log_files = [str(job.folder / supervisor.LOG_FILE)]
    record.launcher_pid = os.getpid()
    started = process_start(record.launcher_pid)
    if started is not None:
        record.process_starts = {str(record.launcher_pid): started}
    record.state = "SUBMITTED"
    save_record(record, job._root)
    env = {
        **os.environ,
        **plain_env,
        **secret_env,
        LATCH_ENV: str(job.folder / supervisor.LATCH_FILE),
    }
    argv = [*supervisor.command(sys.executable), str(job.folder)]
    for dep in deps:
        argv += ["--after", str(dep.folder)]
    if detach:
        return _detached(job, [*argv, "--", *command], env)
    return _attached(job, argv, command, env, check=check, echo=echo)


def _describe(
    command: list[str], plain_env: Mapping[str, str], secret_env: Mapping[str, str]
) -> str:
    lines = ["# would run here, as a subprocess:"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(plain_env.items())]
    lines += [f"# {k} is passed through the environment (secret)" for k in sorted(secret_env)]
    return "\n".join([*lines, shlex.join(command)]) + "\n"


def _detached(job: Job, argv: list[str], env: dict[str, str]) -> Job:
    """Start the supervisor in its own session and return once it has recorded its pid."""
    # posix_spawn, not Popen: the supervisor outlives this process (no Popen left to reap).
    os.posix_spawn(
        argv[0],
        argv,
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(job.folder / "supervisor.log"), _APPEND, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    deadline = time.monotonic() + 10
    while job.record.pid is None and time.monotonic() < deadline:
        time.sleep(0.005)
        job.record = load_record(job.id, job._root)
    return job


_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND


def _terminal_size() -> list[str]:
    size = os.get_terminal_size(sys.stdout.fileno())
    return ["--tty", str(size.columns), str(size.lines)]


def _attached(
    job: Job,
    argv: list[str],
    command: list[str],
    env: dict[str, str],
    *,
    check: bool,
    echo: Callable[[str], Any] | None,
) -> Job:
    raw = echo is not None and sys.stdout.isatty()
    lifeline, keep = os.pipe()
    proc = subprocess.Popen(
        [*argv, "--lifeline", str(lifeline), *(_terminal_size() if raw else []), "--", *command],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        pass_fds=(lifeline,),
        start_new_session=True,
    )
    os.close(lifeline)
    assert proc.stdout is not None
    detached = False
    try:
        try:
            _relay(proc.stdout, echo, raw)
        except KeyboardInterrupt:
            if not _confirm_cancel(job):
                detached = True  # the supervisor runs on; not waited for
                os.write(keep, b"d")
                if echo is not None:
                    echo(f"job {job.id} keeps running; `nemotron jobs logs {job.id}` follows it")
                raise
            cancel_local(job)
            _relay(proc.stdout, echo, raw)
    finally:
        os.close(keep)
        proc.stdout.close()
        if not detached:
            proc.wait()
    job.record = load_record(job.id, job._root)
    if check:
        job.raise_for_state()
    return job


def _relay(stream: IO[bytes], echo: Callable[[str], Any] | None, raw: bool) -> None:
    """Copy the supervisor's output until it ends: raw to a terminal, else line by line."""
    if raw:
        out = sys.stdout.buffer
        while data := os.read(stream.fileno(), 65536):
            out.write(data)
            out.flush()
        return
    for line in stream:
        if echo is not None:
            echo(line.decode(errors="replace").rstrip("\r\n"))


def cancel_local(job: Job) -> bool:
    """Stop a local job's whole process tree and record CANCELLED.

    Returns False when the stage is past its publish point: it is left to finish, and its
    record says so when it ends.
    """
    folder = job.folder
    if not supervisor.claim_cancel(folder):
        return False
    record = _wait_record(job, lambda r: r.stage_pid is not None)
    if record.stage_pid is not None and record.state not in TERMINAL_STATES:
        _kill_stage(record)
    record = _wait_record(job, lambda r: False)
    if record.state not in TERMINAL_STATES:  # no supervisor left to record it
        job.record = record
        job._finish("CANCELLED", None, "cancelled by user")
    return True


def _wait_record(job: Job, done: Callable[[Any], bool]) -> Any:
    """Reload the record until `done(record)`, it is terminal, its supervisor is gone, or 2 s."""
    deadline = time.monotonic() + CANCEL_WAIT_S
    while True:
        record = job.record = load_record(job.id, job._root)
        gone = record.pid is not None and not _alive(record, record.pid)
        if done(record) or record.state in TERMINAL_STATES or gone:
            return record
        if time.monotonic() > deadline:
            return record
        time.sleep(0.02)


def reconcile_local(job: Job) -> None:
    """A record whose processes are gone gets its true final state (FAILED or CANCELLED)."""
    record = job.record = load_record(job.id, job._root)
    if record.state in TERMINAL_STATES:
        return
    if record.pid is not None:
        if _alive(record, record.pid):
            return
        if record.stage_pid is not None:
            _kill_stage(record)
        cancelled = supervisor.latch(job.folder) == "cancelled"
        if cancelled:
            job._finish("CANCELLED", None, "cancelled by user")
        else:
            job._finish("FAILED", None, "the process running the job exited without a result")
    elif record.launcher_pid is not None and not _alive(record, record.launcher_pid):
        job._finish("FAILED", None, "the launching process exited before the job started")


def _alive(record: Any, pid: int) -> bool:
    """Whether `pid` is still the job's process (not gone, and not reused by another)."""
    return pid_alive(pid, record.process_starts.get(str(pid)))


def _kill_stage(record: Any) -> None:
    """Stop the stage's process group, unless its pid now names another process's group.

    While any process of the stage's group lives, the system does not give its number to a
    new process; so a leader alive under another start time means the group is gone.
    """
    pgid = record.stage_pid
    recorded, leader = record.process_starts.get(str(pgid)), process_start(pgid)
    if recorded is not None and leader is not None and leader != recorded:
        return
    if supervisor.group_alive(pgid):
        supervisor.kill_group(pgid)

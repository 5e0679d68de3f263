"""The local backend: a stage runs as a subprocess of ours, without NeMo-Run.

`launch()` on a local profile comes here. The job is run by `_supervisor.py` (started by path,
in its own session; see its docstring), which keeps `output.log` and the record. Attached, this
process relays the supervisor's output (raw bytes to a terminal, so progress bars draw; lines to
`echo` otherwise) and holds the supervisor's lifeline: when this process ends without detaching,
however it ends, the job is cancelled. Ctrl-C asks, then cancels (or detaches on "no").
Detached, the supervisor runs on alone. Shipped files are read from the job record's copies.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from nemotron.kit.artifacts.processes import pid_alive, process_start
from nemotron.kit.artifacts.publish_point import LATCH_ENV
from nemotron.kit.run import _supervisor as supervisor
from nemotron.kit.run._backends._console import confirm_cancel, keeps_running
from nemotron.kit.run._job import Job
from nemotron.kit.run._records import TERMINAL_STATES, load_record, save_record, write_atomic
from nemotron.kit.run._request import LaunchRequest
from nemotron.kit.run._shipping import placeholder

__all__ = ["LocalBackend", "cancel_local", "local_executor", "reconcile_local"]

CANCEL_WAIT_S = 2.0
"""How long a cancel waits for the stage to start, and then for its supervisor to record the end."""


def local_executor(profile: Any, env: dict[str, str], detach: bool) -> Any:
    """NeMo-Run's LocalExecutor for `profile` (`build_executor`; jobs here do not use it)."""
    from nemotron.kit.run._executors import launcher
    from nemotron.kit.run._nemo_run import import_nemo_run

    run = import_nemo_run()
    starter = launcher(profile)
    return run.LocalExecutor(
        ntasks_per_node=profile.gpus_per_node if starter else profile.ntasks_per_node,
        nodes=1,
        env_vars=env,
        launcher=starter,
        packager=run.Packager(),
    )


def _spread(profile: Any, command: list[str]) -> list[str]:
    """Local multi-process without torchrun: run N copies with RANK/WORLD_SIZE set."""
    if (
        profile.ntasks_per_node > 1
        and profile.launcher != "torchrun"
        and profile.gpus_per_node <= 1
    ):
        count = str(profile.ntasks_per_node)
        return [sys.executable, "-m", "nemotron.kit.run._spread", count, "--", *command]
    return command


class LocalBackend:
    """A subprocess of ours, kept by `_supervisor.py`."""

    name = "local"
    schedules_dependencies = False
    arrays = False
    asks_scheduler = False

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._keep: int | None = None
        """Our end of the attached supervisor's lifeline."""
        self._raw = False
        """Relay raw bytes (a terminal) rather than lines."""

    def prepare(self, request: LaunchRequest, folder: Path) -> LaunchRequest:
        """This interpreter, N copies when asked, the record's copies for shipped files."""
        copies = {placeholder(f): str(folder / "files" / f.name) for f in request.files}
        command = [copies.get(a, a) for a in request.command]
        command[0] = sys.executable
        return replace(request, command=_spread(request.profile, command))

    def executor(self, profile: Any, env: dict[str, str], detach: bool) -> Any:
        return local_executor(profile, env, detach)

    def render(self, job: Job, request: LaunchRequest) -> str:
        job.record.files = _copies(job, request)
        return _describe(request.command, request.plain_env, request.secret_env)

    def submit(self, job: Job, request: LaunchRequest) -> None:
        """Start the supervisor: detached in its own session, attached holding its lifeline."""
        record = job.record
        record.files = _copies(job, request)
        write_atomic(job.folder / "submission.sh", shlex.join(request.command) + "\n")
        record.log_files = [str(job.folder / supervisor.LOG_FILE)]
        record.launcher_pid = os.getpid()
        started = process_start(record.launcher_pid)
        if started is not None:
            record.process_starts = {str(record.launcher_pid): started}
        record.state = "SUBMITTED"
        save_record(record, job._root)
        env = {
            **os.environ,
            **request.plain_env,
            **request.secret_env,
            LATCH_ENV: str(job.folder / supervisor.LATCH_FILE),
        }
        argv = [*supervisor.command(sys.executable), str(job.folder)]
        for dep in request.depends_on:
            argv += ["--after", str(dep.folder)]
        if request.detach:
            _detached(job, [*argv, "--", *request.command], env)
            return
        self._raw = request.echo is not None and sys.stdout.isatty()
        lifeline, self._keep = os.pipe()
        self._proc = subprocess.Popen(
            [*argv, "--lifeline", str(lifeline), *(_terminal_size() if self._raw else []),
             "--", *request.command],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            pass_fds=(lifeline,),
            start_new_session=True,
        )  # fmt: skip
        os.close(lifeline)

    def attach(self, job: Job, request: LaunchRequest) -> None:
        assert self._proc is not None and self._keep is not None
        _attached(job, self._proc, self._keep, self._raw, request.echo)

    def status(self, job: Job) -> str:
        reconcile_local(job)
        return job.state

    def cancel(self, job: Job) -> bool:
        return cancel_local(job)


def _copies(job: Job, request: LaunchRequest) -> dict[str, str]:
    """The shipped files as the job reads them: the record's copies."""
    return {
        str(job.folder / "files" / f.name): str(job.folder / "files" / f.name)
        for f in request.files
    }


def _describe(
    command: list[str], plain_env: Mapping[str, str], secret_env: Mapping[str, str]
) -> str:
    lines = ["# would run here, as a subprocess:"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(plain_env.items())]
    lines += [f"# {k} is passed through the environment (secret)" for k in sorted(secret_env)]
    return "\n".join([*lines, shlex.join(command)]) + "\n"


def _detached(job: Job, argv: list[str], env: dict[str, str]) -> None:
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


_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND


def _terminal_size() -> list[str]:
    size = os.get_terminal_size(sys.stdout.fileno())
    return ["--tty", str(size.columns), str(size.lines)]


def _attached(
    job: Job,
    proc: subprocess.Popen[bytes],
    keep: int,
    raw: bool,
    echo: Callable[[str], Any] | None,
) -> None:
    """Relay the supervisor's output until the job ends; Ctrl-C asks, then cancels or detaches."""
    assert proc.stdout is not None
    detached = False
    try:
        try:
            _relay(proc.stdout, echo, raw)
        except KeyboardInterrupt:
            if not confirm_cancel(job):
                detached = True  # the supervisor runs on; not waited for
                os.write(keep, b"d")
                keeps_running(job, echo)
                raise
            cancel_local(job)
            _relay(proc.stdout, echo, raw)
    finally:
        os.close(keep)
        proc.stdout.close()
        if not detached:
            proc.wait()
    job.record = load_record(job.id, job._root)


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

"""The supervisor of a local job: starts the stage, keeps its log and record, stops it on cancel.

    python <this file> JOB_FOLDER [--lifeline FD] [--tty COLS ROWS] [--after FOLDER]... -- CMD...

kit-run's local backend starts it by path in its own session, so a Ctrl-C or a `kill -9` of the
launching CLI's process group does not reach it, and it imports nothing but the standard library
(it starts in a few milliseconds). Its environment is the stage's. It:

- waits for the jobs in `--after` to succeed (their records' states);
- starts CMD in its own process group, with stdin closed and stdout/stderr into `output.log`
  (through a pty when `--tty` is given, so the stage's progress bars draw; the log then keeps
  the lines without escape codes, each line as last drawn), relaying every byte to its own
  stdout (the attached CLI); the stage gets SIGKILL if this process dies (PR_SET_PDEATHSIG);
- records RUNNING with its own and the stage's pid, then the outcome (SUCCEEDED / FAILED /
  CANCELLED, exit code, last line);
- watches the lifeline pipe of the attached CLI: end of file (the CLI died, however) cancels the
  job; a `d` byte (the CLI detaches) stops watching and relaying.

A cancel (here, and `nemotron jobs cancel` through `claim_cancel()` and `kill_group()`) first
claims the job's publish latch (`nemotron.kit.artifacts.publish_point`): a stage already past
its publish point is left to finish. Otherwise the stage's whole process group gets SIGTERM,
then SIGKILL after `GRACE_S`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

LOG_FILE = "output.log"
LATCH_FILE = "publish.latch"
CANCEL_REQUEST_FILE = "cancel.request"
GRACE_S = 1.0
"""Seconds between SIGTERM and SIGKILL of a cancelled stage's process group."""
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED", "DRY_RUN")
PAST_PUBLISH_POINT = (
    "a cancel came after the job's publish point: it was left to finish its publish"
)

_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]"
)


# ------------------------------------------------------------------------- the record
def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def read_record(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / "job.json").read_text())
    return data


def update_record(folder: Path, **fields: object) -> None:
    """Set `fields` in `job.json` (read, update, write to a temporary file, rename)."""
    record = read_record(folder)
    record.update(fields)
    tmp = folder / f".job.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, folder / "job.json")


def finish_record(folder: Path, state: str, exit_code: int | None, message: str) -> None:
    update_record(folder, state=state, exit_code=exit_code, message=message, ended_at=now())


# ------------------------------------------------------------------------- cancel
def group_alive(pgid: int) -> bool:
    """Whether any process of the group is left (a zombie leader counts until it is reaped)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def claim_cancel(folder: Path) -> bool:
    """Ask for a cancel: True when the job may be stopped, False when it is past its publish point."""
    from nemotron.kit.artifacts.publish_point import claim_cancel as claim

    (folder / CANCEL_REQUEST_FILE).touch()
    return claim(folder / LATCH_FILE)


def kill_group(pgid: int, grace: float = GRACE_S) -> None:
    """SIGTERM to the process group, then SIGKILL if any of it is left after `grace` seconds."""
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)


def latch(folder: Path) -> str | None:
    """The publish latch's state: "publishing", "cancelled" or None."""
    try:
        words = (folder / LATCH_FILE).read_text().split()
    except FileNotFoundError:
        return None
    return words[0] if words else None


def outcome(folder: Path, returncode: int | None, log_tail: str) -> tuple[str, int | None, str]:
    """(state, exit code, message) of a stage that ended with `returncode` (None: never ran)."""
    from_latch = latch(folder)
    if from_latch == "cancelled":
        return "CANCELLED", None, "cancelled by user"
    code = returncode if returncode is not None and returncode >= 0 else None
    late = (folder / CANCEL_REQUEST_FILE).exists()
    if returncode == 0:
        return "SUCCEEDED", 0, PAST_PUBLISH_POINT if late else ""
    if returncode is not None and returncode < 0:
        message = f"killed by signal {signal.Signals(-returncode).name}"
    else:
        message = log_tail or f"exit code {returncode}"
    return "FAILED", code, f"{message}; {PAST_PUBLISH_POINT}" if late else message


# ------------------------------------------------------------------------- the log
class PlainLog:
    """Writes the stage's output to the log; in tty mode, each line as last drawn, no escapes."""

    def __init__(self, path: Path, tty: bool) -> None:
        self._fh = open(path, "ab")  # noqa: SIM115 - closed in close()
        self._tty = tty
        self._partial = b""
        self.last_line = b""

    def write(self, data: bytes) -> None:
        if self._tty:
            data = self._plain(data)
        self._fh.write(data)
        self._fh.flush()
        lines = [line for line in data.splitlines() if line.strip()]
        if lines:
            self.last_line = lines[-1]

    def _plain(self, data: bytes) -> bytes:
        *done, self._partial = (self._partial + data).split(b"\n")
        return b"".join(self._render(line) + b"\n" for line in done)

    @staticmethod
    def _render(line: bytes) -> bytes:
        shown = [s for s in _ESCAPES.sub(b"", line).split(b"\r") if s.strip()]
        return shown[-1] if shown else b""

    def close(self) -> None:
        if self._tty and self._partial.strip():
            self.write(b"\n")
        self._fh.close()


# ------------------------------------------------------------------------- running
def _die_with_parent() -> None:
    """In the stage, before exec: SIGKILL when the supervisor dies (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def wait_for(folders: list[Path], poll: float = 0.2) -> str | None:
    """Wait for the jobs in `folders` to end; the first that did not succeed, as a message."""
    for folder in folders:
        while True:
            record = read_record(folder)
            state = record.get("state")
            pid = record.get("pid")
            if state in TERMINAL_STATES:
                break
            if isinstance(pid, int) and not _pid_alive(pid) and read_record(folder) == record:
                state = "FAILED"
                break
            time.sleep(poll)
        if state != "SUCCEEDED":
            return f"dependency {folder.name} ended {state}"
    return None


def _pid_alive(pid: int) -> bool:
    from nemotron.kit.artifacts.processes import pid_alive

    return pid_alive(pid)


class Supervisor:
    """One run of a stage (see the module docstring)."""

    def __init__(
        self, folder: Path, command: list[str], lifeline: int | None, tty: tuple[int, int] | None
    ) -> None:
        self.folder = folder
        self.command = command
        self.lifeline = lifeline
        self.tty = tty
        self.relay = lifeline is not None
        self.kill_at: float | None = None

    def run(self, after: list[Path]) -> int:
        update_record(self.folder, pid=os.getpid())
        problem = wait_for(after)
        if problem is not None:
            finish_record(self.folder, "FAILED", None, problem)
            return 1
        if latch(self.folder) == "cancelled":  # cancelled before it started
            finish_record(self.folder, "CANCELLED", None, "cancelled by user")
            return 1
        log = PlainLog(self.folder / LOG_FILE, self.tty is not None)
        read_fd, proc = self._start()
        update_record(self.folder, state="RUNNING", stage_pid=proc.pid, started_at=now())
        try:
            self._pump(read_fd, proc, log)
        finally:
            log.close()
        state, code, message = outcome(
            self.folder, proc.returncode, log.last_line.decode(errors="replace").strip()
        )
        finish_record(self.folder, state, code, message)
        return 0 if state == "SUCCEEDED" else 1

    def _start(self) -> tuple[int, subprocess.Popen[bytes]]:
        if self.tty is not None:
            import fcntl
            import struct
            import termios

            read_fd, write_fd = os.openpty()
            cols, rows = self.tty
            fcntl.ioctl(write_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        else:
            read_fd, write_fd = os.pipe()
        proc = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=write_fd,
            stderr=write_fd,
            process_group=0,
            preexec_fn=_die_with_parent,
        )
        os.close(write_fd)
        return read_fd, proc

    def _pump(self, read_fd: int, proc: subprocess.Popen[bytes], log: PlainLog) -> None:
        """Copy output until the stage has ended and its output is closed (or 0.5 s after)."""
        drain_until: float | None = None
        while True:
            watched = [read_fd] + ([self.lifeline] if self.lifeline is not None else [])
            ready, _, _ = select.select(watched, [], [], 0.1)
            if read_fd in ready:
                try:
                    data = os.read(read_fd, 65536)
                except OSError:  # a pty whose every writer closed
                    data = b""
                if not data:
                    break
                log.write(data)
                self._relay(data)
            if self.lifeline is not None and self.lifeline in ready:
                self._lifeline_event(proc)
            if self.kill_at is not None and time.monotonic() >= self.kill_at:
                _signal_group(proc.pid, signal.SIGKILL)
                self.kill_at = None
            if drain_until is None and proc.poll() is not None:
                drain_until = time.monotonic() + 0.5  # children may still hold the output
            if drain_until is not None and time.monotonic() > drain_until:
                break
        proc.wait()
        if group_alive(proc.pid):  # workers outliving the stage
            _signal_group(proc.pid, signal.SIGKILL)
        os.close(read_fd)

    def _lifeline_event(self, proc: subprocess.Popen[bytes]) -> None:
        assert self.lifeline is not None
        message = os.read(self.lifeline, 1)
        os.close(self.lifeline)
        self.lifeline = None
        self.relay = False
        if message == b"d":  # the CLI detached: the job keeps running
            return
        if claim_cancel(self.folder):  # the CLI died: cancel, without blocking the pump
            _signal_group(proc.pid, signal.SIGTERM)
            self.kill_at = time.monotonic() + GRACE_S

    def _relay(self, data: bytes) -> None:
        if not self.relay:
            return
        try:
            os.write(1, data)
        except OSError:  # the CLI is gone; its lifeline says so too
            self.relay = False


def main(argv: list[str]) -> int:
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    folder = Path(options.pop(0))
    lifeline = tty = None
    after: list[Path] = []
    while options:
        flag = options.pop(0)
        if flag == "--lifeline":
            lifeline = int(options.pop(0))
        elif flag == "--tty":
            tty = (int(options.pop(0)), int(options.pop(0)))
        elif flag == "--after":
            after.append(Path(options.pop(0)))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return Supervisor(folder, command, lifeline, tty).run(after)
    except Exception as err:
        finish_record(folder, "FAILED", None, f"supervisor error: {type(err).__name__}: {err}")
        raise


if __name__ == "__main__":
    sys.path.pop(0)  # run by path: this folder's modules must not shadow top-level names
    sys.exit(main(sys.argv[1:]))

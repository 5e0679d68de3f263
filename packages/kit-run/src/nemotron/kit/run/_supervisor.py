"""The supervisor of a local job: starts the stage, keeps its log and record, stops it on cancel.

    python -P -c BOOT JOB_FOLDER [--lifeline FD] [--tty COLS ROWS] [--after FOLDER]... -- CMD...

kit-run's local backend starts it (`command()`) in its own session, so a Ctrl-C or a `kill -9`
of the launching CLI's process group does not reach it. `BOOT` imports this file as a
top-level module, so its cached bytecode is used, and it starts with little more than the
standard library (no pathlib, subprocess or datetime: it sits between the CLI and the stage,
every millisecond of its start-up is launch overhead), and it ends with `os._exit` (it
writes nothing buffered: its files are closed, its relay is unbuffered). Its environment is
the stage's. It:

- waits for the jobs in `--after` to succeed (their records' states);
- starts CMD in its own process group, with stdin closed and stdout/stderr into `output.log`
  (through a pty when `--tty` is given, so the stage's progress bars draw; the log then keeps
  what the terminal shows, as plain lines: see `PlainLog`), relaying every byte to its own
  stdout (the attached CLI); the stage gets SIGKILL if this process dies (PR_SET_PDEATHSIG);
- records RUNNING with its own and the stage's pid and their start times (a pid reused by
  another process is then not taken for the job's), then the outcome (SUCCEEDED / FAILED /
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
import json
import os
import re
import select
import signal
import sys
import time

LOG_FILE = "output.log"
LATCH_FILE = "publish.latch"
CANCEL_REQUEST_FILE = "cancel.request"
GRACE_S = 1.0
"""Seconds between SIGTERM and SIGKILL of a cancelled stage's process group."""
SNAPSHOT_S = 10.0
"""In tty mode, how often the log gets the current state of a line being redrawn (a bar)."""
TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED", "DRY_RUN")
PAST_PUBLISH_POINT = (
    "a cancel came after the job's publish point: it was left to finish its publish"
)
BOOT = (
    "import os, sys; sys.path.insert(0, {folder!r}); import _supervisor; del sys.path[0]; "
    "os._exit(_supervisor.main(sys.argv[1:]))"
)


def command(python: str) -> list[str]:
    """How to start the supervisor: `python -P -c BOOT` (then JOB_FOLDER and the options).

    `-P`: no current folder on `sys.path`, so nothing there shadows what it imports.
    """
    return [python, "-P", "-c", BOOT.format(folder=os.path.dirname(os.path.abspath(__file__)))]


# ------------------------------------------------------------------------- the record
def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def _path(folder: str | os.PathLike[str], name: str) -> str:
    return os.path.join(os.fspath(folder), name)


def read_record(folder: str | os.PathLike[str]) -> dict[str, object]:
    with open(_path(folder, "job.json")) as fh:
        data: dict[str, object] = json.load(fh)
    return data


def update_record(folder: str | os.PathLike[str], **fields: object) -> None:
    """Set `fields` in `job.json` (read, update, write to a temporary file, rename)."""
    record = read_record(folder)
    record.update(fields)
    tmp = _path(folder, f".job.json.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        fh.write(json.dumps(record, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, _path(folder, "job.json"))


def finish_record(
    folder: str | os.PathLike[str], state: str, exit_code: int | None, message: str
) -> None:
    update_record(folder, state=state, exit_code=exit_code, message=message, ended_at=now())


def process_starts(folder: str | os.PathLike[str], *pids: int) -> dict[str, int]:
    """The record's `process_starts` with the start time of each of `pids` added."""
    from nemotron.kit.artifacts.processes import process_start

    starts = dict(read_record(folder).get("process_starts") or {})  # type: ignore[call-overload]
    for pid in pids:
        started = process_start(pid)
        if started is not None:
            starts[str(pid)] = started
    return starts


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


def claim_cancel(folder: str | os.PathLike[str]) -> bool:
    """Ask for a cancel: True when the job may be stopped, False when it is past its publish point."""
    from nemotron.kit.artifacts.publish_point import claim_cancel as claim

    with open(_path(folder, CANCEL_REQUEST_FILE), "a"):
        pass
    return claim(_path(folder, LATCH_FILE))


def kill_group(pgid: int, grace: float = GRACE_S) -> None:
    """SIGTERM to the process group, then SIGKILL if any of it is left after `grace` seconds."""
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)


def latch(folder: str | os.PathLike[str]) -> str | None:
    """The publish latch's state: "publishing", "cancelled" or None."""
    try:
        with open(_path(folder, LATCH_FILE)) as fh:
            words = fh.read().split()
    except FileNotFoundError:
        return None
    return words[0] if words else None


def outcome(
    folder: str | os.PathLike[str], returncode: int | None, log_tail: str
) -> tuple[str, int | None, str]:
    """(state, exit code, message) of a stage that ended with `returncode` (None: never ran)."""
    if latch(folder) == "cancelled":
        return "CANCELLED", None, "cancelled by user"
    code = returncode if returncode is not None and returncode >= 0 else None
    late = os.path.exists(_path(folder, CANCEL_REQUEST_FILE))
    if returncode == 0:
        return "SUCCEEDED", 0, PAST_PUBLISH_POINT if late else ""
    if returncode is not None and returncode < 0:
        message = f"killed by signal {signal.Signals(-returncode).name}"
    else:
        message = log_tail or f"exit code {returncode}"
    return "FAILED", code, f"{message}; {PAST_PUBLISH_POINT}" if late else message


# ------------------------------------------------------------------------- the log
_TERMINAL_CODES = re.compile(
    rb"\r|\n|\x1b\[(\d*)A|\x1b\[2K"  # the codes a redrawn line uses: kept apart
    rb"|\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]"
)
_BAR = re.compile(rb" *(?:\xe2[\x94-\x96][\x80-\xbf]){3,} *")  # 3+ of U+2500-U+25BF


class PlainLog:
    """The stage's output as `output.log` keeps it.

    From a pipe, as it comes. From the pty (tty mode), what a terminal would show, as plain
    lines without escape codes or bar glyphs: each line as last drawn; a line being drawn over
    (a progress bar) also every `snapshot_s` seconds while it changes, so the log shows the
    progress as it went, as the stage's plain lines do in a pipe; once a live display has
    moved back up over its rows (a multi-line Rich progress), that many rows are held back
    and written when it has left them, not on every redraw.
    """

    def __init__(self, path: str, tty: bool, snapshot_s: float = SNAPSHOT_S) -> None:
        self._fh = open(path, "ab")  # noqa: SIM115 - closed in close()
        self._tty = tty
        self._snapshot_s = snapshot_s
        self._next_snapshot = time.monotonic() + snapshot_s
        self._snapshot = b""
        self._line = b""
        self._overwrite = False  # a carriage return came: the next text draws the line anew
        self._redrawn = False
        self._rows: list[tuple[bytes, bool]] = []  # finished rows a cursor-up may return to
        self._hold = 0  # how many rows back a cursor-up has gone (0: none seen)
        self.last_line = b""

    def write(self, data: bytes) -> None:
        if not self._tty:
            self._fh.write(data)
            lines = [line for line in data.splitlines() if line.strip()]
            if lines:
                self.last_line = lines[-1]
        else:
            self._draw(data)
        self._fh.flush()

    def _draw(self, data: bytes) -> None:
        start = 0
        for code in _TERMINAL_CODES.finditer(data):
            self._text(data[start : code.start()])
            start = code.end()
            token = code.group()
            if token == b"\n":
                self._end_row()
            elif token == b"\r":
                self._overwrite = True
            elif token == b"\x1b[2K":
                self._redrawn = self._redrawn or bool(self._line)
                self._line = b""
            elif code.group(1) is not None:
                self._up(int(code.group(1) or 1))
        self._text(data[start:])
        if self._redrawn and time.monotonic() >= self._next_snapshot:
            self._next_snapshot = time.monotonic() + self._snapshot_s
            shown = self._plain(self._line)
            if shown.strip() and shown != self._snapshot:
                self._snapshot = shown
                self._emit(shown)

    def _text(self, text: bytes) -> None:
        if not text:
            return
        if self._overwrite:
            self._redrawn = self._redrawn or bool(self._line)
            self._line = text
            self._overwrite = False
        else:
            self._line += text

    def _end_row(self) -> None:
        self._rows.append((self._line, self._redrawn))
        self._line, self._overwrite, self._redrawn = b"", False, False
        while len(self._rows) > self._hold:
            self._release(*self._rows.pop(0))

    def _up(self, rows: int) -> None:
        self._hold = max(self._hold, rows)
        for _ in range(min(rows, len(self._rows))):
            self._line, _ = self._rows.pop()
            self._redrawn = True

    def _release(self, row: bytes, redrawn: bool) -> None:
        shown = self._plain(row)
        if not (redrawn and shown == self._snapshot):  # the last snapshot has it already
            self._emit(shown)

    @staticmethod
    def _plain(row: bytes) -> bytes:
        """The row without a progress bar's glyphs (a run of 3 or more box/block characters)."""
        shown = _BAR.sub(b" ", row)
        return shown.strip() if shown != row else row

    def _emit(self, row: bytes) -> None:
        self._fh.write(row + b"\n")
        if row.strip():
            self.last_line = row

    def close(self) -> None:
        if self._tty:
            if self._line.strip():
                self._end_row()
            for row in self._rows:
                self._release(*row)
        self._fh.close()


# ------------------------------------------------------------------------- running
def _die_with_parent() -> None:
    """In the stage, before exec: SIGKILL when the supervisor dies (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Stage:
    """The stage's process: `command` in its own process group, stdin closed, output to `out`."""

    def __init__(self, command: list[str], out: int) -> None:
        report, report_to = os.pipe()  # the child's exec failure, if any (closed by exec)
        self.pid = os.fork()
        if self.pid == 0:
            self._exec(command, out, report_to)
        os.close(report_to)
        failure = b""
        while chunk := os.read(report, 4096):
            failure += chunk
        os.close(report)
        self.returncode: int | None = None
        if failure:
            self.wait()
            raise OSError(failure.decode(errors="replace"))

    @staticmethod
    def _exec(command: list[str], out: int, report_to: int) -> None:
        try:
            os.setpgid(0, 0)
            for sig in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(sig, signal.SIG_DFL)  # as a shell would start it
            _die_with_parent()
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.execvp(command[0], command)
        except BaseException as err:  # reported to the parent, then exit
            try:
                os.write(report_to, f"cannot run {command[0]}: {err}".encode())
            finally:
                os._exit(127)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode


def wait_for(folders: list[str], poll: float = 0.2) -> str | None:
    """Wait for the jobs in `folders` to end; the first that did not succeed, as a message."""
    from nemotron.kit.artifacts.processes import pid_alive

    for folder in folders:
        while True:
            record = read_record(folder)
            state = record.get("state")
            pid = record.get("pid")
            starts = record.get("process_starts") or {}
            assert isinstance(starts, dict)
            if state in TERMINAL_STATES:
                break
            if (
                isinstance(pid, int)
                and not pid_alive(pid, starts.get(str(pid)))
                and read_record(folder) == record
            ):
                state = "FAILED"
                break
            time.sleep(poll)
        if state != "SUCCEEDED":
            return f"dependency {os.path.basename(folder)} ended {state}"
    return None


class Supervisor:
    """One run of a stage (see the module docstring)."""

    def __init__(
        self, folder: str, command: list[str], lifeline: int | None, tty: tuple[int, int] | None
    ) -> None:
        self.folder = folder
        self.command = command
        self.lifeline = lifeline
        self.tty = tty
        self.relay = lifeline is not None
        self.kill_at: float | None = None

    def run(self, after: list[str]) -> int:
        update_record(self.folder, pid=os.getpid())
        problem = wait_for(after) if after else None
        if problem is not None:
            finish_record(self.folder, "FAILED", None, problem)
            return 1
        if latch(self.folder) == "cancelled":  # cancelled before it started
            finish_record(self.folder, "CANCELLED", None, "cancelled by user")
            return 1
        log = PlainLog(_path(self.folder, LOG_FILE), self.tty is not None)
        read_fd, stage = self._start()
        update_record(
            self.folder,
            state="RUNNING",
            stage_pid=stage.pid,
            started_at=now(),
            process_starts=process_starts(self.folder, os.getpid(), stage.pid),
        )
        try:
            self._pump(read_fd, stage, log)
        finally:
            log.close()
        state, code, message = outcome(
            self.folder, stage.returncode, log.last_line.decode(errors="replace").strip()
        )
        finish_record(self.folder, state, code, message)
        return 0 if state == "SUCCEEDED" else 1

    def _start(self) -> tuple[int, Stage]:
        if self.tty is not None:
            import fcntl
            import struct
            import termios

            read_fd, write_fd = os.openpty()
            cols, rows = self.tty
            fcntl.ioctl(write_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        else:
            read_fd, write_fd = os.pipe()
        try:
            stage = Stage(self.command, write_fd)
        finally:
            os.close(write_fd)
        return read_fd, stage

    def _pump(self, read_fd: int, stage: Stage, log: PlainLog) -> None:
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
                self._lifeline_event(stage)
            if self.kill_at is not None and time.monotonic() >= self.kill_at:
                _signal_group(stage.pid, signal.SIGKILL)
                self.kill_at = None
            if drain_until is None and stage.poll() is not None:
                drain_until = time.monotonic() + 0.5  # children may still hold the output
            if drain_until is not None and time.monotonic() > drain_until:
                break
        stage.wait()
        if group_alive(stage.pid):  # workers outliving the stage
            _signal_group(stage.pid, signal.SIGKILL)
        os.close(read_fd)

    def _lifeline_event(self, stage: Stage) -> None:
        assert self.lifeline is not None
        message = os.read(self.lifeline, 1)
        os.close(self.lifeline)
        self.lifeline = None
        self.relay = False
        if message == b"d":  # the CLI detached: the job keeps running
            return
        if claim_cancel(self.folder):  # the CLI died: cancel, without blocking the pump
            _signal_group(stage.pid, signal.SIGTERM)
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
    folder = options.pop(0)
    lifeline = tty = None
    after: list[str] = []
    while options:
        flag = options.pop(0)
        if flag == "--lifeline":
            lifeline = int(options.pop(0))
            os.set_inheritable(lifeline, False)  # the stage must not hold it
        elif flag == "--tty":
            tty = (int(options.pop(0)), int(options.pop(0)))
        elif flag == "--after":
            after.append(options.pop(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return Supervisor(folder, command, lifeline, tty).run(after)
    except Exception as err:
        finish_record(folder, "FAILED", None, f"supervisor error: {type(err).__name__}: {err}")
        raise

"""Local jobs are cancellable and honest: real stages (process trees), real signals, a real pty.

Every stage here writes its own pid and its child's pid, then waits for a file the test writes
(or forever), so nothing depends on timing: the tests poll with timeouts.
"""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nemotron.kit.artifacts.processes import process_start
from nemotron.kit.run import get_job, launch, list_jobs
from nemotron.kit.run._records import JobRecord, new_job_id, now, save_record
from nemotron.kit.run._supervisor import PAST_PUBLISH_POINT

STOPPED_WITHIN_S = 2.0

# A stage with a child: both pids in pids.txt, then it waits for `go` (forever if never written).
TREE = """
    import os, subprocess, sys, time
    from pathlib import Path
    here = Path(sys.argv[1])
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    (here / "pids.tmp").write_text(f"{os.getpid()} {child.pid}")
    os.replace(here / "pids.tmp", here / "pids.txt")
    print("started", flush=True)
    while not (here / "go").exists():
        time.sleep(0.05)
    print("finished", flush=True)
"""

# Publishes first (past its publish point), then waits for `go`.
PUBLISH_THEN_WAIT = """
    import os, sys, time
    from pathlib import Path
    from nemotron.kit.artifacts import ModelArtifact
    here = Path(sys.argv[1])
    ModelArtifact(path=here, step=1).save(name="early-model")
    (here / "pids.txt").write_text(f"{os.getpid()}")
    while not (here / "go").exists():
        time.sleep(0.05)
"""

# On SIGTERM it tries to publish: the cancel's latch must refuse it.
PUBLISH_ON_TERM = """
    import os, signal, sys, time
    from pathlib import Path
    from nemotron.kit.artifacts import ModelArtifact
    here = Path(sys.argv[1])
    def publish(*_):
        try:
            ModelArtifact(path=here, step=1).save(name="late-model")
            (here / "outcome").write_text("published")
        except Exception as err:
            (here / "outcome").write_text(type(err).__name__)
        sys.exit(3)
    signal.signal(signal.SIGTERM, publish)
    (here / "pids.txt").write_text(f"{os.getpid()}")
    while True:
        time.sleep(0.05)
"""


def poll(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def pids(here: Path) -> list[int]:
    path = here / "pids.txt"
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.fixture
def stage(project: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], tuple[str, Path]]:
    """Write a stage script and a folder for its pids/signals; registry in the project."""
    monkeypatch.setenv("NEMOTRON_ARTIFACTS_ROOT", str(project / "registry"))

    def write(body: str) -> tuple[str, Path]:
        here = project / "stage-files"
        here.mkdir(exist_ok=True)
        path = project / "stage.py"
        path.write_text(textwrap.dedent(body))
        return str(path), here

    return write


def assert_stopped(here: Path) -> None:
    started = pids(here)
    assert started
    poll(lambda: not any(alive(p) for p in started), STOPPED_WITHIN_S, f"{started} to end")


def registry_names(project: Path) -> list[str]:
    root = project / "registry"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_detached_running_then_cancel_stops_the_tree(stage, project) -> None:
    path, here = stage(TREE)
    job = launch(path, [str(here)], detach=True)
    poll(lambda: pids(here), 30, "the stage to start")
    assert get_job(job.id).status() == "RUNNING"
    assert [j.state for j in list_jobs()] == ["RUNNING"]
    started = time.monotonic()
    assert get_job(job.id).cancel() is True
    assert_stopped(here)
    assert time.monotonic() - started < STOPPED_WITHIN_S + 2.5  # 2 s bound + the record's write
    record = get_job(job.id)
    assert record.status() == "CANCELLED" and record.record.message == "cancelled by user"
    assert "started" in record.logs() and "finished" not in record.logs()


def test_detached_success_goes_running_then_succeeded(stage) -> None:
    path, here = stage(TREE)
    job = launch(path, [str(here)], detach=True)
    assert job.state == "SUBMITTED" and job.record.pid
    poll(lambda: pids(here), 30, "the stage to start")
    assert get_job(job.id).status() == "RUNNING"
    (here / "go").touch()
    assert get_job(job.id).wait(timeout=30, poll=0.05) == "SUCCEEDED"
    assert get_job(job.id).record.exit_code == 0


def test_cancel_refuses_a_publish_after_it(stage, project) -> None:
    path, here = stage(PUBLISH_ON_TERM)
    job = launch(path, [str(here)], detach=True)
    poll(lambda: pids(here), 30, "the stage to start")
    assert get_job(job.id).cancel() is True
    assert_stopped(here)
    assert (here / "outcome").read_text() == "PublishCancelledError"
    assert registry_names(project) == []
    assert get_job(job.id).status() == "CANCELLED"


def test_cancel_past_the_publish_point_lets_it_finish(stage, project) -> None:
    path, here = stage(PUBLISH_THEN_WAIT)
    job = launch(path, [str(here)], detach=True)
    poll(lambda: pids(here), 30, "the stage to publish")
    assert get_job(job.id).cancel() is False  # not stopped: it has published
    assert all(alive(p) for p in pids(here))
    (here / "go").touch()
    assert get_job(job.id).wait(timeout=30, poll=0.05) == "SUCCEEDED"
    assert get_job(job.id).record.message == PAST_PUBLISH_POINT
    assert "early-model" in registry_names(project)


LAUNCHER = """
import sys
from nemotron.kit.run import launch
job = launch(sys.argv[1], sys.argv[2:], echo=print, check=False)
print("final", job.state, flush=True)
"""


def _attached_cli(path: str, here: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, path, str(here)], start_new_session=True, **kwargs
    )


def _only_job() -> str:
    jobs = list_jobs()
    assert len(jobs) == 1
    return jobs[0].id


def test_kill_9_of_the_attached_cli_group_cancels(stage) -> None:
    path, here = stage(TREE)
    cli = _attached_cli(path, here, stdout=subprocess.DEVNULL)
    poll(lambda: pids(here), 30, "the stage to start")
    os.killpg(cli.pid, signal.SIGKILL)
    cli.wait()
    assert_stopped(here)
    job = get_job(_only_job())
    assert job.wait(timeout=5, poll=0.05) == "CANCELLED"


class _Terminal:
    """The attached CLI on a pty: its output so far, and typing into it."""

    def __init__(self, path: str, here: Path) -> None:
        self.master, slave = pty.openpty()
        self.cli = _attached_cli(path, here, stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        self.seen = b""

    def shows(self, text: bytes) -> bool:
        import select

        if select.select([self.master], [], [], 0.05)[0]:
            with contextlib.suppress(OSError):  # OSError: the CLI has exited
                self.seen += os.read(self.master, 4096)
        return text in self.seen

    def close(self) -> None:
        os.close(self.master)


def _ctrl_c_answered(
    stage: Callable[[str], tuple[str, Path]], answer: bytes
) -> tuple[_Terminal, Path]:
    """An attached run of TREE on a pty, interrupted once its stage runs; `answer` typed."""
    path, here = stage(TREE)
    term = _Terminal(path, here)
    poll(lambda: pids(here) and term.shows(b"started"), 30, "the stage's output on the pty")
    term.cli.send_signal(signal.SIGINT)
    poll(lambda: term.shows(b"cancel job"), 10, "the question")
    os.write(term.master, answer + b"\n")
    return term, here


def test_ctrl_c_asks_then_cancels(stage) -> None:
    term, here = _ctrl_c_answered(stage, b"y")
    assert_stopped(here)
    poll(lambda: term.shows(b"final CANCELLED"), 10, "the CLI to report CANCELLED")
    assert term.cli.wait(timeout=10) == 0
    term.close()
    assert get_job(_only_job()).state == "CANCELLED"


def test_ctrl_c_answered_no_leaves_the_job_running(stage) -> None:
    term, here = _ctrl_c_answered(stage, b"n")
    poll(lambda: term.shows(b"keeps running"), 10, "the CLI to detach")
    assert term.cli.wait(timeout=10) != 0  # the interrupt ends the CLI, not the job
    term.close()
    job = get_job(_only_job())
    assert job.status() == "RUNNING" and all(alive(p) for p in pids(here))
    (here / "go").touch()
    assert job.wait(timeout=30, poll=0.05) == "SUCCEEDED"
    assert "finished" in job.logs()


def test_stage_output_on_a_terminal_is_a_terminal_and_logs_stay_plain(stage) -> None:
    path, _ = stage(
        """
        import sys
        print("tty", sys.stdout.isatty(), flush=True)
        sys.stdout.write("\\x1b[2Kstep 1\\rstep 2\\n")
        """
    )
    master, slave = pty.openpty()
    cli = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, path], stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    out = b""
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    assert cli.wait(timeout=30) == 0
    os.close(master)
    assert b"tty True" in out and b"\x1b[2Kstep 1\rstep 2" in out
    assert get_job(_only_job()).logs() == "tty True\nstep 2"

    lines: list[str] = []  # not on a terminal: plain lines to echo
    launch(path, echo=lines.append)
    assert lines == ["tty False", "\x1b[2Kstep 1\rstep 2"]


def _local_record(name: str, **fields: object) -> JobRecord:
    """A saved record of a local job `python x.py` with `fields` (state, pids)."""
    record = JobRecord(
        id=new_job_id(name),
        name=name,
        profile="local",
        executor="local",
        command=["python", "x.py"],
        launched_by=["nemotron"],
        created_at=now(),
        **fields,
    )
    save_record(record)
    return record


def test_a_record_whose_launcher_died_is_reconciled(project) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    record = _local_record("orphan", state="SUBMITTED", launcher_pid=gone.pid)
    assert [j.status() for j in list_jobs()] == ["FAILED"]
    assert get_job(record.id).record.message.startswith("the launching process exited")


def _running_record(pid: int, started: int) -> JobRecord:
    """A RUNNING local record whose supervisor and stage are `pid`, started at `started`."""
    return _local_record(
        "reused", state="RUNNING", pid=pid, stage_pid=pid, process_starts={str(pid): started}
    )


def test_a_pid_reused_by_another_process_is_not_taken_for_the_job(project) -> None:
    """Reconcile and cancel check the recorded start time before trusting or signalling a pid."""
    stranger = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    try:
        started = process_start(stranger.pid)
        assert started is not None
        ours = _running_record(stranger.pid, started)  # the same process: the job runs
        assert get_job(ours.id).status() == "RUNNING"

        reused = _running_record(stranger.pid, started - 1)  # an earlier process had this pid
        assert get_job(reused.id).status() == "FAILED"
        cancelled = _running_record(stranger.pid, started - 1)
        assert get_job(cancelled.id).cancel() is True
        assert get_job(cancelled.id).state == "CANCELLED"
        assert stranger.poll() is None and alive(stranger.pid)  # neither signalled the stranger
    finally:
        stranger.kill()
        stranger.wait()

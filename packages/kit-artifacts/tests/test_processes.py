"""`pid_alive`: running processes are alive; exited ones, reaped or zombie, are dead; a pid
started at another time than recorded is another process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nemotron.kit.artifacts.processes import pid_alive, process_start


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


def test_running_processes_are_alive() -> None:
    assert pid_alive(os.getpid())
    assert pid_alive(1)  # init: alive whether or not we may signal it
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as child:
        try:
            assert pid_alive(child.pid)
        finally:
            child.kill()


def test_a_reaped_process_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="zombies are read from /proc")
def test_a_zombie_is_dead() -> None:
    pid = os.posix_spawn(sys.executable, [sys.executable, "-c", "pass"], os.environ)
    try:
        deadline = time.monotonic() + 30
        while _state(pid) != "Z":  # exited, not reaped: os.kill(pid, 0) still succeeds
            assert time.monotonic() < deadline, "the child never exited"
            time.sleep(0.02)
        os.kill(pid, 0)
        assert not pid_alive(pid)
    finally:
        os.waitpid(pid, 0)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="start times are read from /proc")
def test_a_pid_started_at_another_time_is_another_process() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as child:
        try:
            started, ours = process_start(child.pid), process_start(os.getpid())
            assert started is not None and ours is not None and started >= ours
            assert pid_alive(child.pid, started)
            assert not pid_alive(child.pid, started + 1)  # what the pid named before was not it
        finally:
            child.kill()
    assert process_start(child.pid) is None

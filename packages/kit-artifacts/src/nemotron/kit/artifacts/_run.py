"""The process-wide run context: who is running (`RunInfo`) and which inputs it has used."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import msgspec

from nemotron.kit.artifacts._records import ArtifactRef, InputDatasetInfo, InputRef, RunInfo
from nemotron.kit.artifacts.secrets import redact_argv

RUN_ID_ENV = "NEMOTRON_RUN_ID"
GIT_COMMIT_ENV = "NEMOTRON_GIT_COMMIT"
GIT_DIRTY_ENV = "NEMOTRON_GIT_DIRTY"

_run: RunInfo | None = None
_inputs: list[InputRef] = []


def _git_state(cwd: str) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the code that runs: the shipped code's when a launcher says so
    (`NEMOTRON_GIT_COMMIT` / `NEMOTRON_GIT_DIRTY`: a cluster job has no repository), else cwd's."""
    import subprocess

    if os.environ.get(GIT_COMMIT_ENV):
        return os.environ[GIT_COMMIT_ENV], os.environ.get(GIT_DIRTY_ENV) == "1"

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return commit, (bool(status) if status is not None else None)


def _capture() -> RunInfo:
    import getpass
    import socket

    run_id = os.environ.get(RUN_ID_ENV) or (
        datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + os.urandom(4).hex()
    )
    try:
        user: str | None = getpass.getuser()
    except (OSError, KeyError):
        user = None
    commit, dirty = _git_state(os.getcwd())
    return RunInfo(
        run_id=run_id,
        argv=redact_argv(sys.argv),
        git_commit=commit,
        git_dirty=dirty,
        host=socket.gethostname(),
        user=user,
        started_at=datetime.now(UTC),
    )


def current_run() -> RunInfo:
    """The run this process belongs to (captured on first use; `NEMOTRON_RUN_ID` wins).

    The returned object is shared: kit-config sets `current_run().config_digest` on it.
    A changed `NEMOTRON_RUN_ID` starts a new run (with no recorded inputs).
    """
    global _run
    env_id = os.environ.get(RUN_ID_ENV)
    if _run is None or (env_id and env_id != _run.run_id):
        _run = _capture()
        _inputs.clear()
    return _run


def reset_run() -> None:
    """Forget the current run and its inputs; the next `current_run()` captures a new one."""
    global _run
    _run = None
    _inputs.clear()


def record_input(ref: InputRef) -> None:
    """Record an artifact version or source dataset as an input of the current run."""
    current_run()
    key = _input_key(ref)
    if all(_input_key(seen) != key for seen in _inputs):
        _inputs.append(ref)


def run_inputs() -> list[InputRef]:
    """The inputs the current run has used so far (in order, without duplicates)."""
    current_run()
    return list(_inputs)


def merge_inputs(*groups: list[InputRef]) -> list[InputRef]:
    """Concatenate input lists, keeping the first of duplicates."""
    merged: list[InputRef] = []
    keys: set[tuple[object, ...]] = set()
    for group in groups:
        for ref in group:
            key = _input_key(ref)
            if key not in keys:
                keys.add(key)
                merged.append(ref)
    return merged


def producer_snapshot() -> RunInfo:
    """A copy of the current run to store as an artifact's producer, stamped with an end time."""
    run = current_run()
    if run.ended_at is not None:
        return msgspec.structs.replace(run)
    return msgspec.structs.replace(run, ended_at=datetime.now(UTC))


def _input_key(ref: InputRef) -> tuple[object, ...]:
    if isinstance(ref, ArtifactRef):
        if ref.name is not None and ref.version is not None:
            return ("artifact", ref.name, ref.version)
        return ("artifact-path", ref.path)
    assert isinstance(ref, InputDatasetInfo)
    return ("dataset", ref.uri, ref.revision, ref.split, ref.subset)

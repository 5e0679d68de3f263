"""Fixtures for kit-run tests: a project folder, an env.toml writer and a local sshd
(Slurm itself: the root conftest's `slurm_partition`).

NeMo-Run fixes its home (NEMORUN_HOME) when first imported, so it is set here, once per test
process, before any test imports it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("NEMORUN_HOME", tempfile.mkdtemp(prefix="kit-run-nemorun-"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project (a pyproject.toml marks its root); the test runs inside it."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\n')
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def commit_project(project: Path) -> Callable[[], None]:
    """Make the project a git repository with one (empty) commit, as git archive needs."""

    def commit() -> None:
        env = {"PATH": os.environ["PATH"], "HOME": str(project)}
        env |= {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t"}
        env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
        subprocess.run(["git", "init", "-q", str(project)], check=True, env=env)
        git = ["git", "-C", str(project), "commit", "-q", "--allow-empty", "-m", "init"]
        subprocess.run(git, check=True, env=env)

    return commit


@pytest.fixture
def write_env(project: Path) -> Callable[[str], Path]:
    """Write env.toml (dedented) into the project; returns its path."""

    def write(text: str) -> Path:
        path = project / "env.toml"
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def script(project: Path) -> Callable[[str, str], str]:
    """Write a Python script into the project; returns its path."""

    def write(name: str, body: str) -> str:
        path = project / name
        path.write_text(textwrap.dedent(body))
        return str(path)

    return write


@dataclass(frozen=True)
class SSHLogin:
    """How the tests log in to the local sshd (scripts/local-sshd.sh)."""

    host: str
    port: int
    user: str
    identity: Path
    sftp_log: Path
    """The SFTP server's log: one `open`/`close ... bytes read N` pair per file read."""


@pytest.fixture(scope="session")
def ssh_login() -> SSHLogin:
    """Start (idempotently) a private sshd on 127.0.0.1 that accepts a throw-away key for root."""
    if os.geteuid() != 0:
        pytest.skip("[slurm] needs root to start a local sshd (ssh tunnel tests)")
    script = Path(__file__).resolve().parents[3] / "scripts" / "local-sshd.sh"
    folder = Path(os.environ.get("LOCAL_SSHD_DIR", "/run/local-sshd"))
    port = int(os.environ.get("LOCAL_SSHD_PORT", "2222"))
    proc = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "LOCAL_SSHD_DIR": str(folder), "LOCAL_SSHD_PORT": str(port)},
        check=False,
    )
    if proc.returncode in (3, 4):  # install failed / sshd did not start: the machine's fault
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        pytest.skip(f"[slurm] local-sshd.sh could not start sshd: {' '.join(tail)}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return SSHLogin("localhost", port, "root", folder / "id_ed25519", folder / "sftp.log")

"""Fixtures for kit-run tests: a project folder, env.toml writer, and a real local Slurm.

NeMo-Run fixes its home (NEMORUN_HOME) when first imported, so it is set here, once per test
process, before any test imports it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("NEMORUN_HOME", tempfile.mkdtemp(prefix="kit-run-nemorun-"))

REPO = Path(__file__).resolve().parents[3]
LOCAL_SLURM = REPO / "scripts" / "local-slurm.sh"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project (a pyproject.toml marks its root); the test runs inside it."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\n')
    monkeypatch.chdir(root)
    return root


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


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[str]:
    """A single-node Slurm with accounting on localhost, started by scripts/local-slurm.sh."""
    if os.geteuid() != 0:
        pytest.skip("[slurm] needs root to start a local Slurm cluster")
    if not shutil.which("apt-get") and not shutil.which("slurmctld"):
        pytest.skip("[slurm] no apt-get to install Slurm on this machine")
    proc = subprocess.run(
        ["bash", str(LOCAL_SLURM)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "LOCAL_SLURM_ACCOUNTING": "dbd"},
        check=False,
    )
    if proc.returncode in (3, 4):  # install failed / a daemon did not start: the machine's fault
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        pytest.skip(f"[slurm] local-slurm.sh could not start Slurm: {' '.join(tail)}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield "debug"

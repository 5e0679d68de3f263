"""Fixtures for kit-run tests: a project folder and an env.toml writer (Slurm: root conftest).

NeMo-Run fixes its home (NEMORUN_HOME) when first imported, so it is set here, once per test
process, before any test imports it.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from collections.abc import Callable
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

"""Fixtures for workspace tests that run code in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest


def run_python(
    code: str, *args: str, python: str = sys.executable
) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter; raise with its output if it fails."""
    proc = subprocess.run(
        [python, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        raise AssertionError(f"python exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def modules_after(code: str, python: str = sys.executable) -> set[str]:
    """Top-level module names loaded by a fresh interpreter after running `code`."""
    probe = f"{textwrap.dedent(code)}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = run_python(probe, python=python).stdout.strip().splitlines()[-1]
    return {name.split(".")[0] for name in json.loads(out)}


@pytest.fixture
def fresh() -> SimpleNamespace:
    """`fresh.run(code)` and `fresh.modules_after(code)` in a new interpreter."""
    return SimpleNamespace(run=run_python, modules_after=modules_after)

"""Fixtures: run the real CLI (`python -m nemotron.kit.cli`) in a subprocess.

The demo recipe group under `tests/data/plugin` is registered the way an installed package
is: a `demo_recipes-0.1.0.dist-info/entry_points.txt` on `sys.path` (via PYTHONPATH).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

PLUGIN = Path(__file__).parent / "data" / "plugin"


@dataclass
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A project folder (has .git, so env.toml discovery stops here) with its own job records."""
    (tmp_path / ".git").mkdir()
    return tmp_path


@pytest.fixture
def cli_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN), env.get("PYTHONPATH")]))
    env["NEMOTRON_JOBS_DIR"] = str(workdir / ".nemotron" / "jobs")
    env["NEMOTRON_DEMO_OUT"] = str(workdir / "out")
    env["COLUMNS"] = "200"
    env.pop("NEMOTRON_FULL_ERROR", None)
    return env


@pytest.fixture
def cli(workdir: Path, cli_env: dict[str, str]) -> Cli:
    """Run `nemotron ARGS...`; returns exit code, stdout, stderr."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "nemotron.kit.cli", *args],
            cwd=workdir,
            env={**cli_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def slurm_env(workdir: Path, cli_env: dict[str, str], slurm_partition: str) -> Path:
    """env.toml with a `cluster` profile on the local Slurm; jobs use this workspace's Python."""
    passthrough = {
        k: cli_env[k] for k in ("PYTHONPATH", "NEMOTRON_ARTIFACTS_ROOT", "NEMOTRON_DEMO_OUT")
    }
    env_vars = ", ".join(f'{k} = "{v}"' for k, v in passthrough.items())
    path = workdir / "env.toml"
    path.write_text(
        f'[cluster]\nexecutor = "slurm"\npartition = "{slurm_partition}"\ntime = "00:05:00"\n'
        f'packager = "none"\nenv_vars = {{ {env_vars} }}\n'
    )
    return path

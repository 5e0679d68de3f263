"""End to end through the installed `nemotron` console script with the real nano3 recipe group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NEMOTRON = Path(sys.executable).parent / "nemotron"
HEAVY = ("nemo_run", "wandb", "torch", "ray", "megatron")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not NEMOTRON.exists():
        pytest.fail(f"the nemotron console script is not installed at {NEMOTRON}")
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [str(NEMOTRON), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _stage_paths() -> list[list[str]]:
    from nemotron.recipes.nano3.cli import app

    found: list[list[str]] = []

    def walk(group: object, prefix: list[str]) -> None:
        found.extend([*prefix, name] for name in getattr(group, "stages", {}))
        for name, sub in getattr(group, "groups", {}).items():
            walk(sub, [*prefix, name])

    walk(app, ["nano3"])
    return found


def test_help_lists_nano3(tmp_path: Path) -> None:
    result = _run("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nano3" in result.stdout


def test_nano3_help_and_stage_help(tmp_path: Path) -> None:
    result = _run("nano3", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stages = _stage_paths()
    assert stages, "nano3 declares no stages"
    for path in stages:
        result = _run(*path, "--help", cwd=tmp_path)
        assert result.returncode == 0, (path, result.stderr)
        assert "--dry-run" in result.stdout


@pytest.mark.parametrize("path", _stage_paths(), ids=" ".join)
def test_every_stage_dry_run_succeeds_or_fails_with_one_line(
    path: list[str], tmp_path: Path
) -> None:
    result = _run(*path, "--dry-run", cwd=tmp_path)
    if result.returncode == 0:
        assert "dry run, nothing is executed" in result.stdout
        assert "would run here" in result.stdout
    else:
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("Error: ")
        assert "Traceback" not in result.stderr


_PROBE = """
import json, runpy, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["nemotron", *json.loads(sys.argv[1])]
try:
    runpy.run_module("nemotron.kit.cli", run_name="__main__")
except SystemExit:
    pass
print("HEAVY=" + json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["nano3", "--help"], [*_stage_paths()[0], "--help"]], ids=" ".join
)
def test_help_imports_no_heavy_modules(args: list[str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(HEAVY)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [x for x in proc.stderr.splitlines() if x.startswith("HEAVY=")][-1]
    assert json.loads(line.removeprefix("HEAVY=")) == []

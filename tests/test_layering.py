"""Dependency direction: light packages stay light, `nemotron --help` stays instant."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"nemo_run", "wandb", "torch", "ray", "megatron"}


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("nemotron.kit.artifacts", {"omegaconf", "typer", "tomlkit", "nemo_run", "wandb", "torch"}),
        ("nemotron.kit.config", {"typer", "nemo_run", "wandb", "torch"}),
        ("nemotron.kit.lineage", {"wandb", "typer", "nemo_run", "torch"}),
        ("nemotron.kit.run", HEAVY),
    ],
)
def test_import_loads_no_heavy_modules(
    module: str, forbidden: set[str], fresh: SimpleNamespace
) -> None:
    loaded = fresh.modules_after(f"import {module}")
    assert not loaded & forbidden, sorted(loaded & forbidden)


def _modules_imported_by(argv: list[str]) -> set[str]:
    """Top-level modules a command imports, read from `python -X importtime`."""
    script = Path(sys.executable).with_name("nemotron")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(script), *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)", proc.stderr, re.M)
    assert "nemotron.kit.cli" in names, "importtime output not understood"
    return {n.split(".")[0] for n in names}


@pytest.mark.parametrize("argv", [["--help"], ["nano3", "--help"]], ids=" ".join)
def test_help_imports_no_heavy_modules(argv: list[str]) -> None:
    loaded = _modules_imported_by(argv)
    assert not loaded & HEAVY, sorted(loaded & HEAVY)


def test_ruff_bans_heavy_module_level_imports(tmp_path: Path) -> None:
    source = "import wandb\n\n\ndef f() -> None:\n    import torch  # allowed: inside a function\n"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--select",
            "TID253",
            "--stdin-filename",
            "packages/kit-lineage/src/nemotron/kit/lineage/probe.py",
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "TID253" in proc.stdout and "`wandb`" in proc.stdout
    assert "torch" not in proc.stdout

"""Run `megatron_bridge_check.py` in .venvs/megatron (scripts/megatron-venv.sh): for the CPU
harness here and for the box's resubmit test (tests/cluster), on hand-offs written elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]
VENV_PYTHON = ROOT / ".venvs/megatron/bin/python"


def bridge_missing() -> str | None:
    """Why Megatron-Bridge cannot run here (a `[megatron]` skip reason), or None."""
    has_bridge = "import importlib.util as u, sys; sys.exit(u.find_spec('megatron.bridge') is None)"
    if not VENV_PYTHON.exists() or subprocess.run([VENV_PYTHON, "-c", has_bridge]).returncode:
        return "[megatron] run scripts/megatron-venv.sh (megatron-bridge in .venvs/megatron)"
    return None


def run_bridge_check(spec: dict[str, Any], folder: Path, hf_home: Path | None = None) -> Any:
    """The check's results for `spec` (its CASES_JSON); files go to `folder`."""
    (folder / "cases.json").write_text(json.dumps(spec))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [
                str(HERE),
                str(ROOT / "packages/recipes-nano3/src"),
                str(ROOT / "packages/kit-artifacts/src"),
            ]
        ),
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONWARNINGS": "ignore",
    }
    if hf_home is not None:
        env["HF_HOME"] = str(hf_home)
    proc = subprocess.run(
        [
            str(VENV_PYTHON),
            str(HERE / "megatron_bridge_check.py"),
            str(folder / "cases.json"),
            str(folder / "results.json"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads((folder / "results.json").read_text())

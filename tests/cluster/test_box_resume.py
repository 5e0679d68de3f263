"""A resubmitted training job finds its checkpoints.

The box cannot train (no GPU), so the first job's checkpoint is laid down as Megatron-Bridge
lays it out (tracker file + `iter_0000020/`) in the folder the job's hand-off names. The proof
of "it resumes" is Megatron-Bridge's own: its config code builds the ConfigContainer from the
hand-off the *resubmitted* box job wrote, and its resume functions (`checkpoint_exists`,
`_resolve_checkpoint_iteration`, in .venvs/megatron) find iteration 20 in `checkpoint.load`.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from .conftest import REPO, Project

pytestmark = [pytest.mark.cluster, pytest.mark.slurm, pytest.mark.megatron, pytest.mark.slow]


def _bridge_run() -> ModuleType:
    """The CPU harness's runner (packages/recipes-nano3/tests/train/bridge_run.py)."""
    path = REPO / "packages/recipes-nano3/tests/train/bridge_run.py"
    spec = importlib.util.spec_from_file_location("bridge_run", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _submit_pretraining(project: Project, handoff: Path) -> dict[str, Any]:
    """`nano3 pretrain -c tiny --run box`: the job writes its hand-off, then stops at the
    library the image lacks; the hand-off it wrote."""
    before = handoff.stat().st_mtime_ns if handoff.exists() else 0
    proc = project.nemotron("nano3", "pretrain", "-c", "tiny", "--run", "box")
    out = proc.stdout + proc.stderr
    assert "error: nano3 pretrain: Megatron-Bridge is not importable here" in out, out
    assert handoff.stat().st_mtime_ns > before  # written by this job
    return dict(yaml.safe_load(handoff.read_text()))


def test_a_resubmitted_pretraining_resumes_from_the_shared_checkpoints(
    project: Project, tmp_path: Path
) -> None:
    bridge = _bridge_run()
    missing = bridge.bridge_missing()
    if missing:
        pytest.skip(missing)
    prep = project.nemotron("nano3", "data", "prep", "pretrain", "-c", "tiny", "--run", "box")
    assert prep.returncode == 0, prep.stdout + prep.stderr
    output = Path(project.box.shared, "output", "nano3-tiny", "pretrain")
    handoff = output / "handoff.yaml"

    first = _submit_pretraining(project, handoff)
    save = first["train"]["checkpoint"]["save"]
    assert save == first["train"]["checkpoint"]["load"] == f"{output}/checkpoints"
    checkpoints = Path(save)
    (checkpoints / "iter_0000020").mkdir(parents=True, exist_ok=True)
    (checkpoints / "latest_checkpointed_iteration.txt").write_text("20")
    try:
        second = _submit_pretraining(project, handoff)
        assert second["train"]["checkpoint"] == first["train"]["checkpoint"]
        spec = {"cases": {"resubmit": {"handoff": str(handoff), "world_size": 1}}}
        nothing_else = {"classes": [], "recipes": [], "hf_models": {}}
        result = bridge.run_bridge_check({**spec, **nothing_else}, tmp_path)
    finally:
        shutil.rmtree(checkpoints)  # later runs start from scratch again
    resubmit = result["resubmit"]
    assert resubmit["ok"], resubmit.get("error")
    assert resubmit["checkpoint"]["load"] == resubmit["checkpoint"]["save"] == save
    assert resubmit["resume"] == {"exists": True, "iteration": 20}

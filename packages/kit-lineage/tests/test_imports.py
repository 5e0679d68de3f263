"""`nemotron.kit.lineage` works without wandb, and imports wandb only when W&B is used."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BLOCK_WANDB = """
import sys
from importlib.abc import MetaPathFinder

class NoWandb(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "wandb" or name.startswith("wandb."):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None

sys.meta_path.insert(0, NoWandb())
"""


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_import_and_unconfigured_helpers_never_load_wandb(tmp_path: Path) -> None:
    done = _python(
        """
        import sys
        import nemotron.kit.lineage as lineage
        assert "wandb" not in sys.modules
        assert lineage.init_wandb_if_configured({"train": {"lr": 1}}, job_type="x") is None
        assert isinstance(lineage.get_lineage_tracker(), lineage.FileTracker)
        lineage.add_wandb_tags(["a"])
        lineage.finish_wandb(0)
        assert "wandb" not in sys.modules, "wandb was imported"
        print("quiet")
        """,
        tmp_path,
    )
    assert done.stdout == "quiet\n" and done.stderr == ""


def test_everything_local_works_without_wandb_installed(tmp_path: Path) -> None:
    _python(
        BLOCK_WANDB
        + """
import os
from nemotron.kit.artifacts import Artifact
from nemotron.kit.lineage import (
    LineageGraph, FileTracker, init_wandb_if_configured, get_lineage_tracker, finish_wandb,
)
from nemotron.kit.lineage.errors import WandbNotInstalledError

os.makedirs("d")
assert init_wandb_if_configured(None) is None
Artifact(path="d").save(name="D")
finish_wandb(0)
graph = LineageGraph.from_registry()
assert graph.produced_by("D:v1").exit_code == 0
try:
    init_wandb_if_configured({"wandb": {"project": "p"}})
except WandbNotInstalledError as err:
    assert isinstance(err, ImportError)
    assert 'pip install "kit-lineage[wandb]"' in str(err), str(err)
else:
    raise AssertionError("no error without wandb")
""",
        tmp_path,
    )

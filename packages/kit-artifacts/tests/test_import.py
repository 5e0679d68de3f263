"""The package stays light: importing it pulls in no heavy or optional dependency."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["fsspec", "omegaconf", "typer", "tomlkit", "nemo_run", "wandb", "torch", "xxhash"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_is_lazy_and_light() -> None:
    loaded = _modules_after("import nemotron.kit.artifacts")
    assert not {m for m in loaded if m.split(".")[0] in {*HEAVY, "msgspec"}}


def test_parsing_a_uri_loads_no_msgspec() -> None:
    loaded = _modules_after("from nemotron.kit.artifacts import parse_uri\nparse_uri('art://m:v3')")
    assert not {m for m in loaded if m.split(".")[0] in {*HEAVY, "msgspec"}}


def test_using_the_api_still_avoids_heavy_modules(tmp_path: object) -> None:
    loaded = _modules_after(
        "import os, tempfile\n"
        "os.environ['NEMOTRON_ARTIFACTS_ROOT'] = tempfile.mkdtemp()\n"
        "from nemotron.kit.artifacts import ModelArtifact\n"
        "ModelArtifact(path=tempfile.mkdtemp(), step=1).save(name='m')\n"
        "ModelArtifact.from_uri('art://m:latest')"
    )
    assert "msgspec" in loaded
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}

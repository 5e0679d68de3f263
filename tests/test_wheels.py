"""Every distribution builds; kit-artifacts installs alone; all wheels together give the facade."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = sorted(p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists())
# What ARCHITECTURE.md lets kit-artifacts require: msgspec; fsspec and a hash only as extras.
ARTIFACTS_ALLOWED = {"msgspec"}
ARTIFACTS_EXTRAS_ALLOWED = {"fsspec", "xxhash", "blake3", "s3fs", "gcsfs"}

pytestmark = pytest.mark.slow


def _uv(*args: str, cwd: Path = ROOT) -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("[uv] uv is not on PATH")
    env = {**os.environ, "UV_OFFLINE": "1", "UV_COMPILE_BYTECODE": "0"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(
        [uv, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"uv {' '.join(args)}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _uv("build", "--all-packages", "--wheel", "--out-dir", str(out))
    return out


def _wheel(dist: Path, name: str) -> Path:
    (wheel,) = dist.glob(f"{name.replace('-', '_')}-*.whl")
    return wheel


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(zf.read(meta)).get_all("Requires-Dist") or []


def _venv_with(path: Path, wheels: list[Path], *export_args: str) -> Path:
    """A fresh venv holding `wheels` and their locked dependencies, installed from the cache.

    Dependencies come from `uv export` of the lock (so nothing is resolved against an index),
    the wheels go in with `--no-deps`, and `uv pip check` proves their Requires-Dist are met.
    """
    lock = path.parent / "pylock.toml"
    _uv(
        "export",
        "--quiet",
        "--no-dev",
        "--no-emit-workspace",
        "--format",
        "pylock.toml",
        "-o",
        str(lock),
        *export_args,
    )
    _uv("venv", "--quiet", str(path))
    python = path / "bin" / "python"
    _uv("pip", "install", "--quiet", "--python", str(python), "-r", str(lock))
    _uv("pip", "install", "--quiet", "--no-deps", "--python", str(python), *map(str, wheels))
    _uv("pip", "check", "--python", str(python))
    return python


def test_every_distribution_builds(dist: Path) -> None:
    built = {w.name.split("-")[0] for w in dist.glob("*.whl")}
    assert built == {m.replace("-", "_") for m in [*MEMBERS, "nemotron"]}


def test_only_the_meta_wheel_ships_the_shared_parents(dist: Path) -> None:
    for wheel in dist.glob("*.whl"):
        names = zipfile.ZipFile(wheel).namelist()
        assert "nemotron/__init__.py" not in names, wheel.name
        if not wheel.name.startswith("nemotron-"):
            assert "nemotron/kit/__init__.py" not in names, wheel.name


def test_kit_artifacts_requires_only_what_the_architecture_allows(dist: Path) -> None:
    for req in _requires(_wheel(dist, "kit-artifacts")):
        name = re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0].lower()
        allowed = ARTIFACTS_EXTRAS_ALLOWED if "extra ==" in req else ARTIFACTS_ALLOWED
        assert name in allowed, req


def test_meta_package_pins_the_member_versions(dist: Path) -> None:
    pins = {re.split(r"[\[=]", r, maxsplit=1)[0]: r for r in _requires(_wheel(dist, "nemotron"))}
    for member in MEMBERS:
        version = _wheel(dist, member).name.split("-")[1]
        assert re.search(rf"==\s*{re.escape(version)}\b", pins[member]), pins[member]


def test_kit_artifacts_wheel_works_alone(dist: Path, tmp_path: Path) -> None:
    python = _venv_with(
        tmp_path / "venv", [_wheel(dist, "kit-artifacts")], "--package", "kit-artifacts"
    )
    code = (
        "import sys, nemotron.kit.artifacts as a\n"
        "assert a.ModelArtifact and a.PretrainBlendsArtifact\n"
        "bad = {'omegaconf', 'typer', 'nemo_run', 'wandb'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([str(python), "-c", code], check=True, timeout=60)
    listed = _uv("pip", "list", "--python", str(python))
    assert "omegaconf" not in listed and "typer" not in listed, listed


def test_all_wheels_give_the_facade(dist: Path, tmp_path: Path) -> None:
    python = _venv_with(tmp_path / "venv", sorted(dist.glob("*.whl")), "--all-packages")
    code = (
        "import nemotron.kit.cli\n"
        "from nemotron.kit import cli, ModelArtifact, build_executor, finish_wandb\n"
        "import nemotron.kit.config as c\n"
        "assert cli is c.cli\n"
        "import nemotron.recipes.nano3\n"
    )
    subprocess.run([str(python), "-c", code], check=True, timeout=120)
    help_out = subprocess.run(
        [str(python.with_name("nemotron")), "--help"], capture_output=True, text=True, timeout=60
    )
    assert help_out.returncode == 0 and "Usage" in help_out.stdout, help_out.stderr

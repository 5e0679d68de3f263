"""Workspace layout: every member is a complete, independently versioned package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = {
    "kit-artifacts": "nemotron.kit.artifacts",
    "kit-config": "nemotron.kit.config",
    "kit-run": "nemotron.kit.run",
    "kit-lineage": "nemotron.kit.lineage",
    "kit-cli": "nemotron.kit.cli",
    "recipes-nano3": "nemotron.recipes.nano3",
}


def _project(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text())


def test_members_are_exactly_the_package_folders() -> None:
    found = {p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists()}
    assert found == set(MEMBERS)


@pytest.mark.parametrize("member", sorted(MEMBERS))
def test_member_is_a_complete_package(member: str) -> None:
    folder = ROOT / "packages" / member
    meta = _project(folder)
    assert meta["project"]["name"] == member
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["project"]["version"])
    assert meta["tool"]["uv"]["build-backend"]["module-name"] == MEMBERS[member]
    module_dir = folder / "src" / Path(*MEMBERS[member].split("."))
    assert (module_dir / "__init__.py").is_file() and (module_dir / "py.typed").is_file()
    readme = (folder / "README.md").read_text()
    assert f"pip install {member}" in readme, "README lacks the install line"
    assert readme.count("```") >= 4, "README lacks an example"
    assert (folder / "CHANGELOG.md").read_text().startswith("# Changelog")
    assert any((folder / "tests").rglob("test_*.py")), f"{member} has no tests"


@pytest.mark.parametrize("member", sorted(MEMBERS))
def test_siblings_are_compatible_ranges(member: str) -> None:
    for req in _project(ROOT / "packages" / member)["project"]["dependencies"]:
        name = re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0]
        if name in MEMBERS:
            assert ">=" in req and "<" in req and "==" not in req, f"{member}: {req}"


def test_meta_package_pins_what_was_tested_together() -> None:
    root = _project(ROOT)
    pins = {re.split(r"[\[=]", r, maxsplit=1)[0]: r for r in root["project"]["dependencies"]}
    assert set(pins) == set(MEMBERS)
    for member, req in pins.items():
        version = _project(ROOT / "packages" / member)["project"]["version"]
        assert req.endswith(f"=={version}"), req
    assert root["project"]["scripts"]["nemotron"] == "nemotron.kit.cli:main"

"""The root app: lazy recipe groups, broken groups, suggestions, error policy, imports."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

Cli = Callable[..., Any]


def test_help_lists_recipe_groups_and_admin_commands(cli: Cli) -> None:
    result = cli("--help")
    assert result.code == 0, result.err
    for name in ("demo", "artifacts", "jobs", "env", "Recipes", "Admin"):
        assert name in result.out
    assert "Demo recipe group used by the kit-cli tests." in result.out  # dist summary


def test_no_arguments_prints_help(cli: Cli) -> None:
    result = cli()
    assert result.code == 0
    assert "Usage: nemotron" in result.out


def test_group_whose_module_is_missing_is_listed_with_its_error(cli: Cli) -> None:
    result = cli("--help")
    assert "missing" in result.out
    assert "no module named 'demo_recipes.nowhere'" in result.out


def test_group_failing_to_import_gives_one_line_error(cli: Cli) -> None:
    result = cli("broken", "--help")
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "recipe group 'broken'" in lines[0]
    assert "demo_recipes.broken needs a package that is not installed" in lines[0]
    assert "Traceback" not in result.err


def test_full_error_env_shows_traceback(cli: Cli) -> None:
    result = cli("broken", "x", env={"NEMOTRON_FULL_ERROR": "1"})
    assert result.code == 1
    assert "Traceback" in result.err
    assert "RecipeLoadError" in result.err


def test_unknown_command_suggests_closest(cli: Cli) -> None:
    result = cli("dmo")
    assert result.code == 2
    assert "No such command 'dmo'. Did you mean 'demo'?" in result.err
    result = cli("demo", "trian")
    assert result.code == 2
    assert "Did you mean 'train'?" in result.err


def test_unknown_option_suggests_closest(cli: Cli) -> None:
    result = cli("demo", "train", "--dry-rn")
    assert result.code == 2
    assert "--dry-rn" in result.err
    assert "--dry-run" in result.err
    assert len(result.err.strip().splitlines()) == 1


_IMPORT_PROBE = """
import json, sys, runpy
sys.argv = ["nemotron", *json.loads(sys.argv[1])]
try:
    runpy.run_module("nemotron.kit.cli", run_name="__main__")
except SystemExit as exit:
    code = exit.code
heavy = ("nemo_run", "wandb", "torch", "ray", "megatron", "pydantic")  # pydantic: Typer's adapters
heavy = sorted(m for m in heavy if m in sys.modules)
print("HEAVY=" + json.dumps(heavy), file=sys.stderr)
"""


def _heavy_modules_after(cli_env: dict[str, str], cwd: object, *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, json.dumps(list(args))],
        env=cli_env,
        cwd=str(cwd),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    line = [x for x in proc.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line, proc.stderr
    return list(json.loads(line[-1].removeprefix("HEAVY=")))


def test_help_and_local_dry_run_import_no_heavy_modules(
    cli_env: dict[str, str], workdir: object
) -> None:
    assert _heavy_modules_after(cli_env, workdir, "--help") == []
    assert _heavy_modules_after(cli_env, workdir, "demo", "--help") == []
    assert _heavy_modules_after(cli_env, workdir, "demo", "train", "--help") == []
    dry_run = ("demo", "train", "-c", "tiny", "--dry-run", "steps=2")
    assert _heavy_modules_after(cli_env, workdir, *dry_run) == []


def test_version_lists_kit_packages(cli: Cli) -> None:
    result = cli("version")
    assert result.code == 0
    assert "kit-cli 0.1.0" in result.out


def test_version_option_lists_every_package(cli: Cli) -> None:
    result = cli("--version")
    assert result.code == 0, result.err
    versions = dict(line.split(" ", 1) for line in result.out.splitlines())
    kit = ["nemotron", "kit-cli", "kit-artifacts", "kit-config", "kit-run", "kit-lineage"]
    assert list(versions)[:6] == kit and "demo-recipes" in versions, result.out
    assert versions["kit-run"] == "0.1.0" and versions["demo-recipes"] == "0.1.0"

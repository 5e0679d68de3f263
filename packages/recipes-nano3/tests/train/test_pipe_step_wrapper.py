"""`nano3._pipe_step`: the per-step wrapper runs the stage as `-m` would, in its own process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

STEP = [sys.executable, "-m", "nemotron.recipes.nano3._pipe_step", "--alias", "pipe-x", "--"]


def _step(*command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEMOTRON_RUN_ID": ""}  # no run id: nothing to alias
    return subprocess.run([*STEP, *command], capture_output=True, text=True, env=env)


def test_a_succeeding_stage_runs_as_main_with_its_arguments() -> None:
    done = _step("json.tool", "--help")
    assert done.returncode == 0, done.stderr
    assert "usage: json.tool" in done.stdout or "usage: python -m json.tool" in done.stdout
    assert "pipe step json.tool: pipe-x -> nothing published" in done.stdout


@pytest.mark.parametrize(
    ("command", "code"),
    [(("json.tool", "--no-such-option"), 2), (("nemotron.recipes.nano3.no_such_stage",), 1)],
)
def test_a_failed_stage_keeps_its_exit_code_and_sets_no_alias(
    command: tuple[str, ...], code: int
) -> None:
    done = _step(*command)
    assert done.returncode == code
    assert "pipe step" not in done.stdout


def test_wrapper_imports_neither_subprocess_nor_the_train_package() -> None:
    code = (
        "import sys, nemotron.recipes.nano3._pipe_step as m; "
        "print(sorted(n for n in ('subprocess', 'nemotron.recipes.nano3.train') if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

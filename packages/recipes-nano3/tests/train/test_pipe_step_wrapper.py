"""`nano3._pipe_step`: the per-step wrapper runs the stage as `python -m` and stays light."""

from __future__ import annotations

import subprocess
import sys

from nemotron.recipes.nano3._pipe_step import main, run_module


def test_run_module_returns_the_stage_exit_code() -> None:
    assert run_module(["json.tool", "--help"]) == 0
    assert run_module(["nemotron.recipes.nano3.no_such_stage"]) == 1


def test_failed_stage_sets_no_alias(capsys) -> None:
    assert main(["--alias", "pipe-x", "--", "nemotron.recipes.nano3.no_such_stage"]) == 1
    assert "pipe step" not in capsys.readouterr().out


def test_wrapper_imports_neither_subprocess_nor_the_train_package() -> None:
    code = (
        "import sys, nemotron.recipes.nano3._pipe_step as m; "
        "print(sorted(n for n in ('subprocess', 'nemotron.recipes.nano3.train') if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

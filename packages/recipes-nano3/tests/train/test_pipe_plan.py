"""`plan_pipe` pins each training input named by an `art://NAME` URI to the pipe's alias.

Uses the real nano3 stages and their bundled tiny configs; nothing is launched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nemotron.recipes.nano3.cli import app
from nemotron.recipes.nano3.train._pipe import plan_pipe
from nemotron.recipes.nano3.train.errors import StageConfigError


def _config_with_data(tmp_path: Path, data: str) -> Path:
    tiny = app.stages["pretrain"].resolve_config("tiny").read_text()
    assert "  data: art://nano3-pretrain-data:latest\n" in tiny
    path = tmp_path / "pretrain.yaml"
    path.write_text(tiny.replace("art://nano3-pretrain-data:latest", json.dumps(data), 1))
    return path


@pytest.mark.parametrize(
    "data",
    ["art://nano3-pretrain-data", "art://nano3-pretrain-data:v3", "art://nano3-pretrain-data:best"],
)
def test_named_inputs_are_pinned_to_the_pipe_alias(tmp_path: Path, data: str) -> None:
    config = _config_with_data(tmp_path, data)
    (step,) = plan_pipe([("pretrain", app.stages["pretrain"], ("run.data",))], str(config), "p1")
    assert step.alias == "pipe-p1"
    assert step.overrides == ("run.data=art://nano3-pretrain-data:pipe-p1",)
    assert step.publishes == "nano3-tiny-pretrain-model"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        # The regex this replaced read the path as a name: `art:///data/blend:pipe-p1`.
        ("art:///data/blend", "is 'art:///data/blend', a path: the pipe can only pin"),
        ("art://nano3/pretrain-data", "path separators are not allowed"),
        ("art://nano3-pretrain-data:", "the selector after ':' is empty"),
        ("/data/blend", "is '/data/blend', a path: the pipe can only pin"),
    ],
)
def test_inputs_the_pipe_cannot_pin_are_refused(tmp_path: Path, data: str, problem: str) -> None:
    config = _config_with_data(tmp_path, data)
    with pytest.raises(StageConfigError) as info:
        plan_pipe([("pretrain", app.stages["pretrain"], ("run.data",))], str(config), "p1")
    message = str(info.value)
    assert info.value.key == "run.data" and info.value.source == str(config)
    assert problem in message and "\n" not in message
    assert message.endswith("; give the pipe stages art://NAME inputs")

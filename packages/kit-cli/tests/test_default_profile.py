"""`--run`/`--batch` without a name use `[cli] default_profile` (else `local`); `local` exists
without env.toml for every command that names a profile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nemotron.kit.cli._profiles import (
    DEFAULT_PROFILE,
    default_before_command,
    given_default_profile,
)

Cli = Callable[..., Any]
ENV = '[cli]\ndefault_profile = "lap"\n\n[lap]\nexecutor = "local"\ndescription = "mine"\n'


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["demo", "train", "--batch"], ["demo", "train", "--batch", DEFAULT_PROFILE]),
        (["demo", "-r", "-d", "train"], ["demo", "-r", DEFAULT_PROFILE, "-d", "train"]),
        (["train", "-b", "lr=1"], ["train", "-b", DEFAULT_PROFILE, "lr=1"]),
        (["train", "-b", "lap", "lr=1"], ["train", "-b", "lap", "lr=1"]),
        (["train", "--run", "cluster"], ["train", "--run", "cluster"]),
    ],
)
def test_a_profile_option_without_a_name_gets_the_default(
    argv: list[str], expected: list[str]
) -> None:
    assert given_default_profile(argv) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-r", "train", "-c", "tiny"], ["-r", DEFAULT_PROFILE, "train", "-c", "tiny"]),
        (["-c", "tiny", "--batch", "prep"], ["-c", "tiny", "--batch", DEFAULT_PROFILE, "prep"]),
        (["-r", "lap", "train"], ["-r", "lap", "train"]),
        (["train", "-r", "train"], ["train", "-r", "train"]),  # the stage's own: a profile
    ],
)
def test_a_profile_option_before_a_subcommand_name_gets_the_default(
    args: list[str], expected: list[str]
) -> None:
    assert default_before_command(args, ["train", "prep"]) == expected


@pytest.mark.parametrize("args", [("-r", "train"), ("--batch", "train"), ("-d", "-b", "train")])
def test_group_profile_option_then_the_stage(
    cli: Cli, workdir: Path, args: tuple[str, ...]
) -> None:
    (workdir / "env.toml").write_text(ENV)
    result = cli("demo", *args, "-c", "tiny", "--dry-run")
    assert result.code == 0, result.err
    assert "# would submit to profile 'lap':" in result.out


@pytest.mark.parametrize("args", [("--batch",), ("-b", "lr=0.25"), ("--run", "-c", "tiny")])
def test_default_profile_from_env_toml(cli: Cli, workdir: Path, args: tuple[str, ...]) -> None:
    (workdir / "env.toml").write_text(ENV)
    result = cli("demo", "train", "-c", "tiny", "--dry-run", *args)
    assert result.code == 0, result.err
    assert "# would submit to profile 'lap':" in result.out
    assert ("lr: 0.25" in result.out) == ("lr=0.25" in args)


def test_without_env_toml_the_default_and_local_are_this_machine(cli: Cli) -> None:
    for args in (("--batch",), ("--batch", "local")):
        result = cli("demo", "train", "-c", "tiny", "--dry-run", *args)
        assert result.code == 0, result.err
        assert "# would submit to profile 'local':" in result.out
    shown = cli("env", "show", "local")
    assert shown.code == 0, shown.err
    assert 'executor = "local"' in shown.out


def test_an_unknown_default_profile_is_one_line(cli: Cli, workdir: Path) -> None:
    (workdir / "env.toml").write_text(ENV.replace('"lap"', '"gone"', 1))
    result = cli("demo", "train", "-c", "tiny", "--dry-run", "--batch")
    assert result.code == 2
    assert result.err.startswith("Error: profile 'gone' not found")

"""`cli()`: the seed example, precedence, --help, and how errors reach the user."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import pytest

from nemotron.kit.artifacts import current_run
from nemotron.kit.config import cli

# The seed's script, importing from this package (the `nemotron.kit` facade belongs to the
# meta-package, which these tests must not need).
SEED_SCRIPT = """\
from nemotron.kit.config import cli
from dataclasses import dataclass
from pathlib import Path

@dataclass
class Config:
    data_path: Path
    output_dir: Path
    learning_rate: float = 1e-4

config = cli(Config, config_file="config.yaml")
print(repr(config))
"""

SEED_CONFIG = """\
data_path: /data/pretrain
output_dir: ${oc.env:PWD}/output
learning_rate: 1e-4
"""


@dataclass
class Sub:
    depth: int = 2
    """How deep."""


@dataclass
class Config:
    """Train a tiny model."""

    data_path: Path
    output_dir: Path
    learning_rate: float = 1e-4
    """Peak learning rate."""
    steps: int = field(default=100, metadata={"help": "optimizer steps"})
    sub: Sub = field(default_factory=Sub)


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(SEED_SCRIPT)
    (tmp_path / "config.yaml").write_text(SEED_CONFIG)
    return tmp_path


def run_script(
    folder: Path, *args: str, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    cwd = cwd or folder
    full_env = {**os.environ, "PWD": str(cwd), **env}
    return subprocess.run(
        [sys.executable, str(folder / "train.py"), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_seed_example_works_exactly(seed: Path) -> None:
    done = run_script(seed, "--config", "config.yaml", "learning_rate=5e-5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"Config(data_path=PosixPath('/data/pretrain'), "
        f"output_dir=PosixPath('{seed}/output'), learning_rate=5e-05)"
    )
    done = run_script(seed, "--config", "config.yaml", "output_dir=/scratch/output")
    assert "output_dir=PosixPath('/scratch/output'), learning_rate=0.0001" in done.stdout


def test_seed_example_from_another_directory_finds_config_beside_script(
    seed: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    done = run_script(seed, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert f"output_dir=PosixPath('{elsewhere}/output')" in done.stdout


def test_seed_errors_exit_2_with_one_line(seed: Path) -> None:
    done = run_script(seed, "learning_rat=5e-5")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: override 'learning_rat=5e-5': no key 'learning_rat' in the config; "
        "did you mean 'learning_rate'?\n"
    )
    done = run_script(seed, "learning_rat=5e-5", NEMOTRON_FULL_ERROR="1")
    assert done.returncode == 2
    assert "Traceback (most recent call last)" in done.stderr
    assert "UnknownKeyError" in done.stderr


def test_precedence_defaults_file_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("data_path: /d\noutput_dir: /o\nsteps: 5\n")
    config = cli(Config, argv=["-c", str(path), "sub.depth=9"])
    assert (config.learning_rate, config.steps, config.sub.depth) == (1e-4, 5, 9)
    config = cli(Config, argv=[f"--config={path}", "steps=7"])
    assert config.steps == 7


def test_config_file_argument_is_the_fallback(tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.json"
    a.write_text('data_path = "/a"\noutput_dir = "/o"\n')
    b.write_text('{"data_path": "/b", "output_dir": "/o"}')
    assert cli(Config, config_file=a, argv=[]).data_path == Path("/a")
    assert cli(Config, config_file=a, argv=["--config", str(b)]).data_path == Path("/b")


def test_no_file_at_all_uses_defaults_and_overrides() -> None:
    config = cli(Config, argv=["data_path=/d", "output_dir=/o"])
    assert config.data_path == Path("/d")


def test_missing_fields_exit_2_listing_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli(Config, argv=["steps=3"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid Config: missing required fields ")
    assert "data_path (Path), output_dir (Path)" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--config"], "--config needs a file"),
        (["--verbose"], "unknown option '--verbose'"),
        (["--config", "nope.yaml"], "nope.yaml: no such config file"),
        (["steps=[1"], "syntax error at column 9"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli(Config, argv=argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_fallback_file_names_both_places(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli(Config, config_file="nowhere.yaml", argv=[])
    err = capsys.readouterr().err
    assert "looked for nowhere.yaml or " in err and "tests/nowhere.yaml" in err


def test_help_lists_fields_types_defaults_and_docs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli(Config, config_file="config.yaml", argv=["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: " in out and "[--config FILE] [key=value ...]" in out
    assert "Train a tiny model." in out
    assert "(default: config.yaml)" in out
    lines = {
        line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()
    }
    assert "Path" in lines["data_path"] and "(required)" in lines["data_path"]
    assert "float" in lines["learning_rate"] and "= 0.0001" in lines["learning_rate"]
    assert "Peak learning rate." in lines["learning_rate"]
    assert "optimizer steps" in lines["steps"]
    assert "How deep." in lines["sub.depth"]


class Model(msgspec.Struct, kw_only=True):
    hidden: int = 256
    """hidden size"""


class StructConfig(msgspec.Struct, kw_only=True):
    model: Model = msgspec.field(default_factory=Model)


def test_help_for_struct_with_attribute_docs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli(StructConfig, argv=["-h"])
    out = capsys.readouterr().out
    assert "model.hidden" in out and "hidden size" in out


def test_cli_sets_the_run_config_digest(tmp_path: Path) -> None:
    cli(Config, argv=["data_path=/d", "output_dir=/o"])
    first = current_run().config_digest
    assert first is not None and first.startswith("sha256:")
    cli(Config, argv=["data_path=/d", "output_dir=/o", "steps=1"])
    assert current_run().config_digest not in (None, first)


def test_script_usage_text_in_subprocess(seed: Path) -> None:
    done = run_script(seed, "--help")
    assert done.returncode == 0
    assert textwrap.dedent(done.stdout).startswith("usage: train.py [--config FILE]")

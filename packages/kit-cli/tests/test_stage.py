"""Stage commands through the real CLI: option positions, errors, dry runs, local runs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nemotron.kit.cli._stage import Stage

Cli = Callable[..., Any]

SLURM_ENV = """
[cluster]
executor = "slurm"
description = "test cluster"
account = "acct"
partition = "batch"
time = "00:10:00"
env_vars = { WANDB_API_KEY = "sekret-value-123" }
"""


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "train", "-c", "tiny", "-d", "lr=0.25", "steps=2"],
        ["demo", "train", "lr=0.25", "-c", "tiny", "steps=2", "--dry-run"],
        ["demo", "-d", "train", "lr=0.25", "steps=2", "--config", "tiny"],
        ["demo", "-c", "tiny", "--dry-run", "train", "lr=0.25", "steps=2"],
        ["demo", "train", "steps=2", "--dry-run", "lr=0.25", "-c", "tiny"],
    ],
)
def test_options_in_every_position(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.code == 0, result.err
    assert "dry run, nothing is executed" in result.out
    assert "lr: 0.25" in result.out
    assert "steps: 2" in result.out
    command = result.out.strip().splitlines()[-1]
    assert command.startswith(sys.executable)
    assert "-m demo_recipes.train --config" in command
    assert command.split("tiny.yaml ", 1)[1].split() == [a for a in args if "=" in a]


def test_stage_option_wins_over_group_option(cli: Cli, workdir: Path) -> None:
    other = workdir / "mine.yaml"
    other.write_text("data: null\nlr: 0.125\nsteps: 1\noutput_dir: /tmp/x\n")
    result = cli("demo", "-c", "tiny", "train", "-c", str(other), "-d")
    assert result.code == 0, result.err
    assert "lr: 0.125" in result.out
    assert f"# config: {other}" in result.out


def test_local_dry_run_resolves_interpolations_and_runs_nothing(cli: Cli, workdir: Path) -> None:
    result = cli("demo", "data", "prep", "run", "-d", "rows=7")
    assert result.code == 0, result.err
    assert f"output_dir: {workdir / 'out' / 'data'}" in result.out
    assert "rows: 7" in result.out
    assert "would run here (local defaults)" in result.out
    assert not (workdir / "out").exists()
    assert not (workdir / ".nemotron" / "jobs").exists()


def test_slurm_dry_run_prints_sbatch_script_without_secrets(cli: Cli, workdir: Path) -> None:
    (workdir / "env.toml").write_text(SLURM_ENV)
    result = cli("demo", "train", "-c", "tiny", "--run", "cluster", "--dry-run", "lr=0.3")
    assert result.code == 0, result.err
    assert "would submit to profile 'cluster'" in result.out
    assert "#SBATCH" in result.out
    assert "--account=acct" in result.out
    assert "--partition=batch" in result.out
    assert "demo_recipes.train" in result.out
    assert "lr=0.3" in result.out
    assert "sekret-value-123" not in result.out + result.err


SSH_CONTAINER_ENV = """
[remote]
executor = "slurm"
partition = "batch"
tunnel = "ssh"
host = "login.example.com"
user = "alice"
remote_job_dir = "/lustre/alice/jobs"
container_image = "nvcr.io/nvidia/nemo:25.07"
packager = "none"
env_vars = { HF_TOKEN = "sekret-value-123" }
"""


def test_slurm_dry_run_over_ssh_in_a_container_ships_the_config(cli: Cli, workdir: Path) -> None:
    (workdir / "env.toml").write_text(SSH_CONTAINER_ENV)
    config = workdir / "mine.yaml"
    config.write_text(
        "defaults: [_base]\nlr: 0.5\napi_token: literal-secret-456\n"
        "hf_token: ${oc.env:HF_TOKEN,none}\n"
    )
    (workdir / "_base.yaml").write_text("data: null\nsteps: 1\noutput_dir: /tmp/x\n")
    result = cli("demo", "train", "-c", str(config), "--run", "remote", "--dry-run", "lr=0.3")
    assert result.code == 0, result.err
    assert str(config) not in result.out.split("# would submit", 1)[1]  # only on the job side
    assert "--config /nemo_run/configs/nemotron/mine.yaml lr=0.3" in result.out
    # the shared root (remote_job_dir here) and the job dir are mounted
    assert (
        "--container-mounts /lustre/alice/jobs:/lustre/alice/jobs,/lustre/alice/jobs/demo-train/"
        in result.out
    )
    ships = [line for line in result.out.splitlines() if line.startswith("# ships")]
    assert len(ships) == 1 and "as /nemo_run/configs/nemotron/mine.yaml" in ships[0]
    shipped = Path(ships[0].split("config ", 1)[1].split(" as ", 1)[0])
    text = shipped.read_text()
    assert "steps: 1" in text and "defaults" not in text  # composed
    assert "${oc.env:HF_TOKEN,none}" in text  # resolves on the job side
    assert "literal-secret-456" not in text and "api_token: '***'" in text
    assert "api_token holds a secret" in result.err
    assert "sekret-value-123" not in result.out + result.err + text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["demo", "train", "-c", "huge", "-d"], "unknown config 'huge'"),
        (["demo", "train", "-c", "tiny", "-r", "nope"], "nope"),
        (["demo", "train", "-c", "tiny", "-d", "lr=[1,"], "lr=[1,"),
        (["demo", "train", "-c", "tiny", "-d", "lrr=1"], "lrr"),
        (["demo", "train"], "art://demo-data:latest"),
        (["demo", "train", "data=/no/such/folder"], "/no/such/folder"),
        (["demo", "train", "-c", "tiny", "-r", "a", "-b", "b"], "--run and --batch"),
    ],
    ids=[
        "unknown-config",
        "unknown-profile",
        "bad-override-syntax",
        "unknown-override-key",
        "missing-artifact",
        "missing-path",
        "run-and-batch",
    ],
)
def test_user_errors_are_one_line_exit_2(cli: Cli, args: list[str], expected: str) -> None:
    result = cli(*args)
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    # one line; kit-config adds a caret line under a syntax error in an override
    assert len(lines) == (3 if "[1," in expected else 1), result.err
    assert lines[0].startswith("Error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.err


def test_unknown_config_lists_available_names(cli: Cli) -> None:
    result = cli("demo", "train", "-c", "huge", "-d")
    assert "default, prep, tiny, track" in result.err


def test_missing_artifact_names_key_and_producing_stage(cli: Cli) -> None:
    result = cli("demo", "train")
    assert "input data=" in result.err
    assert "nemotron demo data prep run" in result.err


def test_unknown_profile_without_env_toml_says_so(cli: Cli) -> None:
    result = cli("demo", "train", "-c", "tiny", "--batch", "cluster")
    assert result.code == 2
    assert "env.toml" in result.err


def test_unknown_profile_is_reported_before_missing_inputs(cli: Cli) -> None:
    result = cli("demo", "train", "--run", "cluster")  # the default config's input is missing too
    assert result.code == 2
    assert "cluster" in result.err and "env.toml" in result.err
    assert "art://demo-data" not in result.err


def test_unknown_profile_lists_existing_profiles(cli: Cli, workdir: Path) -> None:
    (workdir / "env.toml").write_text(SLURM_ENV)
    result = cli("demo", "train", "-c", "tiny", "--run", "clustr")
    assert result.code == 2
    assert "cluster" in result.err


def test_stage_help_shows_configs_inputs_profiles_examples(cli: Cli, workdir: Path) -> None:
    (workdir / "env.toml").write_text(SLURM_ENV)
    result = cli("demo", "train", "--help")
    assert result.code == 0, result.err
    for text in (
        "Configs (-c NAME)",
        "default (default)",
        "Tiny run for smoke tests",
        "Artifact inputs",
        "SplitJsonlDataArtifact (optional)",
        "Profiles (-r/-b PROFILE)",
        "cluster",
        "[slurm] test cluster",
        "Examples",
        "nemotron demo train -c tiny --dry-run",
        "--dry-run",
        "--batch",
    ):
        assert text in result.out, text


@pytest.mark.slow
def test_local_run_attached_then_downstream_stage_reports_artifacts(
    cli: Cli, workdir: Path
) -> None:
    prep = cli("demo", "data", "prep", "run", "rows=3")
    assert prep.code == 0, prep.err
    assert "wrote 3 rows" in prep.out
    assert "artifacts produced by demo-data-prep-run-" in prep.out
    assert "art://demo-data:v1" in prep.out

    train = cli("demo", "train", "steps=2")
    assert train.code == 0, train.err
    assert "step 2 lr=0.01 rows=3" in train.out
    assert "art://demo-model:v1" in train.out

    show = cli("artifacts", "show", "demo-model")
    model = json.loads(show.out)
    assert [i["name"] for i in model["inputs"]] == ["demo-data"]
    lineage = cli("artifacts", "lineage", "demo-model:v1")
    assert "demo-data:v1" in lineage.out

    jobs = cli("jobs", "list")
    assert jobs.out.count("SUCCEEDED") == 2


@pytest.mark.slow
def test_failing_local_job_exits_1_with_one_line(cli: Cli) -> None:
    result = cli("demo", "data", "prep", "run", "fail=true")
    assert result.code == 1, (result.out, result.err)
    assert "demo prep failed on purpose" in result.out + result.err
    assert result.err.strip().splitlines()[-1].startswith("Error: ")


@pytest.mark.slow
def test_jobs_list_is_aligned_and_leaves_dry_runs_out(cli: Cli, workdir: Path) -> None:
    (workdir / "env.toml").write_text(SLURM_ENV + "\n[a-rather-long-local-profile-name]\n")
    dry = cli("demo", "data", "prep", "run", "-r", "cluster", "--dry-run")
    assert dry.code == 0, dry.err
    run = cli("demo", "data", "prep", "run", "rows=2", "-r", "a-rather-long-local-profile-name")
    assert run.code == 0, run.err

    listing = cli("jobs", "list").out.splitlines()
    assert len(listing) == 2 and "DRY_RUN" not in listing[1]
    header, row = listing
    assert row.index("SUCCEEDED") == header.index("STATE")
    assert row.index("a-rather-long-local-profile-name") == header.index("PROFILE")

    every = cli("jobs", "list", "--all").out.splitlines()
    assert len(every) == 3 and "DRY_RUN" in every[2]  # newest first: the dry run came first
    assert every[2].index("DRY_RUN") == every[0].index("STATE")
    assert every[2].rindex(" ") + 1 == every[0].index("CREATED")


def test_config_descriptions_end_where_the_sentence_ends(workdir: Path) -> None:
    folder = workdir / "cfgs"
    folder.mkdir()
    (folder / "cut.yaml").write_text(
        "# First part, on a cluster:\n# pip install x) the rest.\nx: 1\n"
    )
    (folder / "two.yaml").write_text("# A smoke test\n# The recipe builds more.\nx: 1\n")
    (folder / "dot.yaml").write_text("# One sentence.\n# another one\nx: 1\n")
    stage = Stage(name="s", module="m", config_dir=folder)
    assert stage.config_description("cut") == "First part, on a cluster: pip install x) the rest."
    assert stage.config_description("two") == "A smoke test"
    assert stage.config_description("dot") == "One sentence."

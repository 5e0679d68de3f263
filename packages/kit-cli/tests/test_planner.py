"""The stage planner through the real CLI: input types, pinning to vN, dry runs of unpublished
inputs, the shipped config; and on the local Slurm, a job that reads the version pinned at plan
time although `latest` moved before it started."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest

Cli = Callable[..., Any]


def _publish_data(rows: int) -> str:
    """Publish `demo-data` with `rows` training rows in the test's registry; returns its URI."""
    from nemotron.kit.artifacts import SplitJsonlDataArtifact

    root = Path(os.environ["NEMOTRON_ARTIFACTS_ROOT"]).parent / f"data-{rows}"
    root.mkdir(parents=True, exist_ok=True)
    train = root / "train.jsonl"
    train.write_text("{}\n" * rows)
    artifact = SplitJsonlDataArtifact(path=str(root), train_path=str(train), train_count=rows)
    return artifact.save(name="demo-data").uri


def _publish_model(name: str) -> str:
    from nemotron.kit.artifacts import ModelArtifact

    folder = Path(os.environ["NEMOTRON_ARTIFACTS_ROOT"]).parent / name
    folder.mkdir(parents=True, exist_ok=True)
    return ModelArtifact(path=str(folder), step=1).save(name=name).uri


def test_dry_run_of_unpublished_input_shows_the_plan_with_one_warning(cli: Cli) -> None:
    result = cli("demo", "train", "--dry-run", "lr=0.2")
    assert result.code == 0, result.err
    assert "lr: 0.2" in result.out and "-m demo_recipes.train --config" in result.out
    warnings = [line for line in result.err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, result.err
    assert "input data='art://demo-data:latest'" in warnings[0]
    assert "not found" in warnings[0] and warnings[0].endswith("(a real run refuses)")

    real = cli("demo", "train", "lr=0.2")
    assert real.code == 2 and real.err.startswith("Error: input data='art://demo-data:latest'")
    assert not (Path(os.environ["NEMOTRON_ARTIFACTS_ROOT"]).parent / "jobs").exists()


def test_input_of_the_wrong_type_is_refused_even_in_a_dry_run(cli: Cli) -> None:
    uri = _publish_model("demo-model")
    for extra in ((), ("--dry-run",)):
        result = cli("demo", "train", f"data={uri}", *extra)
        assert result.code == 2, (result.out, result.err)
        [line] = result.err.strip().splitlines()
        assert line.startswith("Error: input data='art://demo-model:v1' (SplitJsonlDataArtifact)")
        assert "is a ModelArtifact, expected SplitJsonlDataArtifact" in line


def test_latest_and_aliases_are_pinned_to_the_version_checked(cli: Cli) -> None:
    from nemotron.kit.artifacts import get_registry

    _publish_data(3)
    _publish_data(5)
    get_registry().alias("demo-data", 1, "best")
    for given, pinned in (("art://demo-data:latest", "v2"), ("art://demo-data:best", "v1")):
        result = cli("demo", "train", f"data={given}", "--dry-run")
        assert result.code == 0, result.err
        assert f"# input data: {given} -> art://demo-data:{pinned} (pinned)" in result.out
        command = result.out.strip().splitlines()[-1]
        assert command.endswith(f"data={given} data=art://demo-data:{pinned}")


def test_local_job_gets_the_shipped_config_and_the_pins(cli: Cli, workdir: Path) -> None:
    _publish_data(3)
    result = cli("demo", "train", "steps=1")
    assert result.code == 0, result.err
    assert "step 1 lr=0.01 rows=3" in result.out
    [record] = [json.loads(p.read_text()) for p in workdir.glob(".nemotron/jobs/*/job.json")]
    [(job_side, _copy)] = record["files"].items()
    assert record["command"][-4:] == ["--config", job_side, "steps=1", "data=art://demo-data:v1"]
    assert "demo_recipes/configs" not in " ".join(record["command"])
    resolved = (workdir / ".nemotron/jobs" / record["id"] / "resolved.yaml").read_text()
    assert "data: art://demo-data:v1" in resolved


def test_pins_are_applied_to_the_config_composed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from nemotron.kit import config
    from nemotron.kit.cli import StageOptions, plan_stage

    _publish_data(3)
    monkeypatch.syspath_prepend(str(Path(__file__).parent / "data" / "plugin"))
    stage = importlib.import_module("demo_recipes.cli").app.stages["train"]
    loads: list[Any] = []
    real = config.load_config
    monkeypatch.setattr(config, "load_config", lambda *a, **k: loads.append(a) or real(*a, **k))
    plan = plan_stage(stage, StageOptions(overrides=("steps=1",)))
    assert plan.pins == ("data=art://demo-data:v1",)
    assert (plan.resolved["data"], plan.resolved["steps"]) == ("art://demo-data:v1", 1)
    assert len(loads) == 1  # composed once; the pins go onto that config


def test_stage_launcher_values_are_kit_runs() -> None:
    from nemotron.kit.cli._stage import Launcher as CliLauncher
    from nemotron.kit.run._launchers import Launcher as RunLauncher

    assert get_args(CliLauncher) == get_args(RunLauncher)


@pytest.mark.slurm
def test_slurm_job_reads_the_pinned_version_when_latest_moves_before_it_starts(
    cli: Cli, workdir: Path, cli_env: dict[str, str], slurm_partition: str
) -> None:
    passthrough = {k: cli_env[k] for k in ("PYTHONPATH", "NEMOTRON_ARTIFACTS_ROOT")}
    env_vars = ", ".join(f'{k} = "{v}"' for k, v in passthrough.items())
    gate = workdir / "gate"
    # The job's setup waits for the gate (this Slurm has no SBATCH_HOLD): the stage cannot
    # start, and so cannot read the registry, before `latest` has moved.
    (workdir / "env.toml").write_text(
        f'[cluster]\nexecutor = "slurm"\npartition = "{slurm_partition}"\ntime = "00:05:00"\n'
        f'packager = "none"\nenv_vars = {{ {env_vars} }}\n'
        f'setup = ["while [ ! -e {gate} ]; do sleep 0.2; done"]\n'
    )
    _publish_data(3)
    result = cli("demo", "train", "-b", "cluster", "steps=1")
    assert result.code == 0, (result.out, result.err)
    job_id = result.out.split("submitted ", 1)[1].split()[0]
    record = json.loads((workdir / ".nemotron/jobs" / job_id / "job.json").read_text())
    assert record["command"][-1] == "data=art://demo-data:v1"
    assert _publish_data(5) == "art://demo-data:v2"  # latest moves while the job waits
    gate.touch()

    deadline = time.monotonic() + 240
    status = cli("jobs", "status", job_id)
    while "SUCCEEDED" not in status.out and time.monotonic() < deadline:
        assert "FAILED" not in status.out, cli("jobs", "logs", job_id).out
        time.sleep(2)
        status = cli("jobs", "status", job_id)
    logs = cli("jobs", "logs", job_id).out
    assert "step 1 lr=0.01 rows=3" in logs, logs

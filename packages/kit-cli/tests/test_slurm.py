"""Stages on the local Slurm cluster: attached (--run) and detached (--batch) through the CLI."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]

pytestmark = pytest.mark.slurm


def test_attached_run_streams_logs_and_reports_artifacts(cli: Cli, slurm_env: Path) -> None:
    result = cli("demo", "data", "prep", "run", "--run", "cluster", "rows=2", timeout=300)
    assert result.code == 0, (result.out, result.err)
    assert "art://demo-data:v1" in result.out
    job_id = result.out.split("artifacts produced by ", 1)[1].split(":")[0]
    # kit-run's attached streaming may show the sbatch trace first; the job's log has the output
    assert "wrote 2 rows" in cli("jobs", "logs", job_id).out
    assert f"{job_id}: SUCCEEDED" in cli("jobs", "status", job_id).out


def test_detached_batch_prints_job_id_then_jobs_commands_follow_it(
    cli: Cli, slurm_env: Path
) -> None:
    result = cli("demo", "data", "prep", "run", "-b", "cluster", "rows=5", timeout=300)
    assert result.code == 0, (result.out, result.err)
    job_id = result.out.split("submitted ", 1)[1].split()[0]
    assert f"nemotron jobs logs -f {job_id}" in result.out

    deadline = time.monotonic() + 240
    status = cli("jobs", "status", job_id)
    while "SUCCEEDED" not in status.out and time.monotonic() < deadline:
        assert "FAILED" not in status.out, status.out
        time.sleep(2)
        status = cli("jobs", "status", job_id)
    assert f"{job_id}: SUCCEEDED" in status.out
    logs = cli("jobs", "logs", job_id)
    assert "wrote 5 rows" in logs.out
    listing = cli("artifacts", "list", "demo-data")
    assert job_id in listing.out


def test_job_reads_the_shipped_config_not_the_local_file(
    cli: Cli, slurm_env: Path, workdir: Path
) -> None:
    config = workdir / "shipped.yaml"
    config.write_text("defaults: [_rows]\nfail: false\noutput_dir: ${oc.env:NEMOTRON_DEMO_OUT}/s\n")
    (workdir / "_rows.yaml").write_text("rows: 3\n")
    result = cli("demo", "data", "prep", "run", "-c", str(config), "-b", "cluster", timeout=300)
    assert result.code == 0, (result.out, result.err)
    job_id = result.out.split("submitted ", 1)[1].split()[0]
    config.unlink()  # the job must not need the submit-side files
    (workdir / "_rows.yaml").unlink()

    deadline = time.monotonic() + 240
    status = cli("jobs", "status", job_id)
    while "SUCCEEDED" not in status.out and time.monotonic() < deadline:
        assert "FAILED" not in status.out, (status.out, cli("jobs", "logs", job_id).out)
        time.sleep(2)
        status = cli("jobs", "status", job_id)
    assert f"{job_id}: SUCCEEDED" in status.out
    assert "wrote 3 rows" in cli("jobs", "logs", job_id).out
    record = json.loads((workdir / ".nemotron" / "jobs" / job_id / "job.json").read_text())
    [(job_side, copy)] = record["files"].items()
    assert job_side in record["command"] and str(config) not in record["command"]
    assert job_side.endswith("/configs/nemotron/shipped.yaml") and Path(job_side).is_file()
    assert "rows: 3" in Path(job_side).read_text() == Path(copy).read_text()


def test_an_override_with_interpolation_space_and_quote_reaches_the_job(
    cli: Cli, slurm_env: Path, workdir: Path
) -> None:
    """Overrides are words of the srun line: `${...}`, spaces and quotes reach the job's config."""
    out = '"${oc.env:NEMOTRON_DEMO_OUT}/it\'s two"'  # a Hydra-quoted value
    rows = "rows=${oc.env:NEMOTRON_NO_SUCH_ROWS,3}"
    result = cli("demo", "data", "prep", "run", "--run", "cluster", rows, f"output_dir={out}")
    assert result.code == 0, (result.out, result.err)
    job_id = result.out.split("artifacts produced by ", 1)[1].split(":")[0]
    train = workdir / "out" / "it's two" / "train.jsonl"
    assert f"wrote 3 rows to {train}" in cli("jobs", "logs", job_id).out
    assert len(train.read_text().splitlines()) == 3

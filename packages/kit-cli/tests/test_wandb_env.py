"""env.toml `[wandb]` reaches the job: merged into `run.wandb` of the shipped config, project and
entity in its environment, the API key (from the environment or `wandb login`'s netrc) through
the environment only. The job starts a real offline W&B run (kit-lineage, wandb installed)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.workspace  # the demo job imports kit-lineage's W&B support

Cli = Callable[..., Any]
KEY = "wandbkey0123456789abcdef0123456789abcdef"
ENV = '[wandb]\nproject = "kit-proj"\nentity = "kit-team"\nmode = "offline"\n'


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _written(workdir: Path) -> str:
    return "".join(
        p.read_text(errors="replace") for p in workdir.rglob(".nemotron/**/*") if p.is_file()
    )


@pytest.mark.parametrize("source", ["environment", "netrc"])
def test_wandb_table_and_key_reach_the_job(cli: Cli, workdir: Path, source: str) -> None:
    (workdir / "env.toml").write_text(ENV)
    env = {"HOME": str(workdir), "WANDB_API_KEY": ""}
    if source == "environment":
        env["WANDB_API_KEY"] = KEY
    else:  # what `wandb login` writes
        netrc = workdir / ".netrc"
        netrc.write_text(f"machine api.wandb.ai\n  login user\n  password {KEY}\n")
        netrc.chmod(0o600)
    dry = cli("demo", "wb", "--dry-run", env=env)
    assert dry.code == 0, dry.err
    for line in ("  wandb:", "    group: demo", "    project: kit-proj", "    entity: kit-team"):
        assert f"\n{line}\n" in dry.out, dry.out
    result = cli("demo", "wb", "run.wandb.entity=other", env=env)
    assert result.code == 0, (result.out, result.err)
    assert "wandb run project=kit-proj entity=other mode=offline" in result.out
    assert "wandb env kit-proj other" in result.out
    assert f"wandb key sha256 {_sha(KEY)}" in result.out
    assert KEY not in _written(workdir)


@pytest.mark.slurm
def test_wandb_reaches_a_slurm_job_and_the_key_only_its_environment(
    cli: Cli, workdir: Path, slurm_env: Path
) -> None:
    """On the local Slurm: the job's real (offline) W&B run has env.toml's project/entity, its
    environment the variables; the key went through the secrets file, so neither the batch
    script, slurmctld's saved script/environment, the Slurm logs, nor the records hold it."""
    slurm_env.write_text(slurm_env.read_text() + ENV)
    env = {"HOME": str(workdir), "WANDB_API_KEY": KEY}
    result = cli("demo", "wb", "--run", "cluster", env=env, timeout=300)
    assert result.code == 0, (result.out, result.err)
    [record] = [json.loads(p.read_text()) for p in workdir.glob(".nemotron/jobs/*/job.json")]
    logs = cli("jobs", "logs", record["id"]).out
    assert "wandb run project=kit-proj entity=kit-team mode=offline" in logs
    assert "wandb env kit-proj kit-team" in logs
    assert f"wandb key sha256 {_sha(KEY)}" in logs
    [shipped] = record["files"]
    assert "project: kit-proj" in Path(shipped).read_text()  # run.wandb, merged
    submitted = Path(workdir, ".nemotron", "jobs", record["id"], "submission.sh").read_text()
    assert "export WANDB_PROJECT=kit-proj" in submitted and "WANDB_API_KEY" not in submitted
    spool = Path("/var/spool/slurmctld")
    kept = [*spool.glob(f"hash.*/job.{record['backend_id']}/*"), *Path("/var/log/slurm").rglob("*")]
    assert any(p.name == "environment" for p in kept), "slurmctld's saved environment not found"
    files = [p for p in [*kept, *workdir.rglob("*")] if p.is_file()]
    assert [str(p) for p in files if KEY.encode() in p.read_bytes()] == []


def test_bad_wandb_table_is_one_line_and_env_check_names_it(cli: Cli, workdir: Path) -> None:
    (workdir / "env.toml").write_text('[wandb]\nprojekt = "x"\n')
    result = cli("demo", "wb", "--dry-run")
    assert result.code == 2
    [line] = result.err.strip().splitlines()
    assert line.startswith("Error: env.toml [wandb]: projekt: unknown W&B setting")
    check = cli("env", "check")
    assert check.code == 2 and "[wandb]: projekt: unknown W&B setting" in check.err


def test_without_wandb_nothing_is_sent(cli: Cli, workdir: Path) -> None:
    result = cli("demo", "train", "-c", "tiny", env={"WANDB_API_KEY": KEY})
    assert result.code == 0, result.err
    assert KEY not in _written(workdir)
    [record] = list(workdir.glob(".nemotron/jobs/*/job.json"))
    assert "WANDB" not in record.read_text()

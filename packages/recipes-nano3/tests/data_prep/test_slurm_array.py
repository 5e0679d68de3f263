"""`run.engine=slurm-array`: the tiny pretrain plan as a 2-task job array plus an `afterok` merge
job on a real local Slurm (scripts/local-slurm.sh), against a local run; the dry run; the share."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemotron.recipes.nano3.data_prep import pretrain
from nemotron.recipes.nano3.data_prep._slurm_array import array_share
from nemotron.recipes.nano3.data_prep._sources import Shard

from .test_pretrain import _files

# invoke (NeMo-Run's shell helper) leaves its subprocess pipes to the GC.
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture(autouse=True)
def _collect_leaked_pipes() -> Iterator[None]:
    """Collect them while this module's filter applies, not in a later test."""
    yield
    gc.collect()


def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with a Slurm profile `cluster`, as the working directory."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "env.toml").write_text(  # two tasks per node allowed; each array task runs one
        '[cluster]\nexecutor = "slurm"\naccount = "root"\npartition = "debug"\ntime = "00:05:00"\n'
        "ntasks_per_node = 2\n"
    )
    monkeypatch.chdir(project)
    monkeypatch.setenv("NEMOTRON_ENV_FILE", str(project / "env.toml"))
    monkeypatch.setenv("NEMORUN_HOME", str(tmp_path / "nemorun"))
    return project


def _array_args(out: Path) -> list[str]:
    return [
        "-c",
        "tiny",
        f"output_dir={out}",
        "run.engine=slurm-array",
        "run.profile=cluster",
        "run.array_tasks=2",
    ]


def test_array_share_splits_the_plan_round_robin() -> None:
    shards = [
        Shard(id=f"s{i}", source="a", url="f", format="jsonl", start=i, end=i + 1) for i in range(5)
    ]
    shares = [[s.id for s in array_share(shards, t, 2)] for t in range(2)]
    assert shares == [["s0", "s2", "s4"], ["s1", "s3"]]


def test_dry_run_prints_the_array_and_the_merge_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, monkeypatch)
    assert pretrain.main([*_array_args(tmp_path / "out"), "--dry-run"]) is None
    out = capsys.readouterr().out
    array, merge = out.split("# merge job ")
    assert "#SBATCH --array=0-1" in array
    assert "#SBATCH --job-name=nemotron.nano3-data-prep-pretrain-shards" in array
    assert "run.array_role=task" in array
    assert "--array" not in merge and "run.array_role=merge" in merge
    assert "#SBATCH --dependency='afterok:<nano3-data-prep-pretrain-shards>'" in merge
    assert "#SBATCH --ntasks-per-node=1" in array and "#SBATCH --nodes=1" in array
    # The config is shipped with each job (its job-side copy), not left in the output folder.
    assert not (tmp_path / "out").exists()
    records = [json.loads(p.read_text()) for p in project.glob(".nemotron/jobs/*/job.json")]
    assert [r["state"] for r in records] == ["DRY_RUN", "DRY_RUN"]  # nothing submitted
    for record in records:
        [(job_side, copy)] = record["files"].items()
        assert f"--config {job_side}" in (array if record["name"].endswith("shards") else merge)
        assert "array_tasks: 2" in Path(copy).read_text()


def test_without_a_profile_the_error_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path, monkeypatch)
    args = [a for a in _array_args(tmp_path / "out") if not a.startswith("run.profile")]
    with pytest.raises(SystemExit) as exit_:
        pretrain.main(args)
    assert exit_.value.code == 2
    assert "config key `run.profile`: engine=slurm-array needs" in capsys.readouterr().err


@pytest.mark.slurm
def test_two_task_array_publishes_the_bytes_of_a_local_run(
    slurm_partition: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nemotron.kit.artifacts import PretrainBlendsArtifact

    _project(tmp_path, monkeypatch)
    local = pretrain.main(["-c", "tiny", f"output_dir={tmp_path / 'local'}"])
    merge = pretrain.main([*_array_args(tmp_path / "array"), "run.keep_work=true"])

    assert merge.state == "SUCCEEDED"
    art = PretrainBlendsArtifact.from_uri("art://nano3-pretrain-data:latest")
    assert art.version == local.version + 1
    assert Path(art.path).parent == tmp_path / "array"
    assert art.num_shards == local.num_shards == 2
    assert art.total_tokens == local.total_tokens
    published = {k: v for k, v in _files(tmp_path / "array").items() if ".work" not in k}
    assert published == _files(tmp_path / "local")

    # The ledger holds every shard, each recorded by the array task that ran it.
    records = [json.loads(p.read_text()) for p in (tmp_path / "array/.work").glob("**/done/*.json")]
    assert sorted(r["array_task"] for r in records) == [0, 1]
    assert len({r["array_job"] for r in records}) == 1

    # One sbatch with --array=0-1, the merge after it (afterok on the array's id).
    jobs = {
        json.loads(p.read_text())["name"]: p.parent
        for p in Path(".nemotron/jobs").glob("*/job.json")
    }
    shards_job = json.loads((jobs["nano3-data-prep-pretrain-shards"] / "job.json").read_text())
    assert shards_job["state"] == "SUCCEEDED"
    assert (
        "#SBATCH --array=0-1"
        in (jobs["nano3-data-prep-pretrain-shards"] / "submission.sh").read_text()
    )
    merge_sbatch = (jobs["nano3-data-prep-pretrain-merge"] / "submission.sh").read_text()
    assert f"#SBATCH --dependency=afterok:{shards_job['backend_id']}" in merge_sbatch

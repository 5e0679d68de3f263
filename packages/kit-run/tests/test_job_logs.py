"""`Job.logs()` and streaming read the job's own output files; the scheduler's only as a fallback.

The file layout is NeMo-Run's for Slurm (`log-<name>_<jobid>_<restart>.out` from srun beside
`sbatch_<name>_<jobid>.out`); test_slurm.py checks the same against a real cluster.
"""

from __future__ import annotations

from pathlib import Path

from nemotron.kit.run._job import Job, LogFollower
from nemotron.kit.run._records import JobRecord


def _job(task_dir: Path) -> Job:
    record = JobRecord(
        id="j",
        name="train",
        profile="cluster",
        executor="slurm",
        command=["python", "train.py"],
        launched_by=["nemotron"],
        created_at="2026-01-01T00:00:00+00:00",
        log_files=[str(task_dir / "log-*_42_*.out")],
        scheduler_log_files=[str(task_dir / "sbatch_*_42.out")],
    )
    return Job(record, task_dir / "jobs")


def test_logs_are_the_job_output_in_restart_order(tmp_path: Path) -> None:
    (tmp_path / "sbatch_nemotron.train_42.out").write_text("+ export A=1\n+ srun python\n")
    for restart in (10, 2, 0):
        (tmp_path / f"log-nemotron.train_42_{restart}.out").write_text(f"attempt {restart}")
    job = _job(tmp_path)
    assert job.logs() == "attempt 0\nattempt 2\nattempt 10"
    assert job.logs(tail=1) == "attempt 10"
    assert job.scheduler_log_files() == [str(tmp_path / "sbatch_nemotron.train_42.out")]


def test_logs_fall_back_to_the_scheduler_output_when_the_job_wrote_none(tmp_path: Path) -> None:
    (tmp_path / "sbatch_nemotron.train_42.out").write_text("+ setup.sh\nsetup.sh: not found\n")
    (tmp_path / "log-nemotron.train_42_0.out").write_text("")
    assert _job(tmp_path).logs(tail=1) == "setup.sh: not found"


def test_follower_returns_each_new_complete_line_once(tmp_path: Path) -> None:
    first, second = tmp_path / "log-a_42_0.out", tmp_path / "log-a_42_1.out"
    first.write_text("one\ntw")
    job = _job(tmp_path)
    follower = LogFollower(job.host, job.record.log_files)
    assert follower.new_lines() == ["one"]
    with first.open("a") as fh:
        fh.write("o\n")
    second.write_text("three\nfour")
    assert follower.new_lines() == ["two", "three"]
    assert follower.new_lines() == []
    assert follower.new_lines(final=True) == ["four"]
    with second.open("a") as fh:
        fh.write("five")
    assert follower.rest(quiet=0.01) == ["five"]

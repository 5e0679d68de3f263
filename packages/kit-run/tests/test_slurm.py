"""launch() against a real single-node Slurm with accounting (scripts/local-slurm.sh)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from nemotron.kit.run import get_job, launch
from nemotron.kit.run.errors import JobFailedError

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.usefixtures("slurm_partition"),
    # invoke (NeMo-Run's shell helper) leaves its subprocess pipes to the GC.
    pytest.mark.filterwarnings(
        "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
    ),
]

SECRET = "hf_slurm_secret_5d2e81"
ENV = """
    [cluster]
    executor = "slurm"
    account = "root"
    partition = "debug"
    time = "00:05:00"
    env_vars = { FROM_PROFILE = "yes" }
"""
SHOW = """
    import os, sys
    print("job", sys.argv[1:], os.environ["NEMOTRON_RUN_ID"], os.environ.get("FROM_PROFILE"),
          os.environ.get("HF_TOKEN") == "SECRET", os.environ.get("SLURM_JOB_ID") is not None)
""".replace('"SECRET"', repr(SECRET))


def test_attached_success_and_secret_scan(write_env, script, project: Path) -> None:
    write_env(ENV)
    out: list[str] = []
    job = launch(
        script("show.py", SHOW),
        ["a"],
        {"HF_TOKEN": SECRET},
        "cluster",
        config={"token": SECRET, "lr": 1},
        echo=out.append,
    )
    assert job.state == "SUCCEEDED" and job.record.exit_code == 0
    # The stream and logs() are the job's own output, not the sbatch script's `set -x` trace.
    assert out == [f"job ['a'] {job.id} yes True True"]
    assert job.logs() == out[0]
    trace = "\n".join(Path(path).read_text() for path in job.scheduler_log_files())
    assert "+ srun" in trace and "job exited with code 0" in trace
    sbatch = (job.folder / "submission.sh").read_text()
    assert "#SBATCH --partition=debug" in sbatch and "HF_TOKEN" not in sbatch
    written = [job.folder, Path(job.record.experiment_dir or ""), project]
    files = {p for folder in written for p in folder.rglob("*") if p.is_file()}
    files.discard(project / "show.py")
    assert len(files) > 8
    leaks = [str(p) for p in files if SECRET.encode() in p.read_bytes()]
    assert leaks == []


def test_a_secret_of_the_submitting_shell_reaches_the_job_but_not_slurm_state(
    write_env, script, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sbatch runs here and hands its environment on, which slurmctld saves: a secret-named
    variable of this environment goes through the secrets file instead."""
    write_env(ENV)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    job = launch(script("show.py", SHOW), ["inherited"], profile="cluster", echo=None)
    assert job.logs() == f"job ['inherited'] {job.id} yes True True"
    saved = Path("/var/spool/slurmctld").glob(f"hash.*/job.{job.record.backend_id}/*")
    saved_files = [p for p in saved if p.is_file()]
    assert {p.name for p in saved_files} >= {"environment", "script"}
    assert [str(p) for p in saved_files if SECRET.encode() in p.read_bytes()] == []
    assert os.environ["HF_TOKEN"] == SECRET  # put back after the submission


def test_arguments_reach_the_job_as_given(write_env, script) -> None:
    """The srun line is shell text: `${...}`, spaces and quotes in an argument stay literal."""
    write_env(ENV)
    args = ["split.seed=${oc.env:SEEDX,3}", "name=two words", 'q=it\'s "x"', "$HOME;"]
    job = launch(script("show.py", SHOW), args, profile="cluster", echo=None)
    assert job.logs() == f"job {args!r} {job.id} yes False True"


def test_failure_surfaces_exit_code_and_log_tail(write_env, script) -> None:
    write_env(ENV)
    path = script("bad.py", "import sys\nprint('reading shard 3')\nsys.exit(7)\n")
    with pytest.raises(JobFailedError) as err:
        launch(path, profile="cluster", echo=None)
    assert (err.value.state, err.value.returncode) == ("FAILED", 7)
    assert "reading shard 3" in err.value.log_tail
    assert get_job(err.value.job_id).record.exit_code == 7


def test_detached_then_status_and_logs_from_the_record(write_env, script) -> None:
    write_env(ENV)
    t0 = time.monotonic()
    job = launch(script("show.py", SHOW), ["later"], profile="cluster", detach=True)
    assert time.monotonic() - t0 < 10 and job.record.backend_id
    later = get_job(job.id)
    assert later.wait(timeout=90) == "SUCCEEDED"
    assert f"job ['later'] {job.id} yes" in later.logs()
    assert get_job(job.id).state == "SUCCEEDED"


def test_cancel(write_env, script) -> None:
    write_env(ENV)
    job = launch(
        script("sleep.py", "import time\ntime.sleep(120)\n"), profile="cluster", detach=True
    )
    get_job(job.id).cancel()
    assert get_job(job.id).state == "CANCELLED"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.popen(f"squeue -h -j {job.record.backend_id}").read().strip() == "":
            break
        time.sleep(0.5)
    assert os.popen(f"squeue -h -j {job.record.backend_id}").read().strip() == ""


def test_two_steps_afterok(write_env, script, project: Path) -> None:
    write_env(ENV)
    stamp = project / "order.txt"
    step = script(
        "step.py",
        f"import sys, time\ntime.sleep(float(sys.argv[2]))\nopen({str(stamp)!r}, 'a').write(sys.argv[1] + '\\n')\n",
    )
    first = launch(step, ["first", "3"], profile="cluster", detach=True, name="prep")
    second = launch(
        step, ["second", "0"], profile="cluster", detach=True, name="train", depends_on=[first]
    )
    sbatch = (second.folder / "submission.sh").read_text()
    assert f"--dependency=afterok:{first.record.backend_id}" in sbatch
    assert get_job(second.id).wait(timeout=120) == "SUCCEEDED"
    assert stamp.read_text().split() == ["first", "second"]


def test_a_failed_dependency_cancels_the_waiting_job(write_env, script) -> None:
    write_env(ENV)
    first = launch(script("bad.py", "import sys\nsys.exit(3)\n"), profile="cluster", detach=True)
    second = launch(
        script("never.py", "print('must not run')\n"),
        profile="cluster",
        detach=True,
        depends_on=[first],
    )
    assert get_job(second.id).wait(timeout=90) == "CANCELLED"
    assert get_job(first.id).status() == "FAILED"
    assert "could never start" in get_job(second.id).record.message
    assert os.popen(f"squeue -h -j {second.record.backend_id}").read().strip() == ""

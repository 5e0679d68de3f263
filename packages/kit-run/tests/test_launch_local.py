"""launch() on this machine and as dry runs of every executor kind: real NeMo-Run, nothing mocked."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from nemotron.kit.run import get_job, launch, list_jobs
from nemotron.kit.run._nemo_run import skypilot_available
from nemotron.kit.run.errors import JobFailedError

# torchx's local scheduler (under NeMo-Run's LocalExecutor) leaves its log file handles to the GC.
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)

HELLO = """
    import os, sys
    print("hello", sys.argv[1:], os.environ["NEMOTRON_RUN_ID"], os.environ.get("FROM_CALLER"),
          os.environ.get("FROM_PROFILE"), os.environ.get("RANK"), bool(os.environ.get("HF_TOKEN")))
"""
SECRET = "hf_local_secret_7f3a9c"

ENV = """
    [dev]
    env_vars = { FROM_PROFILE = "yes" }
    [four]
    ntasks_per_node = 4
    [slurm]
    executor = "slurm"
    account = "acct"
    partition = "debug"
    gpus_per_node = 8
    container_image = "nvcr.io/nvidia/nemo:25.07"
    [rayslurm]
    extends = "slurm"
    ray = true
    [docker]
    executor = "docker"
    container_image = "nvcr.io/nvidia/nemo:25.07"
    [lepton]
    executor = "lepton"
    container_image = "nvcr.io/nvidia/nemo:25.07"
    resource_shape = "gpu.8xh100"
    node_group = "ng"
    [dgxcloud]
    executor = "dgxcloud"
    container_image = "nvcr.io/nvidia/nemo:25.07"
    base_url = "https://dgx.example/api/v1"
    kube_apiserver_url = "https://k8s.example"
    project_name = "p"
    pvc_nemo_run_dir = "/pvc/nemo_run"
    pvcs = [{ path = "/pvc", claimName = "claim" }]
"""


def _files_text(folder) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_local_attached_keeps_env_and_records(write_env, script, monkeypatch, project) -> None:
    write_env(ENV)
    path = script("hello.py", HELLO)
    monkeypatch.setenv("FROM_CALLER", "caller")
    lines: list[str] = []
    job = launch(
        path, ["a", "b"], {"HF_TOKEN": SECRET}, "dev", config={"lr": 0.1}, echo=lines.append
    )
    assert job.state == "SUCCEEDED"
    assert lines == [f"hello ['a', 'b'] {job.id} caller yes None True"]
    assert job.folder == project / ".nemotron" / "jobs" / job.id
    record = json.loads((job.folder / "job.json").read_text())
    assert record["command"][-3:] == [path, "a", "b"] and record["profile"] == "dev"
    assert record["experiment_id"] is None and record["pid"] and record["stage_pid"]
    assert record["started_at"] and record["ended_at"] and record["exit_code"] == 0
    assert (job.folder / "resolved.yaml").is_file() and record["config_digest"].startswith(
        "sha256:"
    )
    assert SECRET not in _files_text(job.folder)
    assert [j.id for j in list_jobs()] == [job.id]


def test_local_failure_surfaces_log_tail(write_env, script) -> None:
    write_env(ENV)
    path = script("bad.py", "print('loading'); raise SystemExit('boom: bad input')\n")
    with pytest.raises(JobFailedError) as err:
        launch(path, profile="dev", echo=None)
    assert err.value.state == "FAILED" and "boom: bad input" in err.value.log_tail
    assert get_job(err.value.job_id).state == "FAILED"


def test_local_runs_n_processes(write_env, script) -> None:
    write_env(ENV)
    path = script("hello.py", HELLO)
    lines: list[str] = []
    launch(path, profile="four", echo=lines.append)
    assert sorted(line.split()[-2] for line in lines) == ["0", "1", "2", "3"]


def test_module_target(write_env, project) -> None:
    write_env(ENV)
    (project / "mypkg").mkdir()
    (project / "mypkg" / "__init__.py").write_text("")
    (project / "mypkg" / "tool.py").write_text("import sys; print('module', sys.argv[1:])\n")
    lines: list[str] = []
    launch("mypkg.tool", ["x"], profile="dev", echo=lines.append)
    assert lines == ["module ['x']"]


def test_local_detached_status_logs_and_dependency(write_env, script) -> None:
    write_env(ENV)
    slow = script(
        "slow.py", "import time; print('first', flush=True); time.sleep(1.5); print('done')\n"
    )
    first = launch(slow, profile="dev", detach=True)
    assert first.state == "SUBMITTED" and first.record.pid
    second = launch(script("hello.py", HELLO), profile="dev", detach=True, depends_on=[first])
    again = get_job(second.id)  # as another process would: from the record
    assert again.wait(timeout=60) == "SUCCEEDED"
    assert get_job(first.id).status() == "SUCCEEDED"
    assert "done" in get_job(first.id).logs()
    first_end = get_job(first.id).record.ended_at
    assert first_end is not None and "hello" in again.logs(tail=1)


def test_local_detached_cancel(write_env, script) -> None:
    write_env(ENV)
    job = launch(script("sleep.py", "import time; time.sleep(60)\n"), profile="dev", detach=True)
    job.cancel()
    assert get_job(job.id).status() == "CANCELLED"
    pid = job.record.pid
    assert pid is not None
    for _ in range(50):  # the worker (our child here) and its job are gone
        os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker {pid} still running after cancel")


def test_local_detached_worker_killed_is_failed_even_as_a_zombie(write_env, script) -> None:
    write_env(ENV)
    job = launch(script("sleep.py", "import time; time.sleep(60)\n"), profile="dev", detach=True)
    pid = job.record.pid
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)  # no result recorded; the worker (our child) is not reaped
    try:
        for _ in range(300):
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rpartition(")")[2].split()[0] == "Z":
                    break
            time.sleep(0.05)
        else:
            pytest.fail(f"worker {pid} did not exit after SIGKILL")
        record = get_job(job.id)
        assert record.status() == "FAILED"
        assert record.record.message == "the process running the job exited without a result"
    finally:
        os.waitpid(pid, 0)


@pytest.mark.parametrize("profile", ["dev", "slurm", "rayslurm", "docker", "lepton", "dgxcloud"])
def test_dry_run_renders_and_submits_nothing(write_env, script, profile: str) -> None:
    write_env(ENV)
    path = script("hello.py", HELLO)
    out: list[str] = []
    job = launch(
        path,
        ["--x", "1"],
        {"WANDB_API_KEY": "wandb_dry_secret_91"},
        profile,
        dry_run=True,
        echo=out.append,
    )
    assert job.state == "DRY_RUN" and job.record.handle is None and job.record.backend_id is None
    assert out == [job.rendered]
    rendered = job.rendered or ""
    assert path in rendered and job.id in rendered  # the command and NEMOTRON_RUN_ID
    assert (job.folder / "submission.sh").read_text() == rendered
    assert "wandb_dry_secret_91" not in _files_text(job.folder)
    if profile == "slurm":
        assert "#SBATCH --account=acct" in rendered and "#SBATCH --gpus-per-node=8" in rendered
        assert "--container-image nvcr.io/nvidia/nemo:25.07" in rendered and "torchrun" in rendered
    if profile == "rayslurm":
        assert "ray start --head" in rendered


# SkyPilot's own imports warn about their dependencies (starlette WSGI, pydantic v1 validators).
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_skypilot_dry_run_renders_and_submits_nothing(
    write_env, script, project, commit_project
) -> None:
    if not skypilot_available():
        pytest.skip("[skypilot] SkyPilot is not installed (pip install 'kit-run[skypilot]')")
    commit_project()
    write_env(
        ENV + '\n[sky]\nexecutor = "skypilot"\ncloud = "aws"\ngpus = "H100"\ngpus_per_node = 8\n'
    )
    out: list[str] = []
    job = launch(script("hello.py", HELLO), ["--x", "1"], {}, "sky", dry_run=True, echo=out.append)
    rendered = job.rendered or ""
    assert job.state == "DRY_RUN" and job.record.backend_id is None and out == [rendered]
    assert "hello.py" in rendered and "AWS({'H100': 8})" in rendered

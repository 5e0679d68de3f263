"""Ray on Slurm through the cluster in a box: NeMo-Run's Ray template (`ray.sub.j2`), for real.

A Ray profile (`ray = true`) from the laptop (ssh tunnel to the login node) and from the login
node itself (the local tunnel): the head starts Ray in the image's container (Ray travels with the
job's dependencies: the image has none), the command runs on the head, the job is chained
`afterok` and controlled with `nemotron jobs`, and the secret reaches the command and nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .conftest import SECRET, SECRET_DIGEST, Box, Project, stand_in_checkpoint

pytestmark = [pytest.mark.cluster, pytest.mark.slurm, pytest.mark.slow]

RAY_PROFILE = (
    '\n[box-ray]\nextends = "box"\nray = true\ncpus_per_task = 1\n'
    f'container_image = "{Box.rl_image}"\n'
)

# What `nemotron nano3 pipe` runs (kit-cli's stage planner per step, a kit-run JobChain), for
# two of its steps: the RL data prep, then RL on a Ray profile reading what that step published.
PIPE = """
import sys
import uuid
from nemotron.recipes.nano3.cli import app, prep
from nemotron.recipes.nano3.train._pipe import plan_pipe, run_pipe
from nemotron.recipes.nano3.train.errors import StageFailedError

dry = "--dry-run" in sys.argv
order = [("data-prep-rl", prep.stages["rl"], ()), ("rl", app.stages["rl"], ("run.data",))]
steps = plan_pipe(order, "tiny", profile="box-ray", dry_run=dry)
try:
    run_pipe(steps, "box-ray", dry_run=dry)
except StageFailedError as err:
    sys.exit(f"error: {err}")
"""


def _python(project: Project, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NEMOTRON_ARTIFACTS_ROOT"}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=project.folder,
        env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _record(project: Project, name: str) -> dict:
    [record] = [r for r in project.records() if r["name"] == name and not r["dry_run"]]
    return record


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_rl_on_a_ray_profile_runs_in_the_pipe_after_data_prep(project: Project) -> None:
    box = project.box
    with (project.folder / "env.toml").open("a") as fh:
        fh.write(RAY_PROFILE)
    stand_in_checkpoint(box, "nano3-tiny-sft-model", run_config=True)

    dry = _python(project, PIPE, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "#SBATCH --dependency='afterok:<nano3-pipe-data-prep-rl>'" in dry.stdout
    assert f"export CLUSTER_DIR={box.shared}/jobs/nano3-pipe-rl-" in dry.stdout  # the real dir
    assert f"COMMAND_WORKDIR={box.shared}/jobs/nano3-pipe-rl-" in dry.stdout

    proc = _python(project, PIPE)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "error: nano3 pipe: stage 'rl' ended FAILED" in out and "ray-job.log" in out, out
    prep, rl = _record(project, "nano3-pipe-data-prep-rl"), _record(project, "nano3-pipe-rl")
    assert prep["state"] == "SUCCEEDED" and rl["depends_on"] == [prep["id"]]
    submitted = Path(project.folder, ".nemotron", "jobs", rl["id"], "submission.sh").read_text()
    assert f"#SBATCH --dependency=afterok:{prep['backend_id']}\n" in submitted
    cluster_dir = Path(box.shared, "jobs", rl["id"])
    assert "Ray runtime started." in (cluster_dir / "logs" / "ray-head.log").read_text()
    # on the head, the RL stage imported our code in the image and stopped at our one line
    job_log = (cluster_dir / "logs" / "ray-job.log").read_text()
    assert "error: nano3 rl: NeMo-RL is not importable here" in job_log, job_log
    assert "No module named 'nemo_rl'" in job_log and "Traceback" not in job_log
    assert f"token {SECRET_DIGEST}" in job_log  # the profile's setup ran with the secret

    status = project.nemotron("jobs", "status", rl["id"])
    assert f"{rl['id']}: FAILED" in status.stdout, status.stdout + status.stderr
    logs = project.nemotron("jobs", "logs", rl["id"])
    assert "NeMo-RL is not importable here" in logs.stdout, logs.stderr

    # no secret and no path of this machine anywhere the box keeps things
    mine = {prep["id"], rl["id"]}  # the shared secrets folder also holds other sessions' jobs
    box_side = [
        p
        for p in project.box_files([prep, rl]) + _files(cluster_dir)
        if p.parent.name != "secrets" or p.name in mine
    ]
    assert any(p.name == "environment" for p in box_side)  # slurmctld's saved environment
    records = _files(project.folder / ".nemotron")
    leaks = [str(p) for p in box_side + records if SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert project.host_paths_in(box_side) == {}
    assert not Path(box.shared, ".nemotron", "secrets", rl["id"]).exists()


CHAIN = """
import json, sys
from nemotron.kit.run import JobChain, launch

chain = JobChain("login-ray", echo=print)
chain.submit("prep", "platform", launcher="task")
chain.submit("ray", "platform", launcher="ray")
chain.follow()
print("attached:", launch("platform", profile="login-ray", launcher="ray").state)
slow = launch("platform", profile="login-slow", launcher="task", detach=True)
pending = launch("platform", profile="login-ray", launcher="ray", detach=True, depends_on=[slow])
print(json.dumps({"chain": [job.id for job in chain.jobs], "slow": slow.id, "pending": pending.id}))
"""


def test_a_ray_job_from_the_login_node_chains_and_cancels(project: Project, box: Box) -> None:
    """The local tunnel (nemotron on the login node): sbatch here, the job dir on shared storage."""
    shared = Path(box.shared, "login-ray", uuid.uuid4().hex[:8])
    (shared / "artifacts").mkdir(parents=True)
    (project.folder / "env.toml").write_text(
        f"""
[login-ray]
executor = "slurm"
partition = "debug"
time = "00:10:00"
container_image = "{box.rl_image}"
shared_root = "{shared}"
artifacts_root = "{shared}/artifacts"
ray = true
cpus_per_task = 1
env_vars = {{ HF_TOKEN = "{SECRET}" }}
setup = ['echo "token $(printf %s "$HF_TOKEN" | sha256sum | cut -c1-12)"']

[login-slow]
extends = "login-ray"
setup = ["sleep 120"]
"""
    )
    proc = _python(project, CHAIN)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = json.loads(proc.stdout.strip().splitlines()[-1])
    first, ray = _pair(project, ids)
    assert first["state"] == "SUCCEEDED" and ray["state"] == "SUCCEEDED", proc.stdout
    # attached, the job's output streams here while it runs (the head's command log)
    assert "Linux-" in proc.stdout.split("attached:")[0]  # (the chain's follow prints nothing)
    assert "attached: SUCCEEDED" in proc.stdout
    submitted = Path(project.folder, ".nemotron", "jobs", ray["id"], "submission.sh").read_text()
    assert f"#SBATCH --dependency=afterok:{first['backend_id']}\n" in submitted
    cluster_dir = shared / "experiments" / ray["id"]
    assert "Ray runtime started." in (cluster_dir / "logs" / "ray-head.log").read_text()
    job_log = (cluster_dir / "logs" / "ray-job.log").read_text()
    assert f"token {SECRET_DIGEST}" in job_log and "Linux-" in job_log
    assert SECRET not in "".join(p.read_text(errors="replace") for p in _files(cluster_dir))

    # detached, waiting on a running job: its secrets file waits too, until it is cancelled
    secrets = shared / ".nemotron" / "secrets" / ids["pending"]
    assert secrets.is_file() and secrets.stat().st_mode & 0o777 == 0o600
    status = project.nemotron("jobs", "status", ids["pending"])
    assert f"{ids['pending']}: PENDING" in status.stdout, status.stdout + status.stderr
    assert project.nemotron("jobs", "cancel", ids["pending"]).returncode == 0
    assert not secrets.exists()
    status = project.nemotron("jobs", "status", ids["pending"])
    assert f"{ids['pending']}: CANCELLED" in status.stdout, status.stdout
    assert project.nemotron("jobs", "cancel", ids["slow"]).returncode == 0


def _pair(project: Project, ids: dict) -> tuple[dict, dict]:
    by_id = {r["id"]: r for r in project.records()}
    return by_id[ids["chain"][0]], by_id[ids["chain"][1]]

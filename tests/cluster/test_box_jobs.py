"""`nemotron nano3 ... --run box` from a user's project folder, through the cluster in a box.

Each test is a real run: the CLI on this machine (the laptop), sbatch over ssh on the login node
as `boxuser`, the job in the debootstrap image (Python, nothing of ours), outputs and registry
on the shared folder. The project is a folder outside our repository, a git repo without commits.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .conftest import REPO, SECRET, SECRET_DIGEST, Box, Project, stand_in_checkpoint

pytestmark = [pytest.mark.cluster, pytest.mark.slurm, pytest.mark.slow]


def test_data_prep_pretrain_runs_in_the_image_and_leaks_nothing(project: Project) -> None:
    name = f"box-pretrain-{uuid.uuid4().hex[:8]}"  # a config not published yet: built here
    argv = [
        "nano3",
        "data",
        "prep",
        "pretrain",
        "-c",
        "tiny",
        "--run",
        "box",
        f"artifact_name={name}",
    ]
    proc = project.nemotron(*argv)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    # the profile's setup ran in the container, with the secret in its environment
    assert f"setup: /nemo_run present token {SECRET_DIGEST}" in out
    published = re.search(rf"-> (art://{name}:v1) \((\S+)\)", out)
    assert published, out
    uri, path = published.groups()
    assert path.startswith(f"{project.box.shared}/data/")  # a shared path, not /nemo_run/code
    assert "artifacts produced by" in out and uri in out  # the laptop reads the box's registry

    # the laptop sees what the job published, through the shared mount
    shown = project.nemotron("artifacts", "show", uri)
    assert shown.returncode == 0, shown.stderr
    assert path in shown.stdout
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True)
    assert head.stdout.decode().strip() in shown.stdout  # the shipped code's commit, recorded

    # no secret and no submit-host path anywhere the box keeps things
    [record] = project.records()
    box_side = project.box_files([record])
    job_log = f"_{record['backend_id']}_0.out"
    assert any(p.name.endswith(job_log) for p in box_side), "no job log found"
    assert any(p.name == "environment" for p in box_side), "slurmctld's saved environment not found"
    records = [p for p in (project.folder / ".nemotron").rglob("*") if p.is_file()]
    leaks = [str(p) for p in box_side + records if SECRET.encode() in p.read_bytes()]
    assert leaks == []
    assert project.host_paths_in(box_side) == {}


def test_data_prep_sft_and_rl_publish_to_the_registry_the_laptop_reads(project: Project) -> None:
    for stage, name in (("sft", "nano3-sft-data"), ("rl", "nano3-rl-data")):
        proc = project.nemotron("nano3", "data", "prep", stage, "-c", "tiny", "--run", "box")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"art://{name}:v" in proc.stdout
    listed = project.nemotron("artifacts", "list")
    assert listed.returncode == 0, listed.stderr
    assert "nano3-sft-data" in listed.stdout and "nano3-rl-data" in listed.stdout
    lineage = project.nemotron("artifacts", "lineage", "nano3-sft-data")
    assert lineage.returncode == 0, lineage.stderr
    assert "run nano3-data-prep-sft-" in lineage.stdout


def _job_id(submitted: str, profile: str = "box") -> str:
    match = re.search(rf"submitted (\S+) to profile '{profile}'", submitted)
    assert match, submitted
    return match.group(1)


def test_batch_then_status_and_logs(project: Project) -> None:
    proc = project.nemotron("nano3", "data", "prep", "rl", "-c", "tiny", "--batch", "box")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    job = _job_id(proc.stdout)
    logs = project.nemotron("jobs", "logs", "-f", job)  # follows until the job ends
    assert logs.returncode == 0, logs.stderr
    assert "rl data:" in logs.stdout
    status = project.nemotron("jobs", "status", job)
    assert status.returncode == 0 and f"{job}: SUCCEEDED" in status.stdout, status.stdout


def _submit_slow(project: Project) -> str:
    """A detached job that stays running for two minutes (its setup sleeps); its id."""
    with (project.folder / "env.toml").open("a") as fh:
        fh.write('\n[box-slow]\nextends = "box"\nsetup = ["echo waiting; sleep 120"]\n')
    proc = project.nemotron("nano3", "data", "prep", "rl", "-c", "tiny", "--batch", "box-slow")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _job_id(proc.stdout, "box-slow")


def test_batch_then_cancel(project: Project) -> None:
    job = _submit_slow(project)
    cancel = project.nemotron("jobs", "cancel", job)
    assert cancel.returncode == 0, cancel.stdout + cancel.stderr
    status = project.nemotron("jobs", "status", job)
    assert status.returncode == 1 and f"{job}: CANCELLED" in status.stdout, status.stdout


@pytest.mark.parametrize("stage", ["pretrain", "sft"])
def test_training_starts_in_the_image_and_stops_at_the_missing_library(
    project: Project, stage: str
) -> None:
    prep = project.nemotron("nano3", "data", "prep", stage, "-c", "tiny", "--run", "box")
    assert prep.returncode == 0, prep.stdout + prep.stderr
    if stage == "sft":
        stand_in_checkpoint(project.box, "nano3-tiny-pretrain-model")
    proc = project.nemotron("nano3", stage, "-c", "tiny", "--run", "box")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Traceback" not in out and "No module named 'nemotron" not in out
    assert f"error: nano3 {stage}: Megatron-Bridge is not importable here" in out
    assert "No module named 'megatron'" in out  # our code imported; the image lacks Megatron
    [record] = [r for r in project.records() if r["name"] == f"nano3-{stage}"]
    submitted = Path(project.folder, ".nemotron", "jobs", record["id"], "submission.sh").read_text()
    # outputs and checkpoints on the shared storage: a resubmitted job finds its checkpoints
    assert f"export NEMOTRON_OUTPUT_DIR={project.box.shared}/output\n" in submitted


def test_cancel_before_start_deletes_the_secrets_file(project: Project) -> None:
    running = _submit_slow(project)
    # a job waiting on the first (afterok): pending, its secrets file not read yet
    code = (
        "from nemotron.kit.run import launch\n"
        f"job = launch('json.tool', [], profile='box', depends_on=[{running!r}], detach=True)\n"
        "print(job.id)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NEMOTRON_ARTIFACTS_ROOT"}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=project.folder, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    pending = proc.stdout.split()[-1]
    secrets = Path(project.box.shared, ".nemotron", "secrets", pending)
    assert secrets.is_file() and secrets.stat().st_mode & 0o777 == 0o600
    assert secrets.parent.stat().st_mode & 0o777 == 0o700
    assert project.nemotron("jobs", "cancel", pending).returncode == 0
    assert not secrets.exists()
    assert project.nemotron("jobs", "cancel", running).returncode == 0


def test_the_image_wins_for_a_package_it_has(project: Project) -> None:
    """The box image has Debian's PyYAML 6.0, the lock 6.0.4 (shipped with the job's deps): the
    job gets the image's, as a NeMo container keeps its own torch and numpy; what the image
    lacks (omegaconf) comes from the shipped dependencies."""
    code = "from nemotron.kit.run import launch\nlaunch('pydoc', ['yaml', 'omegaconf.version'], profile='box')\n"
    env = {k: v for k, v in os.environ.items() if k != "NEMOTRON_ARTIFACTS_ROOT"}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=project.folder, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line.strip() for line in proc.stdout.splitlines()]
    files = [lines[i + 1] for i, line in enumerate(lines) if line == "FILE"]
    assert files[0] == "/usr/lib/python3/dist-packages/yaml/__init__.py"
    assert lines[lines.index("VERSION") + 1] == "6.0"
    deps = f"{project.box.shared}/.nemotron/deps/"
    assert files[1].startswith(deps) and files[1].endswith("/omegaconf/version.py")
    # only what jobs import: nothing of the submit side (NeMo-Run, its ssh, kit-run, kit-cli) nor
    # Ray (a data prep stage); typer comes as a dependency of huggingface-hub and gigatoken
    shipped = {p.name for p in Path(files[1]).parents[1].iterdir()}
    assert {"msgspec", "omegaconf", "yaml", "huggingface_hub"} <= shipped
    assert shipped.isdisjoint({"nemo_run", "fabric", "paramiko", "invoke", "ray"})
    code = {p.name for p in Path(project.box.shared, ".nemotron/code").glob("*/nemotron/kit/*")}
    assert code and code.isdisjoint({"run", "cli"})  # kit-run and kit-cli stay here


def _normalized(script: str) -> list[str]:
    """An sbatch script without what differs between any two submits: the experiment folder's
    number and the run id (both made per submit)."""
    script = re.sub(r"(nano3-data-prep-rl)_\d+", r"\1_N", script)
    script = re.sub(r"nano3-data-prep-rl-\d{8}-\d{6}-[0-9a-f]{4}", "RUN_ID", script)
    return script.splitlines()


def test_dry_run_shows_the_script_a_real_submit_sends(project: Project) -> None:
    argv = ["nano3", "data", "prep", "rl", "-c", "tiny", "--run", "box"]
    dry = project.nemotron(*argv, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    shown = dry.stdout.split("# would submit to profile 'box':\n", 1)[1]
    real = project.nemotron(*argv)
    assert real.returncode == 0, real.stdout + real.stderr
    [record] = [r for r in project.records() if not r.get("dry_run")]
    sent = Path(project.folder, ".nemotron", "jobs", record["id"], "submission.sh").read_text()
    assert _normalized(shown) == _normalized(sent)


def test_a_project_folder_without_git_runs_on_the_box(box: Box, tmp_path: Path) -> None:
    project = Project(tmp_path / "no-git", box, git=False)
    proc = project.nemotron("nano3", "data", "prep", "rl", "-c", "tiny", "--run", "box")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "art://nano3-rl-data:v" in proc.stdout
    [record] = project.records()  # recorded in the folder itself
    assert record["state"] == "SUCCEEDED"


def test_a_step_after_a_failed_one_leaves_no_secrets_file(project: Project) -> None:
    """`afterok` on a failed job: Slurm keeps the next one pending forever; kit-run's status
    cancels it ("never starts") and deletes its secrets file, which it never read."""
    code = (
        "import time\n"
        "from nemotron.kit.run import JobChain\n"
        "chain = JobChain('box', detach=True, echo=None)\n"
        "first = chain.submit('fails', 'json.tool', ['/no/such/file.json'])\n"
        "after = chain.submit('after', 'json.tool', ['--help'])\n"
        "first.wait()\n"
        "for _ in range(60):\n"
        "    if after.status() == 'CANCELLED':\n"
        "        break\n"
        "    time.sleep(1)\n"
        "print(first.state, after.id, after.state)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NEMOTRON_ARTIFACTS_ROOT"}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=project.folder, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    first, after, state = proc.stdout.split()[-3:]
    assert (first, state) == ("FAILED", "CANCELLED")
    assert not Path(project.box.shared, ".nemotron", "secrets", after).exists()

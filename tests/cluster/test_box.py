"""The box fails the way a real cluster fails: a task sees the image, the declared mounts, loopback.

Every test is a real `srun` through our SPANK plugin (or an ssh login to the box's login node).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from .conftest import Box

pytestmark = [pytest.mark.cluster, pytest.mark.slurm]


def _probe(box: Box, *options: str, script: str) -> tuple[int, str, str]:
    proc = box.srun("--container-image", box.image, *options, "sh", "-c", script)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def job_dir(box: Box) -> Path:
    folder = Path(box.shared, "tests", uuid.uuid4().hex[:8])
    folder.mkdir(parents=True)
    os.chown(folder, *_ids(box))
    return folder


def _ids(box: Box) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(box.user)
    return entry.pw_uid, entry.pw_gid


def test_task_runs_in_the_image_with_only_declared_mounts(box: Box, job_dir: Path) -> None:
    repo = str(Path(__file__).resolve().parents[2])
    code, out, err = _probe(
        box,
        "--container-mounts",
        f"{job_dir}:/nemo_run,{box.lustre}:{box.lustre}:ro",
        "--container-workdir",
        "/nemo_run",
        "--no-container-mount-home",
        "--container-name",
        "probe",
        script=(
            "echo cwd=$(pwd); echo user=$(id -un); python --version; "
            f"for p in {repo} /root/.cache /home/{box.user} /work; do [ -e $p ] && echo SEEN $p; done; "
            "echo hello > /nemo_run/out.txt; "
            f"touch {box.lustre}/x 2>/dev/null || echo lustre-ro; "
            "python3 -c 'import msgspec' 2>/dev/null && echo HAS-MSGSPEC; "
            "python3 -c 'import nemotron' 2>/dev/null && echo HAS-NEMOTRON; true"
        ),
    )
    assert code == 0, err
    assert "cwd=/nemo_run" in out
    assert f"user={box.user}" in out
    assert "Python 3." in out
    assert "SEEN" not in out, out  # the checkout, $HOME and the submit host's folders are gone
    assert "HAS-" not in out  # the image has Python, nothing of ours
    assert "lustre-ro" in out
    assert (job_dir / "out.txt").read_text() == "hello\n"  # the declared mount is the real folder


def test_submit_host_tmp_is_not_the_task_tmp(box: Box, tmp_path: Path) -> None:
    marker = Path("/tmp", f"box-marker-{uuid.uuid4().hex[:8]}")
    marker.write_text("x")
    try:
        code, out, err = _probe(box, script=f"[ -e {marker} ] && echo SEEN; echo done")
    finally:
        marker.unlink()
    assert code == 0, err
    assert out.strip() == "done"


def test_compute_has_only_loopback(box: Box) -> None:
    script = (
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; "
        'python3 -c "import socket; s=socket.socket(); s.settimeout(2); '
        "s.connect(('127.0.0.1', 6817))\" 2>/dev/null && echo REACHED-SLURMCTLD; true"
    )
    code, out, err = _probe(box, script=script)
    assert code == 0, err
    assert out.split() == ["lo"]  # no way out, not even to the host's own services


def test_unknown_image_fails_the_task(box: Box) -> None:
    proc = box.srun("--container-image", "docker.io/library/ubuntu:24.04", "sh", "-c", "echo RAN")
    assert proc.returncode != 0
    assert "RAN" not in proc.stdout
    assert "docker.io/library/ubuntu:24.04 is not in" in proc.stderr


def test_missing_mount_source_fails_the_task(box: Box) -> None:
    code, out, err = _probe(box, "--container-mounts", "/no/such/folder:/data", script="echo RAN")
    assert code != 0
    assert "RAN" not in out
    assert "mount source /no/such/folder does not exist" in err


def test_without_an_image_a_task_runs_on_the_host(box: Box) -> None:
    proc = box.srun("sh", "-c", f"[ -d {box.shared} ] && echo host-fs")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "host-fs"


def test_login_node_sees_its_own_filesystem(box: Box) -> None:
    """The login node has the shared folder at the same path, its own $HOME and /tmp, and none
    of this machine's checkout, $HOME or /tmp (scripts/box/login-root.sh)."""
    marker = uuid.uuid4().hex[:8]
    own = [Path("/tmp", f"submit-side-{marker}"), Path("/home", box.user, f"submit-side-{marker}")]
    for path in own:
        path.write_text("x")
    repo = Path(__file__).resolve().parents[2]
    try:
        seen = box.ssh(
            f"for p in {repo} {Path.home()} {' '.join(map(str, own))}; do "
            "[ -e $p ] && echo SEEN $p; done; "
            f"ls -d {box.shared}/jobs; echo login-only > $HOME/login-{marker}; "
            f"echo x > /tmp/login-{marker} && echo own-tmp"
        )
    finally:
        for path in own:
            path.unlink()
    assert seen.returncode == 0, seen.stderr
    assert "SEEN" not in seen.stdout, seen.stdout
    assert seen.stdout.split() == [f"{box.shared}/jobs", "own-tmp"]
    assert not Path(f"/tmp/login-{marker}").exists()  # its /tmp is not this machine's
    assert not Path(f"/home/{box.user}/login-{marker}").exists()  # nor its $HOME
    assert box.ssh(f"cat $HOME/login-{marker}").stdout == "login-only\n"


def test_login_node_submits_as_its_own_user(box: Box) -> None:
    proc = box.ssh("echo home=$HOME; id -un; sbatch --version")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert lines[:2] == [f"home=/home/{box.user}", box.user]
    assert lines[2] == "slurm-wlm"


def test_a_named_container_is_joined_by_later_steps_of_its_job(box: Box, job_dir: Path) -> None:
    """What NeMo-Run's Ray template (ray.sub.j2) asks of srun, scontrol and the container plugin.

    The head starts in a named container (pmix, `-A=`/`-p=` inside the allocation, a writable
    `/`); later steps name it without an image or mounts and join it: they see its files and
    reach its loopback server; a name nothing runs under fails like pyxis.
    """
    script = job_dir / "ray-like.sub"
    script.write_text(
        f"""#!/bin/bash
#SBATCH --output={job_dir}/out.txt
set -u
srun --container-image={box.image} --container-name=head --no-container-mount-home \\
  --mpi=pmix -A= -p=debug --container-mounts={job_dir}:{job_dir} --container-workdir={job_dir} \\
  --nodes=1 --ntasks=1 bash -c 'echo head > /marker && touch STARTED && \\
  exec python3 -m http.server 8765 --bind 127.0.0.1' &
for _ in $(seq 60); do srun --overlap --ntasks=1 test -f {job_dir}/STARTED && break; sleep 1; done
sleep 1
srun --overlap --container-name=head --gpus=0 --ntasks=1 bash -c 'echo "cwd=$PWD marker=$(cat /marker)"; \\
  python3 -c "import urllib.request as u; print(\\"http\\", u.urlopen(\\"http://127.0.0.1:8765\\").status)"'
srun --overlap --container-name=nothing --ntasks=1 true; echo "unknown=$?"
echo "cwd-json=$(scontrol show job $SLURM_JOB_ID --json | jq -r '.jobs[].current_working_directory')"
"""
    )
    os.chown(script, *_ids(box))
    import subprocess

    proc = subprocess.run(
        ["runuser", "-u", box.user, "--", "sbatch", "--wait", "--time=2", str(script)],
        capture_output=True, text=True, timeout=180, cwd=job_dir, check=False,
    )  # fmt: skip
    out = (job_dir / "out.txt").read_text()
    assert "cwd=/ marker=head" in out, out
    assert "http 200" in out, out
    assert "unknown=125" in out and "no container named nothing runs in this job" in out, out
    assert f"cwd-json={job_dir}" in out, out
    assert proc.returncode == 0, proc.stderr

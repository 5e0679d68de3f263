"""launch() through an ssh tunnel (NeMo-Run's SSHTunnel) to the real local Slurm.

A private sshd on localhost (scripts/local-sshd.sh) stands for the cluster's login node: code
and job files go over rsync/ssh into `remote_job_dir`, sbatch/sacct/squeue/scancel run in ssh
sessions and logs are read with SFTP. The SFTP server's own log shows which bytes were read.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nemotron.kit.run import get_job, launch
from nemotron.kit.run._records import JobRecord, save_record
from nemotron.kit.run.errors import ExecutorError, JobFailedError

if TYPE_CHECKING:
    from conftest import SSHLogin  # the fixture's type (conftest is not importable at run time)

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.usefixtures("slurm_partition"),
    # invoke/paramiko (NeMo-Run's shell and ssh helpers) leave pipes and sockets to the GC.
    pytest.mark.filterwarnings(
        "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
    ),
]

SECRET = "hf_ssh_secret_90ab7c"
SECRET_DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()[:12]
STEPS = """
    import hashlib, os, sys, time
    token = os.environ.get("HF_TOKEN", "").encode()
    print("secret", hashlib.sha256(token).hexdigest()[:12], os.environ.get("FROM_PROFILE"))
    for i in range(3):
        time.sleep(1.2)
        print("step", i, sys.argv[1:], flush=True)
"""


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """The cluster-side job folder (`remote_job_dir`), apart from this side's NeMo-Run home."""
    return tmp_path / "cluster-jobs"


@pytest.fixture
def ssh_env(write_env, ssh_login: SSHLogin, remote: Path) -> SSHLogin:
    """env.toml with a `cluster` profile that submits through the ssh tunnel, shipping *.py."""
    write_env(f"""
        [cluster]
        executor = "slurm"
        account = "root"
        partition = "debug"
        time = "00:05:00"
        tunnel = "ssh"
        host = "{ssh_login.host}"
        port = {ssh_login.port}
        user = "{ssh_login.user}"
        identity = "{ssh_login.identity}"
        remote_job_dir = "{remote}"
        packager = "pattern"
        package_patterns = ["*.py"]
        env_vars = {{ FROM_PROFILE = "yes" }}
    """)
    return ssh_login


def _sftp_reads(login: SSHLogin, path: str) -> list[int]:
    """Bytes the SFTP server sent for `path`, one entry per time the file was opened."""
    pattern = re.compile(rf'^close "{re.escape(path)}" bytes read (\d+) written 0$')
    lines = login.sftp_log.read_text().splitlines()
    return [int(m.group(1)) for m in map(pattern.match, lines) if m]


def test_attached_job_streams_its_log_over_ssh(ssh_env: SSHLogin, script, remote: Path) -> None:
    out: list[str] = []
    job = launch(script("steps.py", STEPS), ["a"], {"HF_TOKEN": SECRET}, "cluster", echo=out.append)
    assert job.state == "SUCCEEDED" and job.record.exit_code == 0
    assert out == [f"secret {SECRET_DIGEST} yes", *(f"step {i} ['a']" for i in range(3))]
    assert job.record.tunnel is not None and job.record.tunnel["port"] == ssh_env.port
    (log,) = job.log_files()
    assert log.startswith(f"{remote}/")  # the cluster-side file, read over ssh
    assert job.logs(tail=1) == "step 2 ['a']"
    # Streaming read the file piece by piece, each byte once; logs() then read it whole.
    *streamed, whole = _sftp_reads(ssh_env, log)
    size = Path(log).stat().st_size
    assert len(streamed) >= 2 and sum(streamed) == size and whole == size
    # The secret reached the job through sbatch's environment only.
    sbatch = (job.folder / "submission.sh").read_text()
    assert "FROM_PROFILE" in sbatch and "HF_TOKEN" not in sbatch
    written = [job.folder, Path(job.record.experiment_dir or ""), remote]
    files = {p for folder in written for p in folder.rglob("*") if p.is_file()}
    assert len(files) > 8
    assert [str(p) for p in files if SECRET.encode() in p.read_bytes()] == []


def test_failure_carries_the_log_tail_read_over_ssh(ssh_env: SSHLogin, script) -> None:
    path = script("bad.py", "import sys\nprint('reading shard 3', flush=True)\nsys.exit(7)\n")
    with pytest.raises(JobFailedError) as err:
        launch(path, profile="cluster", echo=None)
    assert (err.value.state, err.value.returncode) == ("FAILED", 7)
    assert "reading shard 3" in err.value.log_tail
    job = get_job(err.value.job_id)
    assert job.record.message == "reading shard 3"
    (log,) = job.log_files()
    assert _sftp_reads(ssh_env, log)


def test_detached_job_read_later_from_its_record(ssh_env: SSHLogin, script) -> None:
    job = launch(script("steps.py", STEPS), ["later"], profile="cluster", detach=True)
    assert job.record.backend_id and job.state == "SUBMITTED"
    later = get_job(job.id)
    assert later.status() in ("PENDING", "RUNNING", "SUCCEEDED")
    assert later.wait(timeout=90) == "SUCCEEDED"
    assert later.logs(tail=1) == "step 2 ['later']"
    assert get_job(job.id).state == "SUCCEEDED"


def test_cancel_over_ssh(ssh_env: SSHLogin, script) -> None:
    job = launch(
        script("sleep.py", "import time\ntime.sleep(120)\n"), profile="cluster", detach=True
    )
    get_job(job.id).cancel()
    assert get_job(job.id).state == "CANCELLED"
    squeue = ["squeue", "-h", "-j", str(job.record.backend_id)]
    deadline = time.monotonic() + 30
    while subprocess.run(squeue, capture_output=True, text=True).stdout.strip():
        assert time.monotonic() < deadline, "scancel over ssh did not stop the job"
        time.sleep(0.5)


def _ssh_record(tmp_path: Path, **tunnel: object) -> JobRecord:
    record = JobRecord(
        id="unreachable",
        name="x",
        profile="cluster",
        executor="slurm",
        command=["python", "x.py"],
        launched_by=["test"],
        created_at="2026-01-01T00:00:00+00:00",
        state="RUNNING",
        backend_id="1",
        tunnel={"kind": "ssh", "host": "localhost", "user": "root", "job_dir": "/x", **tunnel},
    )
    save_record(record, tmp_path / "jobs")
    return record


def test_unreachable_or_refused_host_is_one_clear_error(
    ssh_login: SSHLogin, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger], check=True)
    cases = {1: None, ssh_login.port: str(stranger)}  # nothing listens on 1; a key not authorized
    for port, identity in cases.items():
        _ssh_record(tmp_path, port=port, identity=identity)
        with pytest.raises(ExecutorError, match=rf"cannot reach root@localhost:{port} over ssh"):
            get_job("unreachable", tmp_path / "jobs").status()

"""The login node's host key is checked against known_hosts (NeMo-Run's tunnel trusts any)."""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from nemotron.kit.run._hosts import ssh_tunnel
from nemotron.kit.run.errors import ExecutorError

from .conftest import Box, Project

pytestmark = [pytest.mark.cluster, pytest.mark.slurm]


def _settings(box: Box, known_hosts: Path | str) -> dict[str, object]:
    return {
        "host": box.host, "port": box.port, "user": box.user, "identity": box.identity,
        "job_dir": f"{box.shared}/jobs", "known_hosts": str(known_hosts),
    }  # fmt: skip


def test_known_key_connects(box: Box) -> None:
    tunnel = ssh_tunnel(_settings(box, box.known_hosts))
    tunnel.connect()
    assert tunnel.run("id -un").stdout.strip() == box.user
    tunnel.cleanup()


def test_unknown_key_is_one_error_saying_how_to_trust_it(box: Box, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(ExecutorError) as err:
        ssh_tunnel(_settings(box, empty)).connect()
    message = str(err.value)
    assert f"the host key of [{box.host}]:{box.port} is not in {empty}" in message
    assert f"ssh-keyscan -p {box.port} {box.host} >> {empty}" in message
    assert empty.read_text() == ""  # nothing was added behind the user's back


def test_changed_key_is_refused(box: Box, tmp_path: Path) -> None:
    stale = tmp_path / "known_hosts"
    stale.write_text(_other_key_line(box, tmp_path))
    with pytest.raises(ExecutorError, match=r"the host key of \[localhost\]:2223 differs from"):
        ssh_tunnel(_settings(box, stale)).connect()


def test_a_launch_to_an_unknown_host_submits_nothing(project: Project, tmp_path: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with (project.folder / "env.toml").open("a") as fh:
        fh.write(f'\n[box-unknown]\nextends = "box"\nknown_hosts = "{empty}"\n')
    proc = project.nemotron("nano3", "data", "prep", "rl", "-c", "tiny", "--run", "box-unknown")
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "is not in" in errors[0] and "ssh-keyscan" in errors[0]
    assert "Traceback" not in proc.stderr
    [record] = [json.loads(p.read_text()) for p in project.folder.glob(".nemotron/jobs/*/job.json")]
    assert record["state"] == "FAILED" and record["backend_id"] is None  # no Slurm job


@pytest.mark.filterwarnings(  # invoke (fabric's local runner) leaves its pipes to the GC
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)
def test_rsync_checks_the_host_key_in_the_profiles_known_hosts(box: Box, tmp_path: Path) -> None:
    """NeMo-Run's own rsync (job dirs, our code) through our login: its ssh reads the profile's
    file, not this machine's (/etc/ssh/ssh_known_hosts may well hold the right key)."""
    from nemo_run.core.tunnel.rsync import rsync

    known = tmp_path / "known_hosts"
    known.write_text(Path(box.known_hosts).read_text())
    tunnel = ssh_tunnel(_settings(box, known))
    tunnel.connect()
    source = tmp_path / "payload"
    source.mkdir()
    (source / "a.txt").write_text("a")
    target = Path(box.shared, "jobs", f"rsync-test-{uuid.uuid4().hex[:8]}")
    try:
        rsync(tunnel.session, f"{source}/", f"{target}/good")
        assert (target / "good" / "a.txt").read_text() == "a"
        known.write_text(_other_key_line(box, tmp_path))  # the profile's file now says otherwise
        with pytest.raises(Exception, match="Host key verification failed"):
            rsync(tunnel.session, f"{source}/", f"{target}/bad")
        assert not (target / "bad" / "a.txt").exists()
    finally:
        tunnel.cleanup()
        shutil.rmtree(target, ignore_errors=True)
        gc.collect()  # the failed run's pipes, while this test's warning filter holds


def _other_key_line(box: Box, tmp_path: Path) -> str:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    key = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    return f"[{box.host}]:{box.port} {key}\n"

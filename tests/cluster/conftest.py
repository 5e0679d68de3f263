"""The cluster in a box (`scripts/local-cluster.sh`), started once per session.

Tests here skip with `[cluster]` where the box cannot start (not root, no apt-get); CI lists
`cluster` in NEMOTRON_REQUIRE, which turns those skips into failures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "local-cluster.sh"


@dataclass(frozen=True)
class Box:
    """Where the box's pieces are (the defaults of scripts/local-cluster.sh)."""

    host: str = "localhost"
    port: int = 2223
    user: str = "boxuser"
    identity: str = "/run/nemotron-box/login/id_ed25519"
    known_hosts: str = "/run/nemotron-box/known_hosts"
    lustre: str = "/srv/box-lustre"
    image: str = "nvcr.io/nvidia/nemo:25.07"

    @property
    def shared(self) -> str:
        """The login user's folder on the shared storage."""
        return f"{self.lustre}/{self.user}"

    def srun(self, *args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
        """`srun ARGS` as the box's user (what a job step on a compute node gets)."""
        cwd = cwd or self.shared
        return subprocess.run(
            ["runuser", "-u", self.user, "--", "srun", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=cwd,
            env={**os.environ, "PWD": cwd},
            check=False,
        )

    def ssh(self, command: str) -> subprocess.CompletedProcess[str]:
        """`command` on the login node, over ssh with the box's client key."""
        return subprocess.run(
            [
                "ssh", "-p", str(self.port), "-i", self.identity, "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
                f"{self.user}@{self.host}", command,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )  # fmt: skip


@pytest.fixture(scope="session")
def box() -> Box:
    """Start (idempotently) the cluster in a box; skip with `[cluster]` where it cannot run."""
    if os.geteuid() != 0:
        pytest.skip("[cluster] needs root (namespaces, Slurm, sshd) to start the box")
    if not shutil.which("apt-get") and not shutil.which("debootstrap"):
        pytest.skip("[cluster] no apt-get to install debootstrap/libslurm-dev here")
    proc = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=1200, check=False
    )
    if proc.returncode in (3, 4):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        pytest.skip(f"[cluster] local-cluster.sh could not start the box: {' '.join(tail)}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Box()

"""The cluster in a box (`scripts/local-cluster.sh`), started once per session.

Tests here skip with `[cluster]` where the box cannot start (not root, no apt-get); CI lists
`cluster` in NEMOTRON_REQUIRE, which turns those skips into failures.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    image: str = "nemotron/mbridge:0.6.2"
    rl_image: str = "nemotron/nemo-rl:v0.7.0"
    profile: str = "/run/nemotron-box/env.toml"

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


SECRET = f"hf_box_secret_{uuid.uuid4().hex[:8]}"  # per session: runs sharing the box differ
SECRET_DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()[:12]
NEMOTRON = str(Path(sys.executable).with_name("nemotron"))

EXTRA_KEYS = """\
env_vars = {{ HF_TOKEN = "{secret}" }}
setup = [
  'echo "setup: /nemo_run $(test -d /nemo_run && echo present) token $(printf %s "$HF_TOKEN" | sha256sum | cut -c1-12)"',
]
"""


class Project:
    """A user's project folder with a `box` profile; runs the `nemotron` CLI in it."""

    def __init__(self, folder: Path, box: Box, *, git: bool = True) -> None:
        self.folder = folder
        self.box = box
        folder.mkdir(parents=True, exist_ok=True)
        # the box's own profile (its last table is [box]), plus a secret and a setup line
        profile = Path(box.profile).read_text() + EXTRA_KEYS.format(secret=SECRET)
        (folder / "env.toml").write_text(profile)
        if git:  # a repo without commits
            subprocess.run(["git", "init", "-q", str(folder)], check=True)

    def records(self) -> list[dict[str, Any]]:
        """The job records of this project (`.nemotron/jobs/*/job.json`)."""
        return [json.loads(p.read_text()) for p in self.folder.glob(".nemotron/jobs/*/job.json")]

    def box_files(self, records: list[dict[str, Any]]) -> list[Path]:
        """What the box keeps of these jobs: their job dirs, the registry, outputs, secrets
        folder, slurmctld's saved script and environment, the Slurm logs."""
        box = self.box
        roots = [Path(box.shared, d) for d in ("artifacts", "data", ".nemotron/secrets")]
        jobs, spool = Path(box.shared, "jobs"), Path("/var/spool/slurmctld")
        roots += [p for r in records for p in jobs.glob(f"*/{r['experiment_id']}")]
        roots += [p for r in records for p in spool.glob(f"hash.*/job.{r['backend_id']}")]
        roots += [Path("/var/log/slurm")]
        files = [p for r in roots if r.exists() for p in ([r] if r.is_file() else r.rglob("*"))]
        return [p for p in files if p.is_file()]

    def host_paths_in(self, files: list[Path]) -> dict[str, list[str]]:
        """Files (outside the shared Slurm logs) naming this machine's paths: project, repo, $HOME."""
        host_paths = [str(self.folder), str(REPO), str(Path.home())]
        seen = {
            str(p): [h for h in host_paths if h.encode() in p.read_bytes()]
            for p in files
            if not str(p).startswith("/var/log/")
        }
        return {p: h for p, h in seen.items() if h}

    def nemotron(
        self, *args: str, timeout: int = 300, hiding: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`nemotron ARGS` in the project; `hiding` a folder makes it empty for this run only
        (a mount namespace of its own): e.g. a folder of the shared storage this laptop lacks."""
        env = {k: v for k, v in os.environ.items() if k != "NEMOTRON_ARTIFACTS_ROOT"}
        hide = ["unshare", "--mount", "--propagation", "private", "sh", "-c"]
        hide += ['mount -t tmpfs hidden "$0" && exec "$@"', hiding] if hiding else []
        return subprocess.run(
            [*(hide if hiding else []), NEMOTRON, *args],
            cwd=self.folder,
            env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def project(box: Box, tmp_path: Path) -> Project:
    return Project(tmp_path / "my-project", box)


def stand_in_checkpoint(box: Box, name: str, *, run_config: bool = False) -> None:
    """A model artifact `name` in the box's registry (training cannot run here: no GPU).

    A real `ModelArtifact` publish of a folder on the shared storage, owned by the box's user;
    `run_config`: the step folder has the `run_config.yaml` a Megatron-Bridge checkpoint has
    (what the RL stage checks before NeMo-RL builds its policy from it).
    """
    folder = Path(box.shared, "stand-in", uuid.uuid4().hex[:8], "iter_0000020")
    folder.mkdir(parents=True)
    (folder / "README").write_text("stand-in checkpoint: the box has no GPU to pretrain\n")
    if run_config:
        (folder / "run_config.yaml").write_text("# stand-in: no model was trained here\n")
    code = (
        "from nemotron.kit.artifacts import ModelArtifact\n"
        f"ModelArtifact(path={str(folder)!r}, step=20).save(name={name!r})\n"
    )
    env = {**os.environ, "NEMOTRON_ARTIFACTS_ROOT": f"{box.shared}/artifacts"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    for path in (folder.parents[1], Path(box.shared, "artifacts")):
        shutil.chown(path, box.user, box.user)
        for sub in path.rglob("*"):
            shutil.chown(sub, box.user, box.user)

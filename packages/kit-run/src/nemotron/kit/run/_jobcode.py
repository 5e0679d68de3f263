"""Our code and its job-side dependencies, for container jobs on nodes without internet.

The image has Python but nothing of nemotron-kit. Before a container job is submitted:
- the workspace's job-side members (`JOB_MEMBERS`: not kit-run, kit-cli or NeMo-Run) are built
  into wheels from the working tree (uncommitted edits included: the job runs what you see) and
  installed for the image's Python into `code/<digest of the wheels>`;
- the lock's dependencies of those members go into `deps/<digest of the lock and extras>`
  (extras: `ray` for a Ray job: the image has no Ray; its `bin/ray` then runs the image's Python);
both with `uv pip install --target` (uv's cache: offline once cached), kept here under
`~/.cache/nemotron/jobcode` and uploaded once to `<shared_root>/.nemotron/` on the cluster.

The job's `PYTHONPATH` is our code, first; the dependencies come after the image's own packages
(the code folder's `sitecustomize.py`, `_job_sitecustomize.py`, appends them): the image wins
for what it has (a NeMo container's torch, numpy, ...), the shipped folder fills in the rest.
Console scripts of the dependencies (`ray`) are reached through `PATH` (`remote_bin`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nemotron.kit.run.errors import ExecutorError

__all__ = ["JOB_MEMBERS", "JobCode", "prepare_job_code", "upload_job_code"]

JOB_MEMBERS = ("kit-artifacts", "kit-config", "kit-lineage", "recipes-nano3")
"""Workspace members a job imports; kit-run and kit-cli stay on the submit side."""
_PRUNED = ("kit-run", "kit-cli")
_PLATFORM = {"x86_64": "x86_64-manylinux_2_28", "aarch64": "aarch64-manylinux_2_28"}
_SITECUSTOMIZE = Path(__file__).with_name("_job_sitecustomize.py")


@dataclass(frozen=True)
class JobCode:
    """The code and dependency trees of one submission, here and on the cluster."""

    code_key: str
    deps_key: str
    local_code: Path
    local_deps: Path
    commit: str | None = None
    """The workspace's HEAD (None outside git)."""
    dirty: bool = False
    """Whether the shipped members have uncommitted edits (they are shipped as they are)."""

    def remote_code(self, shared_root: str) -> str:
        return f"{shared_root}/.nemotron/code/{self.code_key}"

    def remote_deps(self, shared_root: str) -> str:
        return f"{shared_root}/.nemotron/deps/{self.deps_key}"

    def remote_bin(self, shared_root: str) -> str:
        """The dependencies' console scripts (`ray` for a Ray job) on the cluster."""
        return f"{self.remote_deps(shared_root)}/bin"

    def job_env(self, shared_root: str) -> dict[str, str]:
        """The job's PYTHONPATH (our code), its dependencies (after the image's packages: see
        `_job_sitecustomize.py`) and the code's git state."""
        env = {
            "PYTHONPATH": self.remote_code(shared_root),
            "NEMOTRON_JOB_DEPS": self.remote_deps(shared_root),
            "PYTHONNOUSERSITE": "1",
        }
        if self.commit:
            env |= {"NEMOTRON_GIT_COMMIT": self.commit, "NEMOTRON_GIT_DIRTY": str(int(self.dirty))}
        return env


def workspace_root() -> Path:
    """The uv workspace this kit-run runs from (the job's code is built from it)."""
    here = Path(__file__).resolve()
    for folder in here.parents:
        if (folder / "uv.lock").is_file() and (folder / "packages" / "kit-run").is_dir():
            return folder
    raise ExecutorError(
        "container jobs ship nemotron-kit built from its uv workspace; "
        "run nemotron from a checkout (`uv run nemotron ...` there, or its .venv/bin/nemotron)"
    )


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base, "nemotron", "jobcode")


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        raise ExecutorError(
            "container jobs need `uv` on PATH to build the job's code (pip install uv)"
        )
    return uv


def _run(args: list[str], cwd: Path, what: str) -> None:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, timeout=900)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        raise ExecutorError(f"{what} failed: {' '.join(tail) or f'exit {proc.returncode}'}")


def _wheels_digest(wheels: list[Path], extra: bytes = b"") -> str:
    """Digest of what the wheels hold (names and bytes), not of their zip timestamps."""
    h = hashlib.sha256(extra)
    for wheel in sorted(wheels):
        with zipfile.ZipFile(wheel) as zf:
            for name in sorted(zf.namelist()):
                h.update(name.encode() + b"\0" + hashlib.sha256(zf.read(name)).digest())
    return h.hexdigest()[:16]


def _install(
    target: Path, items: list[str], python: str, root: Path, what: str, top: bytes = b""
) -> None:
    """`uv pip install --target` for the image's Python; the folder appears complete or not at all.

    Args:
        top: A `sitecustomize.py` for the top of the folder (the code's; none for dependencies).
    """
    if target.is_dir():
        return
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    platform = _PLATFORM.get(os.uname().machine, "x86_64-manylinux_2_28")
    try:
        _run(
            [_uv(), "pip", "install", "--quiet", "--no-deps", "--target", str(tmp),
             "--python-version", python, "--python-platform", platform, *items],
            root,
            what,
        )  # fmt: skip
        if top:
            (tmp / "sitecustomize.py").write_bytes(top)
        _image_python_scripts(tmp / "bin")
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _image_python_scripts(folder: Path) -> None:
    """Console scripts run the image's `python3`, not the interpreter uv installed them with."""
    for script in folder.glob("*") if folder.is_dir() else ():
        lines = script.read_bytes().split(b"\n", 1)
        if len(lines) == 2 and lines[0].startswith(b"#!") and b"python" in lines[0]:
            script.write_bytes(b"#!/usr/bin/env python3\n" + lines[1])


def prepare_job_code(python: str | None = None, *, extras: tuple[str, ...] = ()) -> JobCode:
    """Build (or reuse) this workspace's job code and dependency trees for Python `python`.

    Args:
        python: The image's Python as `major.minor` (default: this interpreter's).
        extras: Extras of the recipes member the job needs besides its base dependencies
            (`("ray",)` for a Ray job).
    """
    python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    root = workspace_root()
    cache = _cache_dir() / f"py{python}"
    (cache / "code").mkdir(parents=True, exist_ok=True)
    (cache / "deps").mkdir(parents=True, exist_ok=True)

    lock = (root / "uv.lock").read_bytes()
    salt = f"{JOB_MEMBERS} py{python} {sorted(extras)}" if extras else f"{JOB_MEMBERS} py{python}"
    deps_key = hashlib.sha256(lock + salt.encode()).hexdigest()[:16]
    deps = cache / "deps" / deps_key
    if not deps.is_dir():
        requirements = cache / "deps" / f"{deps_key}.txt"
        _run(
            [_uv(), "export", "--frozen", "--quiet", "--no-hashes", "--no-emit-workspace",
             "--no-dev", "--no-header", "--no-annotate", "--package", JOB_MEMBERS[-1],
             *(a for e in sorted(extras) for a in ("--extra", e)),
             *(a for p in _PRUNED for a in ("--prune", p)), "-o", str(requirements)],
            root,
            "uv export of the job's dependencies",
        )  # fmt: skip
        _install(deps, ["-r", str(requirements)], python, root, "installing the job's dependencies")

    with tempfile.TemporaryDirectory() as tmp:
        for member in JOB_MEMBERS:
            _run(
                [_uv(), "build", "--quiet", "--wheel", "--package", member, "-o", tmp],
                root,
                f"building {member}",
            )
        wheels = sorted(Path(tmp).glob("*.whl"))
        top = _SITECUSTOMIZE.read_bytes()
        code_key = _wheels_digest(wheels, top)
        code = cache / "code" / code_key
        _install(code, [str(w) for w in wheels], python, root, "installing the job's code", top)
    commit, dirty = _git_state(root)
    return JobCode(code_key, deps_key, code, deps, commit, dirty)


def _git_state(root: Path) -> tuple[str | None, bool]:
    """HEAD of the workspace and whether the job-side members differ from it."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )

    head = git("rev-parse", "--verify", "--quiet", "HEAD")
    if head.returncode != 0:
        return None, False
    members = [f"packages/{m}" for m in JOB_MEMBERS]
    status = git("status", "--porcelain", "--", *members)
    return head.stdout.strip(), bool(status.stdout.strip())


def upload_job_code(job_code: JobCode, tunnel: Any, shared_root: str) -> None:
    """Copy the trees to `<shared_root>/.nemotron/` where missing (renamed into place at the end)."""
    from nemotron.kit.run import _nemo_run as nr

    pairs = [
        (job_code.local_deps, job_code.remote_deps(shared_root)),
        (job_code.local_code, job_code.remote_code(shared_root)),
    ]
    if not nr.is_ssh_tunnel(tunnel):
        for local, remote in pairs:
            if not os.path.isdir(remote):
                os.makedirs(os.path.dirname(remote), exist_ok=True)
                tmp = f"{remote}.tmp-{os.getpid()}"
                shutil.copytree(local, tmp, symlinks=True, dirs_exist_ok=True)
                os.rename(tmp, remote)
        return
    tunnel.connect()
    for local, remote in pairs:
        if tunnel.run(f"test -d {remote}", warn=True).ok:
            continue
        tmp = f"{remote}.tmp-{os.getpid()}"
        # executables (Ray's raylet, console scripts) keep their x bits; nothing group-writable
        nr.rsync(tunnel, f"{local}/", tmp, "-l --chmod=Du=rwx,Dgo=rx,Fu+rw,Fgo-w")
        tunnel.run(f"mv -T {tmp} {remote} || rm -rf {tmp}")

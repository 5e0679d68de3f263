"""Test set-up shared by every package's tests (plain pytest, no workspace imports).

- Each test gets its own artifact registry and W&B runs offline, so tests never touch
  `~/.nemotron` or the network.
- A skip whose reason starts with a tag such as `[slurm]` becomes a failure when that tag is
  listed in `NEMOTRON_REQUIRE` (CI sets it where the thing is expected to be there).
- `read_only(folder)`: the folder made unwritable (a read-only bind mount as root).
- `slurm_partition`: a real single-node Slurm with accounting on localhost, started once per
  session by `scripts/local-slurm.sh` (needs root; skips with `[slurm]` otherwise).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_TAG = re.compile(r"^\[(\w+)\]")
_LOCAL_SLURM = Path(__file__).resolve().parent / "scripts" / "local-slurm.sh"


@pytest.fixture(autouse=True)
def _isolated_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("nemotron-home")
    monkeypatch.setenv("NEMOTRON_ARTIFACTS_ROOT", str(home / "artifacts"))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(home / "wandb"))
    monkeypatch.delenv("NEMOTRON_ENV_FILE", raising=False)
    monkeypatch.delenv("NEMOTRON_RUN_ID", raising=False)


def _required() -> set[str]:
    return {t.strip() for t in os.environ.get("NEMOTRON_REQUIRE", "").split(",") if t.strip()}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return
    reason = str(report.longrepr[2]).removeprefix("Skipped: ")
    match = _TAG.match(reason)
    if match and match.group(1) in _required():
        report.outcome = "failed"
        report.longrepr = f"required by NEMOTRON_REQUIRE but skipped: {reason}"


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """`read_only(folder)` -> the folder, unwritable: a read-only bind mount when running as
    root (permissions do not stop root), else mode 0555 on every folder in it."""
    mounts: list[Path] = []
    chmodded: list[Path] = []

    def make(folder: Path) -> Path:
        if os.geteuid() != 0:
            for sub in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
                sub.chmod(0o555)
                chmodded.append(sub)
            return folder
        target = tmp_path / f"ro-{len(mounts)}"
        target.mkdir()
        for args in (["--bind", str(folder)], ["-o", "remount,ro,bind"]):
            done = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"cannot make a read-only bind mount here: {done.stderr.strip()}")
            if args[0] == "--bind":
                mounts.append(target)
        return target

    yield make
    for target in mounts:
        subprocess.run(["umount", str(target)], check=True)
    for sub in chmodded:
        sub.chmod(0o755)


@pytest.fixture(scope="session")
def slurm_partition() -> str:
    """Start (idempotently) the local Slurm cluster; return its partition."""
    if os.geteuid() != 0:
        pytest.skip("[slurm] needs root to start a local Slurm cluster")
    if not shutil.which("apt-get") and not shutil.which("slurmctld"):
        pytest.skip("[slurm] no apt-get to install Slurm on this machine")
    proc = subprocess.run(
        ["bash", str(_LOCAL_SLURM)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "LOCAL_SLURM_ACCOUNTING": "dbd"},
        check=False,
    )
    if proc.returncode in (3, 4):  # install failed / a daemon did not start: the machine's fault
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        pytest.skip(f"[slurm] local-slurm.sh could not start Slurm: {' '.join(tail)}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return "debug"

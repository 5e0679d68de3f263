"""The ssh options kit-run gives rsync: the host key is checked as the login checked it.

(The box's tests run NeMo-Run's real rsync with them: tests/cluster/test_box_hostkey.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nemotron.kit.run._sshverify import rsync_ssh_options
from nemotron.kit.run.errors import ExecutorError


def test_profile_known_hosts_is_the_only_file_rsync_checks(tmp_path: Path) -> None:
    options = rsync_ssh_options(str(tmp_path / "known_hosts")).split()
    assert options[1::2] == [
        "BatchMode=yes",  # never a prompt
        "StrictHostKeyChecking=yes",  # never adds an unknown key
        f"UserKnownHostsFile={tmp_path / 'known_hosts'}",
        "GlobalKnownHostsFile=/dev/null",  # not the system's file
    ]
    assert set(options[::2]) == {"-o"}


def test_known_hosts_path_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert f"UserKnownHostsFile={tmp_path}/kh" in rsync_ssh_options("~/kh")


def test_without_a_profile_file_ssh_reads_its_own_but_never_asks() -> None:
    assert rsync_ssh_options(None) == "-o BatchMode=yes -o StrictHostKeyChecking=yes"


@pytest.mark.parametrize("path", ["/a b/known_hosts", "/it's/known_hosts"])
def test_a_path_rsync_cannot_pass_is_one_error(path: str) -> None:
    with pytest.raises(ExecutorError, match="spaces or quotes; move the file"):
        rsync_ssh_options(path)

"""An ssh login that trusts only known host keys (NeMo-Run's tunnel trusts any).

NeMo-Run's `SSHTunnel` opens a fabric `Connection`, whose paramiko client adds unknown host keys
(`AutoAddPolicy`); our job files and secrets travel over that connection. `verified_login`
opens the same connection with paramiko's `RejectPolicy` and the profile's `known_hosts` (else
the files ssh itself reads), so an unknown or changed key is one error line that says how to
trust the host. The files NeMo-Run and kit-run copy go through `rsync` run by that connection
(`Connection.local`): its ssh is given the same `known_hosts` (and never asks, never adds keys).
"""

from __future__ import annotations

import os
from typing import Any

from nemotron.kit.run.errors import ExecutorError

__all__ = ["known_hosts_files", "rsync_ssh_options", "verified_login"]

_RSH = "--rsh='ssh "
"""How NeMo-Run's `rsync` (patchwork's) passes the ssh command: `--rsh='ssh -i KEY -p PORT'`."""


def known_hosts_files(known_hosts: str | None) -> list[str]:
    """The files a host key is looked up in: the profile's, else ssh's user and system files."""
    if known_hosts:
        return [os.path.expanduser(known_hosts)]
    return [os.path.expanduser("~/.ssh/known_hosts"), "/etc/ssh/ssh_known_hosts"]


def rsync_ssh_options(known_hosts: str | None) -> str:
    """ssh options for rsync that check the host key as the login did: the profile's file only."""
    options = "-o BatchMode=yes -o StrictHostKeyChecking=yes"
    if not known_hosts:
        return options  # ssh's own files, as `known_hosts_files(None)`
    path = known_hosts_files(known_hosts)[0]
    if any(c.isspace() or c in "'\"\\" for c in path):
        raise ExecutorError(
            f"known_hosts {path!r}: rsync's ssh cannot take a path with spaces or quotes; "
            "move the file and set the profile's known_hosts to the new path"
        )
    return f"{options} -o UserKnownHostsFile={path} -o GlobalKnownHostsFile=/dev/null"


def verified_login(tunnel: Any, known_hosts: str | None) -> None:
    """Connect `tunnel` (a NeMo-Run SSHTunnel) after checking the host key; set its session."""
    import paramiko
    from fabric import Config, Connection

    class CheckedConnection(Connection):
        """A Connection whose local `rsync` commands check the host key like the login."""

        def local(self, *args: Any, **kwargs: Any) -> Any:
            command = str(args[0]) if args else ""
            if command.startswith("rsync "):
                if _RSH not in command:  # NeMo-Run changed how it calls rsync: never unchecked
                    raise ExecutorError(
                        f"rsync without `{_RSH}...'` cannot be given known_hosts: {command}"
                    )
                args = (command.replace(_RSH, f"{_RSH}{ssh_options} ", 1), *args[1:])
            return super().local(*args, **kwargs)

    ssh_options = rsync_ssh_options(known_hosts)
    connect_kwargs = {"key_filename": [str(tunnel.identity)]} if tunnel.identity else {}
    session = CheckedConnection(
        tunnel.host,
        port=tunnel.port,
        user=tunnel.user,
        connect_kwargs=connect_kwargs,
        forward_agent=False,
        config=Config(overrides={"run": {"in_stream": False}}),
    )
    session.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    files = known_hosts_files(known_hosts)
    for path in files:
        if os.path.isfile(path):
            session.client.load_system_host_keys(path)
    port = session.port or 22
    where = session.host if port == 22 else f"[{session.host}]:{port}"
    first = files[0]
    try:
        session.open()
    except paramiko.BadHostKeyException:
        raise ExecutorError(
            f"the host key of {where} differs from the one in {' / '.join(files)} (a reinstalled "
            "login node, or someone in between): check the new key's fingerprint with the "
            f"cluster's admins, then `ssh-keygen -R '{where}' -f {first}` and "
            f"`ssh-keyscan -p {port} {session.host} >> {first}`"
        ) from None
    except paramiko.SSHException as err:
        if "not found in known_hosts" in str(err):
            raise ExecutorError(
                f"the host key of {where} is not in {' / '.join(files)}: check its fingerprint "
                f"(`ssh-keyscan -p {port} {session.host} | ssh-keygen -lf -`) with the cluster's "
                f"admins, then trust it: `ssh-keyscan -p {port} {session.host} >> {first}` "
                f"(or log in once with `ssh -p {port} {tunnel.user}@{session.host}`)"
            ) from None
        raise ExecutorError(f"cannot log in to {tunnel.user}@{where}: {err}") from None
    except OSError as err:
        raise ExecutorError(f"cannot reach {where}: {err}") from None
    tunnel.session = session

"""An ssh login that trusts only known host keys (NeMo-Run's tunnel trusts any).

NeMo-Run's `SSHTunnel` opens a fabric `Connection`, whose paramiko client adds unknown host keys
(`AutoAddPolicy`); our job files and secrets travel over that connection. `verified_login`
opens the same connection with paramiko's `RejectPolicy` and the `known_hosts` files ssh itself
reads, so an unknown or changed key is one error line that says how to trust the host.
"""

from __future__ import annotations

import os
from typing import Any

from nemotron.kit.run.errors import ExecutorError

__all__ = ["known_hosts_files", "verified_login"]


def known_hosts_files(known_hosts: str | None) -> list[str]:
    """The files a host key is looked up in: the profile's, else ssh's user and system files."""
    if known_hosts:
        return [os.path.expanduser(known_hosts)]
    return [os.path.expanduser("~/.ssh/known_hosts"), "/etc/ssh/ssh_known_hosts"]


def verified_login(tunnel: Any, known_hosts: str | None) -> None:
    """Connect `tunnel` (a NeMo-Run SSHTunnel) after checking the host key; set its session."""
    import paramiko
    from fabric import Config, Connection

    connect_kwargs = {"key_filename": [str(tunnel.identity)]} if tunnel.identity else {}
    session = Connection(
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

"""Secrets reach a Slurm job through a file that lives only until the job starts.

slurmctld saves the environment `sbatch` ran with in its state directory, so secrets must not be
in it (nor in the sbatch script, which is saved too). Before submitting, kit-run writes the job's
secret variables as `export` lines into a 0600 file in a 0700 folder on the cluster
(`<shared_root>/.nemotron/secrets/<job id>`; over an ssh tunnel through SFTP, so it is never a
file on this machine). The batch script sources it with tracing off and deletes it; srun hands
the variables to the job's tasks (into the container too). `Job.cancel()` deletes the file of a
job cancelled before it started. With the local tunnel sbatch runs here and would hand this
process's environment to the job: its secret-named variables (a `WANDB_API_KEY` or `HF_TOKEN` of
the user's shell) go into the file as well and are out of `os.environ` while sbatch runs.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from nemotron.kit.artifacts.secrets import is_secret_key
from nemotron.kit.run._profiles import SlurmProfile
from nemotron.kit.run._shared import shared_root

__all__ = ["job_secrets", "secrets_for_job", "secrets_path", "secrets_path_in", "source_line"]


def job_secrets(profile: SlurmProfile, secret_env: Mapping[str, str]) -> dict[str, str]:
    """What the job's secrets file holds: `secret_env`, and with the local tunnel the
    secret-named variables sbatch would otherwise take from this environment."""
    inherited = {k: v for k, v in os.environ.items() if is_secret_key(k)}
    return {**(inherited if profile.tunnel == "local" else {}), **secret_env}


def secrets_path(profile: SlurmProfile, job_id: str) -> str:
    """Where the job's secrets file goes on the cluster."""
    return secrets_path_in(shared_root(profile), job_id)


def secrets_path_in(root: str, job_id: str) -> str:
    """The secrets file of job `job_id` under the shared root `root`."""
    return f"{root}/.nemotron/secrets/{job_id}"


def source_line(path: str) -> str:
    """The batch script's line that loads the secrets (untraced) and deletes the file."""
    quoted = shlex.quote(path)
    return (
        f"{{ set +vx; }} 2>/dev/null; if [ -f {quoted} ]; then . {quoted}; rm -f {quoted}; fi; "
        "set -vx"
    )


def _text(secrets: Mapping[str, str]) -> bytes:
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(secrets.items())).encode()


@contextlib.contextmanager
def secrets_for_job(tunnel: Any, path: str, secrets: Mapping[str, str]) -> Iterator[None]:
    """Write the secrets file for the duration of a submission; remove it if submitting fails."""
    from nemotron.kit.run._nemo_run import is_ssh_tunnel

    folder = os.path.dirname(path)
    if is_ssh_tunnel(tunnel):
        tunnel.connect()
        tunnel.run(f"mkdir -p {shlex.quote(folder)} && chmod 0700 {shlex.quote(folder)}")
        sftp = tunnel.session.sftp()
        with sftp.open(path, "wb") as fh:
            fh.chmod(0o600)
            fh.write(_text(secrets))

        def remove() -> None:
            with contextlib.suppress(OSError):
                sftp.remove(path)
    else:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.chmod(folder, stat.S_IRWXU)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(_text(secrets))

        def remove() -> None:
            with contextlib.suppress(OSError):
                os.unlink(path)

    try:
        with contextlib.nullcontext() if is_ssh_tunnel(tunnel) else _withheld(secrets):
            yield
    except BaseException:
        remove()
        raise


@contextlib.contextmanager
def _withheld(names: Iterable[str]) -> Iterator[None]:
    """`os.environ` without `names` (sbatch, run here, must not pass them on); put back after."""
    kept = {k: os.environ.pop(k) for k in list(names) if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(kept)

"""Keep credentials out of saved configs: redact secret-named keys and secret env values.

A key is secret when its name (case-insensitive, `-` read as `_`) is, or ends in `_` plus, one
of: token, secret, password, passwd, passphrase, api_key, apikey, access_key, secret_key,
private_key, auth_key, credential(s). Tokenizer special tokens (`bos_token`, `eos_token`,
`pad_token`, ...) are not secrets. Any string that contains the value of an environment variable
with a secret name (WANDB_API_KEY, HF_TOKEN, AWS_SECRET_ACCESS_KEY, ...) gets that value masked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

MASK = "***"
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:token|secret|password|passwd|passphrase|api_?key|access_key|secret_key"
    r"|private_key|auth_key|credentials?)$"
)
_NOT_SECRET = re.compile(
    r"^(?:bos|eos|pad|unk|sep|cls|mask|start|end|stop|special|image|audio|video)_token$"
)
_MIN_SECRET_LEN = 6
_TEXT_ASSIGNMENT = re.compile(
    r"""^(\s*-?\s*["']?)([A-Za-z0-9_.\-]+)(["']?\s*[:=]\s*)(.*?)(\s*,?\s*(?:\#.*)?)$"""
)


def is_secret_name(name: str) -> bool:
    """True if a config key or environment variable named `name` holds a credential."""
    normal = name.lower().replace("-", "_").rsplit(".", 1)[-1]
    return bool(_SECRET_NAME.search(normal)) and not _NOT_SECRET.match(normal)


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of secret-named environment variables, longest first."""
    env = os.environ if environ is None else environ
    found = {v for k, v in env.items() if is_secret_name(k) and len(v) >= _MIN_SECRET_LEN}
    return sorted(found, key=len, reverse=True)


def redact(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """A copy of `value` with secrets masked as `***`.

    Args:
        value: a dict/list tree, a DictConfig/ListConfig (taken unresolved) or a string.
        environ: where to find secret values (default: `os.environ`).
    """
    if isinstance(value, DictConfig | ListConfig):
        value = OmegaConf.to_container(value, resolve=False)
    return _redact(value, secret_values(environ))


def _redact(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: MASK
            if is_secret_name(str(k)) and value[k] not in (None, "")
            else _redact(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
    return value


def redact_text(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Mask secrets in a config file's text (`api_key: ...`, `token = "..."`) and env values."""
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        m = _TEXT_ASSIGNMENT.match(body)
        if m and is_secret_name(m[2]) and m[4] and not m[4].startswith("${"):
            quote = m[4][0] if m[4][0] in "'\"" else ""
            body = f"{m[1]}{m[2]}{m[3]}{quote}{MASK}{quote}{m[5]}"
        lines.append(body + line[len(line.rstrip("\r\n")) :])
    return str(_redact("".join(lines), secret_values(environ)))

"""Which names hold credentials, and how to mask them: the one implementation every kit package uses.

A key or variable name is secret when its last dotted part, read case-insensitively (`-` and
camelCase boundaries read as `_`, leading dashes dropped), is or ends in `_` plus one of: token,
secret, password, passwd, passphrase, api_key, apikey, access_key, secret_key, private_key,
auth_key, credential(s). So `hf_token`, `HF_TOKEN`, `WANDB_API_KEY`, `wandb.api-key`, `apiKey`,
`db_password`, `client_secret`, `--hf-token` are secret; `tokens`, `max_tokens`, `tokenizer`,
`text_key`, `api_key_env`, `password_file`, `secretary` are not, nor are tokenizer special tokens
(`bos_token`, `eos_token`, `pad_token`, ...).

Values of environment variables with a secret name (6 characters or longer) are masked wherever
they appear in a string. The mask is `***`. A value that is one OmegaConf interpolation
(`${oc.env:HF_TOKEN}`, `${oc.env:HF_TOKEN,none}`) is a reference, not a secret, and is kept.

Every file kit writes goes through this module: data through `redact`, config file copies
through kit-config's `redact_config_text` (which parses and uses `redact`), command lines
through `redact_argv`.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False  # not `from typing import ...`: kit-artifacts keeps its import light
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = [
    "MASK",
    "is_secret_key",
    "redact",
    "redact_argv",
    "redact_text",
    "secret_values",
]

MASK = "***"
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:token|secret|password|passwd|passphrase|api_?key|access_key|secret_key"
    r"|private_key|auth_key|credentials?)$"
)
_NOT_SECRET = re.compile(
    r"^(?:bos|eos|pad|unk|sep|cls|mask|start|end|stop|special|image|audio|video)_token$"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_MIN_SECRET_LEN = 6
_REFERENCE = re.compile(r"^\$\{.*\}$", re.DOTALL)
_TEXT_ASSIGNMENT = re.compile(
    r"""^(\s*-?\s*["']?)([A-Za-z0-9_.\-]+)(["']?\s*[:=]\s*)(.*?)(\s*,?\s*(?:\#.*)?)$"""
)


def is_secret_key(name: str) -> bool:
    """True if a config key, CLI option or environment variable named `name` holds a credential."""
    last = name.rsplit(".", 1)[-1].lstrip("-")
    normal = _CAMEL.sub("_", last).lower().replace("-", "_")
    return bool(_SECRET_NAME.search(normal)) and not _NOT_SECRET.match(normal)


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of secret-named variables in `environ` (default `os.environ`), longest first."""
    env = os.environ if environ is None else environ
    found = {v for k, v in env.items() if is_secret_key(k) and len(v) >= _MIN_SECRET_LEN}
    return sorted(found, key=len, reverse=True)


def redact(
    value: Any, environ: Mapping[str, str] | None = None, *, masked: list[str] | None = None
) -> Any:
    """A copy of `value` with secrets masked as `***`.

    Args:
        value: plain data: dicts, lists, tuples (returned as lists), strings, scalars. A
            non-empty value under a secret-named key is masked (a whole structure under such a
            key too; a whole `${...}` interpolation is kept); in every string, the
            values of `environ`'s secret-named variables are masked.
        environ: where to find secret values (default: `os.environ`).
        masked: when given, the dotted key of every masked value is appended (`a.b`, `l[0].k`).
    """
    return _redact(value, secret_values(environ), "", masked)


def _redact(value: Any, secrets: Iterable[str], key: str, masked: list[str] | None) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            path = f"{key}.{k}" if key else str(k)
            if is_secret_key(str(k)) and v not in (None, "") and not _is_reference(v):
                out[k] = MASK
                if masked is not None:
                    masked.append(path)
            else:
                out[k] = _redact(v, secrets, path, masked)
        return out
    if isinstance(value, list | tuple):
        return [_redact(v, secrets, f"{key}[{i}]", masked) for i, v in enumerate(value)]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
    return value


def _is_reference(value: object) -> bool:
    return isinstance(value, str) and bool(_REFERENCE.match(value))


def redact_text(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Mask secrets in a config file's text (`api_key: ...`, `token = "..."`) and env values.

    Line layout and comments are kept; values that are interpolations (`${oc.env:HF_TOKEN}`)
    are left as written; an unquoted masked value becomes `"***"` (still valid YAML/TOML).
    Line by line only: kit-config's `redact_config_text` also catches flow style, lists and
    block scalars (use that for config files).
    """
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        m = _TEXT_ASSIGNMENT.match(body)
        if m and is_secret_key(m[2]) and m[4] and not _is_reference(m[4].strip("'\"")):
            quote = m[4][0] if m[4][0] in "'\"" else '"'  # a bare *** is a YAML alias
            body = f"{m[1]}{m[2]}{m[3]}{quote}{MASK}{quote}{m[5]}"
        lines.append(body + ending)
    return str(_redact("".join(lines), secret_values(environ), "", None))


def redact_argv(argv: Iterable[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """A command line with `key=value` and `--key value` secrets and secret env values masked.

    Hydra-style prefixes count (`+wandb.api_key=...`, `++token=...`).
    """
    secrets = secret_values(environ)
    out: list[str] = []
    mask_next = False
    for arg in argv:
        key, sep, _ = arg.partition("=")
        if mask_next:
            out.append(MASK)
        elif sep and is_secret_key(key.lstrip("+~")):
            out.append(f"{key}={MASK}")
        else:
            out.append(_redact(arg, secrets, "", None))
        mask_next = not sep and arg.startswith("-") and is_secret_key(arg)
    return out

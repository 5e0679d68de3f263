"""Keep secrets (tokens, passwords, API keys) out of what artifacts record."""

from __future__ import annotations

import itertools
import re
from typing import Any

_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_SECRET_WORDS = {"token", "secret", "password", "passwd", "apikey", "credential", "credentials"}
MASK = "***"


def is_secret_key(key: str) -> bool:
    """True for keys named like a credential (`wandb.api_key`, `HF_TOKEN`, `--password`).

    Whole words only: `total_tokens` or `tokenizer` are not secrets.
    """
    words = [w.lower() for w in _WORDS.findall(key)]
    return any(w in _SECRET_WORDS for w in words) or any(
        a == "api" and b == "key" for a, b in itertools.pairwise(words)
    )


def redact_argv(argv: list[str]) -> list[str]:
    """Mask `key=value` and `--key value` arguments whose key names a secret."""
    out: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next:
            out.append(MASK)
            mask_next = False
            continue
        key, sep, _ = arg.partition("=")
        if sep and is_secret_key(key):
            out.append(f"{key}={MASK}")
        elif arg.startswith("-") and not sep and is_secret_key(arg):
            out.append(arg)
            mask_next = True
        else:
            out.append(arg)
    return out


def redact_mapping(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of `data` (recursively) with the values of secret-named keys masked."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if is_secret_key(str(key)):
            out[key] = MASK
        elif isinstance(value, dict):
            out[key] = redact_mapping(value)
        else:
            out[key] = value
    return out

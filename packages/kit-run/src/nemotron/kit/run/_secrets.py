"""Which values are secrets, and how they are kept out of files.

A variable is secret when its name is WANDB_API_KEY or HF_TOKEN, ends in _TOKEN or _KEY, or
contains SECRET or PASSWORD (case-insensitive). Secrets reach jobs through the environment of
the submitting process (sbatch and local processes inherit it), never through written files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "<redacted>"
_SECRET_NAMES = {"WANDB_API_KEY", "HF_TOKEN"}
_SECRET_PATTERN = re.compile(r"(_TOKEN$|_KEY$|^TOKEN$|SECRET|PASSWORD|API_KEY)", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True when a variable or key of this name holds a secret."""
    return name.upper() in _SECRET_NAMES or bool(_SECRET_PATTERN.search(name))


def split_secrets(env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split `env` into (plain, secret) variables."""
    plain = {k: v for k, v in env.items() if not is_secret_name(k)}
    secret = {k: v for k, v in env.items() if is_secret_name(k)}
    return plain, secret


def redact(value: Any) -> Any:
    """A copy of nested dicts/lists with every secret-named key's value replaced."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if is_secret_name(str(k)) and v not in (None, "") else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def scrub(text: str, secret_values: Iterable[str]) -> str:
    """`text` with every occurrence of a secret value replaced."""
    for value in sorted({v for v in secret_values if len(v) >= 4}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text

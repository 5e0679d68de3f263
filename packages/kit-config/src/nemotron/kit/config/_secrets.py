"""Redaction for configs: OmegaConf nodes and config file text in, secrets masked out.

The rules (which names are secret, which values get masked) are kit-artifacts' single
implementation, `nemotron.kit.artifacts.secrets`; this module adds OmegaConf input and config
file text (`redact_config_text`), which is parsed so that no layout hides a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from nemotron.kit.artifacts import secrets

REWRITTEN = "secrets masked as ***; re-written from the parsed file (comments and layout dropped)"


def redact(
    value: Any, environ: Mapping[str, str] | None = None, *, masked: list[str] | None = None
) -> Any:
    """A copy of `value` with secrets masked as `***`.

    Args:
        value: a dict/list tree, a DictConfig/ListConfig (taken unresolved) or a string.
        environ: where to find secret values (default: `os.environ`).
        masked: when given, the dotted key of every masked value is appended.
    """
    if isinstance(value, DictConfig | ListConfig):
        value = OmegaConf.to_container(value, resolve=False)
    return secrets.redact(value, environ, masked=masked)


def redact_config_text(text: str, fmt: str, environ: Mapping[str, str] | None = None) -> str:
    """The text of a YAML/TOML/JSON config file with every secret masked: what we save.

    The text is parsed and redacted as data (so flow style `{api_key: X}`, keys inside lists,
    block scalars and one-line JSON hide nothing). When masking line by line gives exactly that
    data, that text is returned (comments and layout kept); otherwise the redacted data is
    written out again in the same format under a comment saying so. Text that does not parse
    gets the line-by-line masking only.

    Args:
        text: the file's content.
        fmt: "yaml", "toml" or "json" (see `FORMATS` for suffixes).
        environ: where to find secret values (default: `os.environ`).
    """
    from nemotron.kit.config._loading import parse_text
    from nemotron.kit.config.errors import ConfigSyntaxError

    by_lines = secrets.redact_text(text, environ)
    try:
        data = parse_text(text, fmt)[0]
    except ConfigSyntaxError:
        return by_lines
    clean = secrets.redact(data, environ)
    if by_lines == text:  # no line was masked: the text is right when the data has no secret
        return text if data == clean else _dump(clean, fmt)
    try:
        if parse_text(by_lines, fmt)[0] == clean:
            return by_lines
    except ConfigSyntaxError:
        pass
    return _dump(clean, fmt)


def _dump(data: Any, fmt: str) -> str:
    if fmt == "json":
        import json

        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "toml":
        import tomlkit

        return f"# {REWRITTEN}\n" + tomlkit.dumps(data)
    import yaml

    return f"# {REWRITTEN}\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

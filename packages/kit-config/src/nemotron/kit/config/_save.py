"""Save the config a run used: resolved, original and overrides, secrets masked, plus a digest."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig

from nemotron.kit.artifacts.secrets import redact_argv
from nemotron.kit.config._loading import FORMATS
from nemotron.kit.config._resolve import resolve_to_container
from nemotron.kit.config._secrets import redact, redact_config_text

RESOLVED_FILE = "resolved.yaml"
OVERRIDES_FILE = "overrides.yaml"
ORIGINAL_STEM = "original"


def plain_config(cfg: Any) -> Any:
    """A DictConfig (resolved), typed config (dataclass/Struct) or dict as plain data."""
    import msgspec

    if isinstance(cfg, DictConfig | ListConfig):
        return resolve_to_container(cfg)
    return msgspec.to_builtins(cfg, enc_hook=str)


def config_digest(data: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of plain config data (sorted keys)."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def redacted_digest(cfg: Any) -> tuple[Any, str]:
    """The redacted plain config and its digest (what provenance records)."""
    clean = redact(plain_config(cfg))
    return clean, config_digest(clean)


def save_resolved(
    cfg: Any,
    folder: str | Path,
    source: str | Path | None = None,
    overrides: Iterable[str] = (),
    *,
    into_run: bool = True,
    sync: bool = True,
) -> str:
    """Write the config a run used into `folder` and return its digest.

    Writes `resolved.yaml` (every interpolation resolved), `original.<ext>` (a copy of
    `source`, if given) and `overrides.yaml` (the override strings), each atomically and
    with secrets masked. Sets `current_run().config_digest` to the returned digest unless
    `into_run` is False (a launcher saving its job's config: the run is the job's, not its own;
    capturing this process's run would also cost two `git` calls). `sync=False` skips the
    fsync of each file (still atomic: a reader sees the old file or the new one), for a copy
    that need not survive a crash of the machine, such as a job folder's.

    Args:
        cfg: a DictConfig, a typed config (dataclass or msgspec Struct) or a dict.
        folder: where to write (created if needed).
        source: the config file the run started from.
        overrides: the override strings applied on top of it.

    Returns:
        `sha256:<hex>` of the canonical JSON of the redacted resolved config.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    clean, digest = redacted_digest(cfg)
    header = f"# Resolved config ({digest}); secrets masked as ***\n"
    _write_atomic(out / RESOLVED_FILE, header + yaml.safe_dump(clean, sort_keys=False), sync)
    if source is not None:
        src = Path(source)
        fmt = FORMATS.get(src.suffix.lower(), "yaml")
        text = redact_config_text(src.read_text(encoding="utf-8"), fmt)
        _write_atomic(out / f"{ORIGINAL_STEM}{src.suffix}", text, sync)
    override_list = redact_argv(overrides)
    _write_atomic(out / OVERRIDES_FILE, yaml.safe_dump(override_list, sort_keys=False), sync)
    if into_run:
        from nemotron.kit.artifacts import current_run

        current_run().config_digest = digest
    return digest


def _write_atomic(path: Path, text: str, sync: bool) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

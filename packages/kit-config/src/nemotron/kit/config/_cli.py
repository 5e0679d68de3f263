"""`cli()`: the one call a recipe script makes to get its typed config.

    python train.py [--config FILE] [key=value ...]

Precedence: the Config class defaults < the config file (`--config/-c`, else `config_file`)
< key=value overrides (full Hydra override grammar).
"""

from __future__ import annotations

import enum
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf

from nemotron.kit.artifacts.errors import NemotronError
from nemotron.kit.config._keys import Sources, attach_sources, sources_of
from nemotron.kit.config._loading import load_config
from nemotron.kit.config._overrides import apply_hydra_overrides
from nemotron.kit.config._save import redacted_digest
from nemotron.kit.config._typed import (
    defaults_of,
    is_record,
    record_fields,
    strip_annotated,
    type_name,
    typed_and_plain,
)
from nemotron.kit.config.errors import ConfigFileError, UsageError

T = TypeVar("T")
FULL_ERROR_ENV = "NEMOTRON_FULL_ERROR"


def cli(
    config_cls: type[T], config_file: str | Path | None = None, argv: Sequence[str] | None = None
) -> T:
    """Build a `config_cls` instance from defaults, a config file and command-line overrides.

    Args:
        config_cls: a dataclass or msgspec Struct type.
        config_file: the config file used when argv has no `--config` (looked up in the
            working directory, then beside the calling script).
        argv: the arguments (default `sys.argv[1:]`): `--config/-c FILE`, `key=value`
            overrides, `--help`.

    Returns:
        The validated config. On a user error it prints one line to stderr and exits with
        code 2 (the full traceback too with `NEMOTRON_FULL_ERROR=1`); `--help` exits 0.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    caller = sys._getframe(1).f_globals.get("__file__")
    try:
        return load_typed(config_cls, config_file, args, caller)
    except NemotronError as exc:
        if os.environ.get(FULL_ERROR_ENV) == "1":
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None


def load_typed(
    config_cls: type[T], config_file: str | Path | None, args: list[str], caller: str | None = None
) -> T:
    """What `cli()` does, raising instead of exiting (`--help` still prints and exits 0)."""
    from nemotron.kit.artifacts import current_run

    config_path, overrides = parse_args(args, config_cls, config_file)
    file = _locate(config_path, explicit=True) if config_path else None
    if file is None and config_file is not None:
        file = _locate(str(config_file), explicit=False, caller=caller)
    cfg = compose(config_cls, file, overrides)
    typed, plain = typed_and_plain(config_cls, cfg)
    current_run().config_digest = redacted_digest(plain)[1]
    return typed


def compose(config_cls: type, file: Path | None, overrides: Sequence[str]) -> DictConfig:
    """Class defaults < `file` < `overrides`, as one DictConfig that remembers its sources.

    What `cli()` builds before validating; tools that check a config the way the job will
    (e.g. `nemotron ... --dry-run`) use it too. Interpolations stay unresolved.

    Args:
        config_cls: the dataclass or msgspec Struct whose defaults come first.
        file: a YAML/TOML/JSON config file (see `load_config`), or None.
        overrides: Hydra override strings (`lr=1e-4`, `+a.b=1`, `~c`), applied strictly.

    Raises:
        ConfigFileError, OverrideError (UserErrors naming the file/override and the fix).
    """
    cfg: Any = OmegaConf.create(defaults_of(config_cls))
    sources = Sources()
    if file is not None:
        loaded = load_config(file)
        cfg = OmegaConf.merge(cfg, loaded)
        sources = sources_of(loaded).copy()
    attach_sources(cfg, sources)
    return apply_hydra_overrides(cfg, overrides) if overrides else cfg


def parse_args(args: list[str], config_cls: type, config_file: Any) -> tuple[str | None, list[str]]:
    """Split argv into the `--config` file and the overrides; `--help` prints and exits 0."""
    config_path: str | None = None
    overrides: list[str] = []
    it = iter(args)
    for arg in it:
        if arg in ("-h", "--help"):
            print(format_help(config_cls, config_file))
            raise SystemExit(0)
        if arg in ("-c", "--config"):
            config_path = next(it, None)
            if config_path is None:
                raise UsageError(f"{arg} needs a file: {arg} config.yaml")
        elif arg.startswith("--config="):
            config_path = arg.removeprefix("--config=")
        elif arg.startswith("-") and not arg.startswith(("--config", "-c")) and "=" not in arg:
            raise UsageError(
                f"unknown option '{arg}'; use --config FILE and key=value overrides (see --help)"
            )
        else:
            overrides.append(arg)
    return config_path, overrides


def _locate(name: str, explicit: bool, caller: str | None = None) -> Path:
    path = Path(name).expanduser()
    tried = [path]
    if not explicit and not path.is_absolute() and caller:
        tried.append(Path(caller).resolve().parent / path)
    for candidate in tried:
        if candidate.is_file():
            return candidate
    where = " or ".join(str(p) for p in tried)
    raise ConfigFileError(name, f"no such config file (looked for {where}); pass --config FILE")


def format_help(config_cls: type, config_file: Any = None) -> str:
    """The `--help` text: usage, then every field with its type, default and doc."""
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "script.py"
    lines = [f"usage: {prog} [--config FILE] [key=value ...]", ""]
    doc = (config_cls.__doc__ or "").strip()
    if doc and not doc.startswith(f"{config_cls.__name__}("):
        lines += [doc.split("\n\n")[0], ""]
    lines.append("options:")
    default = f" (default: {config_file})" if config_file else ""
    lines.append(f"  -c, --config FILE   YAML/TOML/JSON config file{default}")
    lines.append("  -h, --help          show this message and exit")
    lines += ["", f"fields of {config_cls.__name__} (defaults < config file < key=value):"]
    rows = list(_field_rows(config_cls, ""))
    widths = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        lines.append(("  " + "  ".join(cells) + "  " + row[3]).rstrip())
    lines += [
        "",
        "overrides: key=value (change), +key=value (add), ++key=value (add or change),",
        "  ~key (delete); values: 1, 1e-4, true, null, 'a string', [1,2], {k: v}, ${other.key}",
    ]
    return "\n".join(lines)


def _field_rows(cls: type, prefix: str) -> Iterator[tuple[str, str, str, str]]:
    for spec in record_fields(cls):
        name = f"{prefix}{spec.name}"
        tp = strip_annotated(spec.type)
        doc = " ".join((spec.doc or "").split())
        if is_record(tp):
            yield name, tp.__name__, "", doc
            yield from _field_rows(tp, f"{name}.")
            continue
        shown = "(required)" if spec.required else f"= {_show(spec.default)}"
        yield name, type_name(tp), shown, doc


def _show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)

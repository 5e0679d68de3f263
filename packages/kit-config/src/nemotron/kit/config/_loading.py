"""Read YAML/TOML/JSON config files into OmegaConf, with `defaults:` inheritance.

A file may build on others with a top-level `defaults:` key: one path or a list of paths,
relative to the file (the suffix may be left out). The bases are merged in order, then the
file itself on top (the file always wins). Cycles are reported with the whole chain.
Every loaded value remembers its file and line (see `_keys.Sources`), so validation errors can
point at it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from nemotron.kit.config._keys import KeyPath, Sources, attach_sources, sources_of
from nemotron.kit.config.errors import ConfigFileError, ConfigSyntaxError

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json"}
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_TABLE = re.compile(r"^\[\[?\s*(.+?)\s*\]\]?\s*(#.*)?$")
_TOML_KEY = re.compile(
    r"^((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)


def load_config(path: str | Path) -> DictConfig:
    """Load a YAML, TOML or JSON config (chosen by suffix), following `defaults:` bases.

    Raises:
        ConfigFileError: the file is missing, of an unknown kind, or its `defaults:` is bad.
        ConfigSyntaxError: the file does not parse (the message names file:line:col).
    """
    file = Path(path)
    fmt = FORMATS.get(file.suffix.lower())
    if fmt is None:
        raise ConfigFileError(
            str(path), f"unknown config format '{file.suffix}'; use .yaml, .yml, .toml or .json"
        )
    return _load_tree(file, fmt, ())


def load_omegaconf_yaml(path: str | Path) -> DictConfig:
    """Load a config into a DictConfig, following `defaults:`: TOML and JSON by their suffix,
    YAML otherwise (any other suffix is read as YAML)."""
    file = Path(path)
    return _load_tree(file, FORMATS.get(file.suffix.lower(), "yaml"), ())


def _load_tree(file: Path, fmt: str, chain: tuple[Path, ...]) -> DictConfig:
    key = file.resolve()
    if key in chain:
        cycle = " -> ".join(str(p) for p in (*chain[chain.index(key) :], key))
        raise ConfigFileError(str(file), f"`defaults:` cycle: {cycle}; remove one of the links")
    data, lines = _parse(file, fmt)
    if not isinstance(data, dict):
        raise ConfigFileError(
            str(file), f"top level must be a mapping of keys, not a {type(data).__name__}"
        )
    bases = _base_paths(file, data.pop("defaults", None))
    sources = Sources()
    cfg: Any = OmegaConf.create()
    for base in bases:
        base_cfg = _load_tree(base, FORMATS.get(base.suffix.lower(), fmt), (*chain, key))
        cfg = OmegaConf.merge(cfg, base_cfg)
        sources.update(sources_of(base_cfg))
    try:
        own = OmegaConf.create(data)
    except OmegaConfBaseException as exc:
        raise ConfigFileError(str(file), f"cannot be represented as a config: {exc}") from exc
    cfg = OmegaConf.merge(cfg, own) if bases else own
    for path, line in lines.items():
        if path[0] != "defaults":
            sources.set(path, f"{file}:{line}")
    assert isinstance(cfg, DictConfig)
    attach_sources(cfg, sources)
    return cfg


def _base_paths(file: Path, defaults: Any) -> list[Path]:
    if defaults is None:
        return []
    entries = [defaults] if isinstance(defaults, str) else defaults
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise ConfigFileError(
            str(file),
            "`defaults:` must be a file path or a list of file paths (Hydra config groups "
            "are not supported)",
        )
    paths = []
    for entry in entries:
        if entry == "_self_":
            raise ConfigFileError(
                str(file), "`_self_` is not supported in `defaults:`; the file always wins"
            )
        base = (file.parent / entry).expanduser()
        if not base.suffix:
            candidates = [base.with_suffix(s) for s in (file.suffix, *FORMATS) if s]
            base = next((c for c in candidates if c.is_file()), candidates[0])
        if not base.is_file():
            raise ConfigFileError(str(file), f"`defaults:` entry '{entry}' not found at {base}")
        paths.append(base)
    return paths


def _parse(file: Path, fmt: str) -> tuple[Any, dict[KeyPath, int]]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigFileError(str(file), "no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(str(file), f"cannot be read: {exc}") from exc
    return parse_text(text, fmt, file)


def parse_text(text: str, fmt: str, file: Path | str = "<text>") -> tuple[Any, dict[KeyPath, int]]:
    """Parse config text (`fmt`: "yaml", "toml" or "json") into plain data and key lines.

    Raises:
        ConfigSyntaxError: the text does not parse (naming `file`:line:col).
    """
    file = Path(file)
    if fmt == "yaml":
        return _parse_yaml(file, text)
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            msg = str(exc)
            m = _TOML_POS.search(msg)
            line, col = (int(m[1]), int(m[2])) if m else (None, None)
            raise ConfigSyntaxError(
                str(file), line, col, f"invalid TOML: {_TOML_POS.sub('', msg)}"
            ) from None
        return _plain_toml(data), _toml_lines(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigSyntaxError(
            str(file), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}"
        ) from None
    try:  # JSON is YAML: its node marks give the line of every key
        return data, _yaml_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return data, {}


@functools.cache
def _yaml_loader() -> Any:
    from omegaconf._utils import get_yaml_loader

    return get_yaml_loader()


def _parse_yaml(file: Path, text: str) -> tuple[Any, dict[KeyPath, int]]:
    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigSyntaxError(
            str(file),
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
            f"invalid YAML: {problem}",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigSyntaxError(str(file), None, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return (data if data is not None else {}), _yaml_lines(node)


def _yaml_lines(node: Any, prefix: KeyPath = ()) -> dict[KeyPath, int]:
    lines: dict[KeyPath, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, str(key_node.value))
            lines[path] = key_node.start_mark.line + 1
            lines.update(_yaml_lines(value_node, path))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = (*prefix, str(i))
            lines[path] = item.start_mark.line + 1
            lines.update(_yaml_lines(item, path))
    return lines


def _split_toml_key(key: str) -> KeyPath:
    parts = re.findall(r"\"[^\"]*\"|'[^']*'|[^.\s]+", key)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def _toml_lines(text: str) -> dict[KeyPath, int]:
    """Line of every table header and `key =` line (tomllib keeps no positions)."""
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if (m := _TOML_TABLE.match(line)) is not None:
            table = _split_toml_key(m[1])
            lines.setdefault(table, lineno)
        elif (m := _TOML_KEY.match(line)) is not None:
            lines.setdefault((*table, *_split_toml_key(m[1])), lineno)
    return lines


def _plain_toml(value: Any) -> Any:
    """TOML dates and times become ISO strings (OmegaConf holds no datetime values)."""
    if isinstance(value, dict):
        return {k: _plain_toml(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_toml(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value

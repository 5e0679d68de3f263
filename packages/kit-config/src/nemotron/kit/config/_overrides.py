"""Hydra override grammar (`a.b=1`, `+a=1`, `++a=1`, `~a`, lists, dicts, quoting) on a config.

Parsing is hydra-core's own ANTLR grammar and visitor (imported only when there are
overrides); this module adds what Hydra leaves to its config loader: keys with dots inside
brackets (`model[attn.dropout]=0.1`), strict key checks with did-you-mean, positions in parse
errors, and refusing Hydra features that have no meaning outside a Hydra app (sweeps, config
groups, `hydra.*` keys).
"""

from __future__ import annotations

import copy
import difflib
import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from nemotron.kit.config._keys import (
    KeyPath,
    KeySyntaxError,
    attach_sources,
    format_key,
    iter_leaves,
    sources_of,
    split_key,
)
from nemotron.kit.config.errors import OverrideError, OverrideParseError, UnknownKeyError


class Kind(enum.Enum):
    """What an override does."""

    CHANGE = "change"  # a.b=1      (the key must exist)
    ADD = "add"  # +a.b=1     (the key must not exist)
    FORCE_ADD = "force_add"  # ++a.b=1    (add or change)
    DELETE = "delete"  # ~a.b, ~a.b=1


@dataclass(frozen=True)
class ParsedOverride:
    """One parsed override: what to do, where, and with which value."""

    text: str
    kind: Kind
    path: KeyPath
    value: Any = None
    has_value: bool = True


def apply_hydra_overrides(cfg: DictConfig | dict[str, Any], overrides: Iterable[str]) -> DictConfig:
    """Return a copy of `cfg` with Hydra-style overrides applied (the input is not changed).

    Args:
        cfg: the config to start from (a DictConfig or a plain dict).
        overrides: override strings such as `a.b=1`, `+a.new=[1,2]`, `~a.c`.

    Raises:
        OverrideParseError: an override does not follow the grammar (shows where).
        UnknownKeyError: a key to change or delete does not exist (with did-you-mean).
        OverrideError: any other override that cannot be applied.
    """
    overrides = list(overrides)
    sources = sources_of(cfg).copy()
    result = copy.deepcopy(cfg) if isinstance(cfg, DictConfig) else OmegaConf.create(cfg)
    for text in overrides:
        _apply(result, parse_override(text), sources)
    attach_sources(result, sources)
    return result


def parse_override(text: str) -> ParsedOverride:
    """Parse one override with hydra-core's grammar; raise OverrideParseError with a position."""
    from hydra.core.override_parser.types import OverrideType
    from hydra.errors import HydraException

    prefix_len = len(text) - len(text.lstrip("+~"))
    eq = _key_end(text, prefix_len)
    key_text = text[prefix_len:eq]
    bracket_path: KeyPath | None = None
    if "[" in key_text or "]" in key_text:
        try:
            bracket_path = split_key(key_text)
        except KeySyntaxError as exc:
            raise OverrideParseError(text, str(exc), prefix_len + exc.position) from None
        text_for_hydra = text[:prefix_len] + "x" * len(key_text) + text[eq:]
    else:
        text_for_hydra = text
    try:
        override = _parse_with_hydra(text_for_hydra)
    except _SyntaxError as exc:
        raise OverrideParseError(text, exc.message, exc.column) from None
    except HydraException as exc:
        raise OverrideParseError(text, str(exc).splitlines()[0]) from None
    if override.package is not None or "/" in override.key_or_group:
        raise OverrideError(
            text, "config groups and packages (`group/option`, `@pkg`) are Hydra-only; set keys"
        )
    if override.is_sweep_override():
        raise OverrideError(
            text,
            "sweeps (`a=1,2`, choice(), range(), interval(), glob()) are not supported; "
            "launch one job per value",
        )
    try:
        path = bracket_path or split_key(override.key_or_group)
    except KeySyntaxError as exc:
        raise OverrideParseError(text, str(exc), prefix_len + exc.position) from None
    if path[0] == "hydra":
        raise OverrideError(text, "`hydra.*` keys only mean something inside a Hydra app")
    kinds = {
        OverrideType.CHANGE: Kind.CHANGE,
        OverrideType.ADD: Kind.ADD,
        OverrideType.FORCE_ADD: Kind.FORCE_ADD,
        OverrideType.DEL: Kind.DELETE,
    }
    has_value = override.value_type is not None
    value = override.value() if has_value else None
    return ParsedOverride(text, kinds[override.type], path, _plain(value), has_value)


def _key_end(text: str, start: int) -> int:
    """Index of the `=` that ends the key (an `=` inside brackets is part of the key)."""
    depth = 0
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "=" and depth <= 0:
            return i
    return len(text)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


class _SyntaxError(Exception):
    def __init__(self, column: int, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


@functools.cache
def _hydra_parts() -> tuple[Any, Any, Any, Any, Any, Any]:
    from antlr4.error.ErrorListener import ErrorListener
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.overrides_visitor import HydraOverrideVisitor
    from hydra.grammar.gen.OverrideLexer import (  # type: ignore[attr-defined]
        CommonTokenStream,
        InputStream,
        OverrideLexer,
    )
    from hydra.grammar.gen.OverrideParser import OverrideParser

    class Listener(ErrorListener):
        def syntaxError(self, recognizer, offending, line, column, msg, e):
            raise _SyntaxError(column, msg)

    visitor = HydraOverrideVisitor(OverridesParser.create().functions)
    return Listener(), visitor, InputStream, OverrideLexer, CommonTokenStream, OverrideParser


def _parse_with_hydra(text: str) -> Any:
    listener, visitor, input_stream, lexer_cls, token_stream, parser_cls = _hydra_parts()
    lexer = lexer_cls(input_stream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = parser_cls(token_stream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    override = visitor.visit(parser.override())
    override.input_line = text
    override.validate()
    return override


_ABSENT = object()


def _child(node: Any, segment: str) -> Any:
    """The child node at `segment`, or `_ABSENT`."""
    if isinstance(node, DictConfig):
        if node._is_none() or node._is_missing() or segment not in node.keys():  # noqa: SIM118
            return _ABSENT
        return node._get_node(segment)
    if isinstance(node, ListConfig):
        try:
            index = int(segment)
        except ValueError:
            return _ABSENT
        return node._get_node(index) if -len(node) <= index < len(node) else _ABSENT
    return _ABSENT


def _find(cfg: DictConfig, path: KeyPath) -> Any:
    node: Any = cfg
    for segment in path:
        node = _child(node, segment)
        if node is _ABSENT:
            return _ABSENT
    return node


def _suggest(cfg: DictConfig, path: KeyPath) -> list[str]:
    wanted = format_key(path)
    parent = _find(cfg, path[:-1]) if len(path) > 1 else cfg
    if isinstance(parent, DictConfig) and not parent._is_none():
        near = difflib.get_close_matches(path[-1], [str(k) for k in parent], 3)
        if near:
            return [format_key((*path[:-1], k)) for k in near]
    everywhere = [format_key(p) for p in iter_leaves(cfg)]
    return difflib.get_close_matches(wanted, everywhere, 3, cutoff=0.75)


def _apply(cfg: DictConfig, op: ParsedOverride, sources: Any) -> None:
    key = format_key(op.path)
    node = _find(cfg, op.path)
    try:
        if op.kind is Kind.CHANGE:
            if node is _ABSENT:
                hint = f"; to add it use +{op.text}" if not _suggest(cfg, op.path) else ""
                raise UnknownKeyError(op.text, key, _suggest(cfg, op.path), hint)
            _set(cfg, op, node, sources)
        elif op.kind is Kind.ADD:
            if node is not _ABSENT:
                raise OverrideError(
                    op.text, f"key '{key}' already exists; to change it use {op.text[1:]}"
                )
            _set(cfg, op, node, sources)
        elif op.kind is Kind.FORCE_ADD:
            _set(cfg, op, node, sources)
        else:
            if node is _ABSENT:
                raise UnknownKeyError(op.text, key, _suggest(cfg, op.path))
            if op.has_value and not _equals(node, op.value):
                current = OmegaConf.to_container(node) if _is_container(node) else node._value()
                raise OverrideError(
                    op.text, f"not deleted: '{key}' is {current!r}, not {op.value!r}"
                )
            _delete(cfg, op.path)
            sources.drop_under(op.path)
    except OmegaConfBaseException as exc:
        raise OverrideError(op.text, str(exc).splitlines()[0]) from exc


def _is_container(node: Any) -> bool:
    return isinstance(node, DictConfig | ListConfig)


def _equals(node: Any, value: Any) -> bool:
    if _is_container(node):
        return bool(OmegaConf.to_container(node) == value)
    return bool(node._value() == value)


def _parent_for_write(cfg: DictConfig, op: ParsedOverride) -> Any:
    parent: Any = cfg
    for depth, segment in enumerate(op.path[:-1], 1):
        child = _child(parent, segment)
        if child is _ABSENT:
            if not isinstance(parent, DictConfig):
                raise OverrideError(op.text, f"no item '{format_key(op.path[:depth])}'")
            with open_dict(parent):
                parent[segment] = {}
            child = _child(parent, segment)
        elif not _is_container(child):
            raise OverrideError(
                op.text, f"'{format_key(op.path[:depth])}' is a value, not a mapping or list"
            )
        parent = child
    return parent


def _set(cfg: DictConfig, op: ParsedOverride, node: Any, sources: Any) -> None:
    parent = _parent_for_write(cfg, op)
    last = op.path[-1]
    merging = isinstance(node, DictConfig) and isinstance(op.value, dict) and not node._is_none()
    if merging:
        with open_dict(node):
            node.merge_with(op.value)
        changed = [(*op.path, *p) for p in iter_leaves(op.value)]
    else:
        if isinstance(parent, ListConfig):
            index = int(last) if last.lstrip("-").isdigit() else None
            if index is None or not -len(parent) <= index < len(parent):
                raise OverrideError(op.text, f"no item {last} in list '{format_key(op.path[:-1])}'")
            parent[index] = op.value
        else:
            with open_dict(parent):
                parent[last] = op.value
        sources.drop_under(op.path)
        changed = [op.path]
    for path in changed:
        sources.drop_under(path)
        sources.set(path, f"override '{op.text}'")


def _delete(cfg: DictConfig, path: KeyPath) -> None:
    parent = _find(cfg, path[:-1]) if len(path) > 1 else cfg
    if isinstance(parent, ListConfig):
        del parent[int(path[-1])]
    else:
        with open_dict(parent):
            del parent[path[-1]]

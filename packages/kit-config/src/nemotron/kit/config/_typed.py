"""Typed configs: dataclasses or msgspec Structs, their defaults, docs and validation.

Field types may be nested records, `Path`, `Literal`, enums, optional fields, lists, dicts and
anything else msgspec can convert. Validation collects every problem (not just the first) with
the key path, where the value came from, the expected type and the value given.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import enum
import functools
import inspect
import itertools
import textwrap
import types
import typing
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import msgspec
from omegaconf import DictConfig

from nemotron.kit.config._keys import KeyPath, Sources, format_key, sources_of
from nemotron.kit.config._resolve import resolve_to_container
from nemotron.kit.config.errors import ConfigValidationError, ValidationIssue

T = TypeVar("T")
MISSING = "???"
RESERVED_TOP_KEYS = ("run",)  # run metadata (`run.data: art://...`), allowed beside any Config


@dataclass(frozen=True)
class FieldSpec:
    """One field of a typed config."""

    name: str
    type: Any
    required: bool
    default: Any = None
    given_doc: str | None = None
    """The field's `help`/`doc` metadata or `Annotated` description, when it has one."""
    owner: type | None = None
    """The record class, whose source has the attribute docstrings (read only when asked)."""

    @property
    def doc(self) -> str | None:
        """The field's description: `given_doc`, else the docstring written under it."""
        if self.given_doc or self.owner is None:
            return self.given_doc
        return _attribute_docs(self.owner).get(self.name)


def is_record(tp: Any) -> bool:
    """True for a dataclass type or a msgspec Struct type."""
    return inspect.isclass(tp) and (dataclasses.is_dataclass(tp) or issubclass(tp, msgspec.Struct))


@functools.cache
def record_fields(cls: type) -> tuple[FieldSpec, ...]:
    """The init fields of a dataclass or Struct, with defaults and docs."""
    specs = []
    if dataclasses.is_dataclass(cls):
        try:
            hints = get_type_hints(cls, include_extras=True)
        except NameError as exc:
            raise TypeError(
                f"cannot read the field types of {cls.__qualname__}: {exc}; define the classes "
                "it uses at module level"
            ) from exc
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            if f.default is not dataclasses.MISSING:
                required, default = False, f.default
            elif f.default_factory is not dataclasses.MISSING:
                required, default = False, f.default_factory()
            else:
                required, default = True, None
            doc = f.metadata.get("help") or f.metadata.get("doc") or _meta_doc(hints[f.name])
            specs.append(FieldSpec(f.name, hints[f.name], required, default, doc or None, cls))
    else:
        try:
            infos = msgspec.structs.fields(cls)
        except NameError as exc:
            raise TypeError(
                f"cannot read the field types of {cls.__qualname__}: {exc}; define the classes "
                "it uses at module level"
            ) from exc
        for info in infos:
            if info.required:
                required, default = True, None
            elif info.default_factory is not msgspec.NODEFAULT:
                required, default = False, info.default_factory()
            else:
                required, default = False, info.default
            specs.append(
                FieldSpec(info.name, info.type, required, default, _meta_doc(info.type), cls)
            )
    return tuple(specs)


def _meta_doc(tp: Any) -> str | None:
    if get_origin(tp) is typing.Annotated:
        for meta in get_args(tp)[1:]:
            if isinstance(meta, msgspec.Meta) and meta.description:
                return meta.description
    return None


@functools.cache
def _attribute_docs(cls: type) -> dict[str, str]:
    """Docstrings written under attributes (`x: int = 1` then `\"\"\"doc\"\"\"`), base classes too."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for stmt, nxt in itertools.pairwise(body):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[stmt.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


def defaults_of(cls: type) -> dict[str, Any]:
    """Plain defaults of a typed config; required fields are `???` (nested records expanded)."""
    out: dict[str, Any] = {}
    for spec in record_fields(cls):
        tp = strip_annotated(spec.type)
        if not spec.required:
            out[spec.name] = msgspec.to_builtins(spec.default, enc_hook=_encode)
        elif is_record(tp):
            out[spec.name] = defaults_of(tp)
        else:
            out[spec.name] = MISSING
    return out


def _encode(obj: Any) -> Any:
    if isinstance(obj, PurePath):
        return str(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def type_name(tp: Any) -> str:
    """A short readable name for a type (`float`, `Path | None`, `'a' | 'b'`)."""
    tp = strip_annotated(tp)
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(type_name(a) for a in get_args(tp))
    if tp is type(None):
        return "None"
    if origin is not None:
        args = ", ".join(type_name(a) for a in get_args(tp))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if inspect.isclass(tp) and issubclass(tp, enum.Enum):
        return " | ".join(repr(m.value) for m in tp)
    return getattr(tp, "__name__", str(tp).replace("typing.", ""))


def strip_annotated(tp: Any) -> Any:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


@dataclass
class _Check:
    sources: Sources
    issues: list[ValidationIssue] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def problem(self, path: KeyPath, tp: Any, value: Any, what: str | None = None) -> None:
        expected = type_name(tp)
        text = what or f"expected {expected}, got {value!r} ({type(value).__name__})"
        self.issues.append(
            ValidationIssue(
                key=format_key(path) or "<root>",
                problem=text,
                source=self.sources.lookup(path),
                expected=expected,
                given=repr(value),
            )
        )

    @property
    def failed(self) -> int:
        return len(self.issues) + len(self.missing)


def to_typed(cls: type[T], cfg: Any) -> T:
    """Validate `cfg` (DictConfig or dict) against `cls` and return a `cls` instance.

    Raises:
        ConfigValidationError: every unknown key, wrong type and missing required field.
        InterpolationError: an interpolation that cannot be resolved.
    """
    return typed_and_plain(cls, cfg)[0]


def typed_and_plain(cls: type, cfg: Any) -> tuple[Any, dict[str, Any]]:
    """`to_typed`, also returning the resolved plain data it was built from."""
    if not is_record(cls):
        raise TypeError(f"{cls!r} is not a dataclass or msgspec Struct")
    if isinstance(cfg, DictConfig):
        data, sources = resolve_to_container(cfg), sources_of(cfg)
    else:
        data, sources = dict(cfg), Sources()
    check = _Check(sources)
    value = _record(cls, data, (), check, top=True)
    if check.failed:
        raise ConfigValidationError(cls.__name__, check.issues, check.missing)
    return value, data


def _record(
    cls: type, data: dict[str, Any], path: KeyPath, check: _Check, top: bool = False
) -> Any:
    specs = {spec.name: spec for spec in record_fields(cls)}
    for key in data:
        if key in specs or (top and key in RESERVED_TOP_KEYS):
            continue
        guess = difflib.get_close_matches(str(key), list(specs), 1)
        hint = f"; did you mean '{format_key((*path, guess[0]))}'?" if guess else ""
        check.issues.append(
            ValidationIssue(
                key=format_key((*path, str(key))),
                problem=f"unknown key for {cls.__name__}{hint}",
                source=check.sources.lookup((*path, str(key))),
            )
        )
    before = check.failed
    kwargs = {}
    for name, spec in specs.items():
        if name not in data:
            if spec.required:
                check.missing.append(f"{format_key((*path, name))} ({type_name(spec.type)})")
            continue
        kwargs[name] = _convert(spec.type, data[name], (*path, name), check)
    if check.failed > before:
        return None
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:  # __post_init__ checks
        check.problem(path, cls, data, f"{cls.__name__}: {exc}")
        return None


def _convert(tp: Any, value: Any, path: KeyPath, check: _Check) -> Any:
    tp = strip_annotated(tp)
    if value == MISSING:
        check.missing.append(f"{format_key(path)} ({type_name(tp)})")
        return None
    if tp is Any or tp is object:
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        if len(others) == 1:
            return _convert(others[0], value, path, check)
        return _leaf(tp, value, path, check)
    if is_record(tp):
        if not isinstance(value, dict):
            check.problem(
                path, tp, value, f"expected a mapping of {tp.__name__} fields, got {value!r}"
            )
            return None
        return _record(tp, value, path, check)
    if origin is list and isinstance(value, list):
        (item,) = get_args(tp) or (Any,)
        return [_convert(item, v, (*path, str(i)), check) for i, v in enumerate(value)]
    if origin is dict and isinstance(value, dict):
        key_type, item = get_args(tp) or (Any, Any)
        return {
            _leaf(key_type, k, path, check): _convert(item, v, (*path, str(k)), check)
            for k, v in value.items()
        }
    if tp is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if inspect.isclass(tp) and issubclass(tp, PurePath):
        if isinstance(value, str | PurePath):
            return tp(value)
        check.problem(path, tp, value)
        return None
    is_enum = inspect.isclass(tp) and issubclass(tp, enum.Enum)
    if is_enum and isinstance(value, str) and value in tp.__members__:
        return tp[value]
    return _leaf(tp, value, path, check)


def _leaf(tp: Any, value: Any, path: KeyPath, check: _Check) -> Any:
    try:
        return msgspec.convert(value, tp, strict=False, dec_hook=_decode)
    except msgspec.ValidationError as exc:
        detail = str(exc)
        where = detail.rsplit(" - at `$", 1)
        inner = f" (at {where[1].rstrip('`')})" if len(where) == 2 and where[1] != "`" else ""
        given = f"{value!r} ({type(value).__name__})"
        check.problem(path, tp, value, f"expected {type_name(tp)}, got {given}{inner}")
        return None


def _decode(tp: Any, obj: Any) -> Any:
    if inspect.isclass(tp) and issubclass(tp, PurePath) and isinstance(obj, str):
        return tp(obj)
    raise TypeError(f"expected {type_name(tp)}")

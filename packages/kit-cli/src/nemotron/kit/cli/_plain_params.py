"""Plain string parameters, converted without Typer's pydantic adapters.

Typer 0.29 converts every parameter through a pydantic `TypeAdapter` it builds on first use:
a stage command's handful of string options and `KEY=VALUE` overrides alone import pydantic and
build several adapters, about 0.1-0.2 s before the stage starts. Their values are the strings
(and flags' bools) click parsed, so `plain_strings()` gives such parameters a conversion that
keeps them as they are. This module is the one place that knows Typer's private `_runtime_param` slot and
`RuntimeParam` class; any other parameter keeps Typer's own conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from typer import _click
from typer._coercion import RuntimeParam

__all__ = ["plain_strings"]

_PLAIN_TYPES: tuple[Any, ...] = (bool, str, str | None, list[str], list[str] | None)


@dataclass(frozen=True)
class _Plain(RuntimeParam):
    """A flag's bool and a `str` stay themselves; a multi-value tuple becomes a list of `str`."""

    def _coerce_value(self, value: Any, param: Any, ctx: _click.Context) -> Any:
        if isinstance(value, (list, tuple)):
            return [str(item) for item in value]
        return value if isinstance(value, bool) else str(value)


def plain_strings(params: list[_click.Parameter]) -> list[_click.Parameter]:
    """Give the string and flag parameters among `params` the plain conversion; returns them."""
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or descriptor.file_annotation is not None:
            continue
        if param._runtime_param is None and any(  # type: ignore[attr-defined]
            descriptor.annotation == kind for kind in _PLAIN_TYPES
        ):
            param._runtime_param = _Plain(  # type: ignore[attr-defined]
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
    return params

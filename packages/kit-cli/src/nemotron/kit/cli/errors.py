"""Errors of nemotron.kit.cli, derived from the kit-wide roots.

    NemotronError
    ├── UserError                     exit 2
    │   ├── UnknownConfigError        `-c NAME` names no file in the stage's config folder
    │   ├── ConflictingOptionsError   e.g. `--run` together with `--batch`
    │   └── MissingInputError         a declared artifact input is empty or does not exist
    └── RecipeLoadError               a recipe group's entry point failed to import (exit 1)

`str(err)` is one line: what is wrong, where, and how to fix it.
"""

from __future__ import annotations

from pathlib import Path

from nemotron.kit.artifacts.errors import NemotronError, UserError

__all__ = [
    "ConflictingOptionsError",
    "MissingInputError",
    "RecipeLoadError",
    "UnknownConfigError",
]


class UnknownConfigError(UserError):
    """`--config NAME` matched no `<config_dir>/<NAME>.yaml` and no existing file."""

    def __init__(self, name: str, config_dir: Path | None, available: list[str]) -> None:
        self.name = name
        self.config_dir = config_dir
        self.available = available
        where = f" in {config_dir}" if config_dir is not None else ""
        choices = ", ".join(available) if available else "none"
        super().__init__(
            f"unknown config {name!r}{where}: use one of [{choices}] or a path to a YAML/TOML/JSON file"
        )


class ConflictingOptionsError(UserError):
    """Two options that exclude each other were given together."""

    def __init__(self, first: str, second: str) -> None:
        self.first = first
        self.second = second
        super().__init__(f"{first} and {second} exclude each other: give only one of them")


class MissingInputError(UserError):
    """A stage's declared artifact input is empty, unknown or missing on disk."""

    def __init__(self, key: str, value: object, expected: str, reason: str, hint: str = "") -> None:
        self.key = key
        self.value = value
        self.expected = expected
        self.reason = reason
        fix = hint or f"set {key}=art://NAME:latest or {key}=/path/to/artifact"
        super().__init__(f"input {key}={value!r} ({expected}): {reason}; {fix}")


class RecipeLoadError(NemotronError):
    """The entry point of a recipe group could not be imported."""

    def __init__(self, group: str, target: str, distribution: str, cause: BaseException) -> None:
        self.group = group
        self.target = target
        self.distribution = distribution
        self.cause = cause
        super().__init__(
            f"recipe group {group!r} ({target}, from {distribution}) failed to load: "
            f"{type(cause).__name__}: {cause}; reinstall {distribution} or run with "
            "NEMOTRON_FULL_ERROR=1 for the traceback"
        )

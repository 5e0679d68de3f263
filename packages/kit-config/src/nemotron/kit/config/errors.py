"""Errors of nemotron.kit.config; all are user mistakes (CLI exit code 2).

    UserError (nemotron.kit.artifacts.errors)
    └── ConfigError                    anything wrong with a config, its file or an override
        ├── ConfigFileError            file missing, unknown suffix, `defaults:` problem or cycle
        ├── ConfigSyntaxError          malformed YAML/TOML/JSON (file:line:col)
        ├── InterpolationError         a `${...}` that cannot be resolved
        │   ├── MissingEnvVarError     `${oc.env:VAR}` with VAR unset and no default
        │   └── ArtifactReferenceError `${art:NAME,FIELD}` that cannot be resolved
        ├── OverrideError              an override that cannot be applied
        │   ├── OverrideParseError     bad override syntax (shows where)
        │   └── UnknownKeyError        setting/deleting a key that does not exist (did you mean)
        ├── ConfigValidationError      the config does not fit the typed Config (all problems)
        └── UsageError                 bad command-line usage of `cli()`

`str(err)` says what is wrong, where (file:line, key or override) and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass

from nemotron.kit.artifacts.errors import UserError

__all__ = [
    "ArtifactReferenceError",
    "ConfigError",
    "ConfigFileError",
    "ConfigSyntaxError",
    "ConfigValidationError",
    "InterpolationError",
    "MissingEnvVarError",
    "OverrideError",
    "OverrideParseError",
    "UnknownKeyError",
    "UsageError",
    "ValidationIssue",
]


class ConfigError(UserError):
    """Base of every kit-config error."""


class ConfigFileError(ConfigError):
    """A config file that is missing, of an unknown kind, or with a bad `defaults:` list."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class ConfigSyntaxError(ConfigError):
    """A YAML/TOML/JSON file that does not parse."""

    def __init__(self, path: str, line: int | None, column: int | None, message: str) -> None:
        self.path, self.line, self.column = path, line, column
        where = path + (f":{line}" if line else "") + (f":{column}" if line and column else "")
        super().__init__(f"{where}: {message}")


class InterpolationError(ConfigError):
    """A `${...}` interpolation that cannot be resolved."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"config key '{key}': {message}")


class MissingEnvVarError(InterpolationError):
    """`${oc.env:VAR}` where VAR is not set and no default is given."""

    def __init__(self, key: str, variable: str) -> None:
        self.variable = variable
        super().__init__(
            key,
            f"environment variable '{variable}' is not set; export it or give a default: "
            f"${{oc.env:{variable},<default>}}",
        )


class ArtifactReferenceError(InterpolationError):
    """`${art:NAME,FIELD}` whose reference, artifact or field cannot be found."""


class OverrideError(ConfigError):
    """An override that cannot be applied to the config."""

    def __init__(self, override: str, message: str) -> None:
        self.override = override
        super().__init__(f"override '{override}': {message}")


class OverrideParseError(OverrideError):
    """An override that does not follow the override grammar; `position` is 0-based."""

    def __init__(self, override: str, message: str, position: int | None = None) -> None:
        self.position = position
        self.reason = message
        where = f" at column {position + 1}" if position is not None else ""
        caret = f"\n    {override}\n    {' ' * position}^" if position is not None else ""
        super().__init__(override, f"syntax error{where}: {message}{caret}")


class UnknownKeyError(OverrideError):
    """An override that sets or deletes a key the config does not have."""

    def __init__(self, override: str, key: str, suggestions: list[str], hint: str = "") -> None:
        self.key, self.suggestions = key, suggestions
        guess = (
            f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        )
        super().__init__(override, f"no key '{key}' in the config{guess}{hint}")


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found while validating a config against its type."""

    key: str
    problem: str
    source: str | None = None
    expected: str | None = None
    given: str | None = None

    def __str__(self) -> str:
        where = f" ({self.source})" if self.source else ""
        return f"{self.key}{where}: {self.problem}"


class ConfigValidationError(ConfigError):
    """The config does not fit the typed Config; every problem is listed in `issues`."""

    def __init__(self, type_name: str, issues: list[ValidationIssue], missing: list[str]) -> None:
        self.type_name, self.issues, self.missing = type_name, issues, missing
        parts = []
        if missing:
            parts.append(
                f"missing required field{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (set in the config file or as key=value overrides)"
            )
        parts.extend(str(issue) for issue in issues)
        super().__init__(f"invalid {type_name}: " + "; ".join(parts))


class UsageError(ConfigError):
    """Bad command-line usage (unknown option, `--config` without a file)."""

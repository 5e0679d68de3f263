"""Artifact and alias names, version selectors and `art://` URIs (pure string handling)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nemotron.kit.artifacts.errors import InvalidNameError, InvalidURIError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_VERSION = re.compile(r"v?(\d+)")
LATEST = "latest"


def check_name(name: object, kind: str = "artifact name") -> str:
    """Return `name` if it is a safe single path component, else raise `InvalidNameError`."""
    if not isinstance(name, str) or not name:
        raise InvalidNameError(str(name) if name is not None else "", "it is empty", kind)
    if "/" in name or "\\" in name:
        raise InvalidNameError(name, "path separators are not allowed", kind)
    if name in {".", ".."} or name.startswith("."):
        raise InvalidNameError(name, "it must not start with '.'", kind)
    if not _NAME.fullmatch(name):
        raise InvalidNameError(
            name, "it has characters outside [A-Za-z0-9._-] or is too long", kind
        )
    return name


def check_alias(alias: object) -> str:
    """Validate an alias name: a safe name that cannot be read as `latest` or a version."""
    alias = check_name(alias, "alias")
    if alias == LATEST or _VERSION.fullmatch(alias):
        raise InvalidNameError(alias, "'latest', 'N' and 'vN' are reserved selectors", "alias")
    return alias


def parse_version(selector: str | int | None) -> int | str:
    """`None`/'latest' -> 'latest'; 3, '3', 'v3' -> 3; anything else is an alias name."""
    if selector is None or selector == LATEST:
        return LATEST
    if isinstance(selector, int):
        if selector < 1:
            raise InvalidNameError(str(selector), "versions start at 1", "version")
        return selector
    match = _VERSION.fullmatch(selector)
    if match:
        return parse_version(int(match.group(1)))
    return check_alias(selector)


@dataclass(frozen=True)
class ArtURI:
    """A parsed `art://` URI: either a registry name + selector, or a plain path."""

    name: str | None = None
    selector: int | str = LATEST
    path: str | None = None


def parse_uri(uri: str) -> ArtURI:
    """Parse `art://NAME[:SEL]` or `art:///abs/path`; raise `InvalidURIError` otherwise."""
    if not uri.startswith("art://"):
        raise InvalidURIError(uri, "it does not start with art://")
    rest = uri[len("art://") :]
    if rest.startswith("/"):
        if rest == "/":
            raise InvalidURIError(uri, "the path is empty")
        return ArtURI(path=rest)
    name, _, selector = rest.partition(":")
    try:
        return ArtURI(name=check_name(name), selector=parse_version(selector or None))
    except InvalidNameError as err:
        raise InvalidURIError(uri, str(err).split(";")[0]) from None


def format_uri(name: str, version: int) -> str:
    """The canonical URI of one published version."""
    return f"art://{name}:v{version}"

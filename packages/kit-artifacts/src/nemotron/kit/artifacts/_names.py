"""Artifact and alias names, version selectors and `art://` URIs (pure string handling)."""

from __future__ import annotations

import re
from typing import NamedTuple

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


class ArtURI(NamedTuple):
    """A parsed `art://` URI: a registry name and selector, or an absolute path.

    Attributes:
        name: Artifact name (`art://NAME[:SEL]`), or None for the path form.
        selector: `"latest"`, a version number (`:v3` / `:3` -> 3) or an alias name.
        path: The absolute path of `art:///abs/path`, or None for the name form.
    """

    name: str | None = None
    selector: int | str = LATEST
    path: str | None = None


def parse_uri(uri: str) -> ArtURI:
    """Parse an artifact URI without touching the registry.

    `art://NAME`, `art://NAME:latest`, `art://NAME:vN` (or `:N`) and `art://NAME:ALIAS` give a
    name and selector; `art:///abs/path` (three slashes) gives a path, never a name.

    Raises:
        InvalidURIError: `uri` has none of these forms (the message says which are expected).
    """
    if not uri.startswith("art://"):
        raise InvalidURIError(uri, "it does not start with art://")
    rest = uri[len("art://") :]
    if rest.startswith("/"):
        if rest == "/":
            raise InvalidURIError(uri, "the path is empty")
        return ArtURI(path=rest)
    name, colon, selector = rest.partition(":")
    if colon and not selector:
        raise InvalidURIError(uri, "the selector after ':' is empty")
    try:
        return ArtURI(name=check_name(name), selector=parse_version(selector or None))
    except InvalidNameError as err:
        raise InvalidURIError(uri, str(err).split(";")[0]) from None


def format_uri(name: str, version: int) -> str:
    """The canonical URI of one published version."""
    return f"art://{name}:v{version}"

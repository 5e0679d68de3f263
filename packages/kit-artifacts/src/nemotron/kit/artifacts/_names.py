"""Artifact and alias names, version selectors and `art://` URIs (pure string handling)."""

from __future__ import annotations

import os
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
    """One artifact reference: a registry name and selector, or a path (the only parser and
    formatter of artifact references; `str()` gives the canonical text).

    Attributes:
        name: Artifact name (`art://NAME[:SEL]` or bare `NAME[:SEL]`), or None for a path.
        selector: `"latest"`, a version number (`:v3` / `:3` -> 3) or an alias name.
        path: An absolute local path or an fsspec URL, or None for the name form.
    """

    name: str | None = None
    selector: int | str = LATEST
    path: str | None = None

    def __str__(self) -> str:
        """`art://NAME:vN`, `art://NAME:latest`, `art://NAME:ALIAS`, `art:///abs/path` or a URL."""
        if self.name is not None:
            selector = f"v{self.selector}" if isinstance(self.selector, int) else self.selector
            return f"art://{self.name}:{selector}"
        assert self.path is not None
        return self.path if is_url(self.path) else f"art://{self.path}"

    @property
    def short(self) -> str:
        """`NAME:vN` / `NAME:SEL` without the scheme (lineage node ids, table cells); a path as is."""
        text = str(self)
        return text.removeprefix("art://") if self.name is not None else (self.path or text)

    @property
    def pinned(self) -> bool:
        """True when the reference names one exact version (`NAME:vN` or a path)."""
        return self.path is not None or isinstance(self.selector, int)


def parse_uri(uri: str) -> ArtURI:
    """Parse an `art://` URI (strictly: the scheme is required) without touching the registry.

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
    return _parse_named(rest, uri)


def parse_ref(ref: str | os.PathLike[str]) -> ArtURI:
    """Parse any artifact reference a user can write (config value, CLI argument, API call).

    - `art://...`: as `parse_uri`;
    - a URL (`s3://b/x`, `file:///x`), or text that starts with `/`, `.` or `~` or contains a
      path separator: a path (made absolute, `~` expanded, `file://` dropped);
    - anything else is a bare registry reference `NAME[:latest|:vN|:N|:ALIAS]` (write `./data`
      for a relative folder named like an artifact).

    Raises:
        InvalidURIError: an empty reference, or a bare one with an invalid name or selector.
    """
    text = os.fspath(ref)
    if not isinstance(text, str):
        raise InvalidURIError(repr(text), "expected text")
    if text.startswith("art://"):
        return parse_uri(text)
    if not text:
        raise InvalidURIError(text, "it is empty")
    if "://" in text or text.startswith((".", "~")) or "/" in text or os.sep in text:
        return ArtURI(path=normalize_path(text))
    return _parse_named(text, text)


def _parse_named(rest: str, original: str) -> ArtURI:
    name, colon, selector = rest.partition(":")
    if colon and not selector:
        raise InvalidURIError(original, "the selector after ':' is empty")
    try:
        return ArtURI(name=check_name(name), selector=parse_version(selector or None))
    except InvalidNameError as err:
        raise InvalidURIError(original, f"{err.kind}: {err.reason}") from None


def art_uri(name: str | None, version: int | None, path: str) -> ArtURI:
    """The reference of an artifact: `NAME:vN` once published, else its path."""
    if name is not None and version is not None:
        return ArtURI(name=name, selector=version)
    return ArtURI(path=normalize_path(path))


def format_uri(name: str, version: int) -> str:
    """The canonical URI of one published version (`art://NAME:vN`)."""
    return str(ArtURI(name=name, selector=version))


def is_url(path: str) -> bool:
    """True for fsspec-style URLs (`s3://...`, `memory://...`), false for local paths."""
    return "://" in path and not path.startswith("file://")


def normalize_path(path: str | os.PathLike[str]) -> str:
    """`str` of a path-like; local paths made absolute, `file://` stripped, URLs kept."""
    text = os.fspath(path)
    if text.startswith("file://"):
        text = text[len("file://") :]
    return text if is_url(text) else os.path.abspath(os.path.expanduser(text))

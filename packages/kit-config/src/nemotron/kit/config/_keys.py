"""Key paths (`a.b[c.d].0`) and where each value of a config came from (file:line, override)."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from omegaconf import DictConfig, ListConfig

KeyPath = tuple[str, ...]


class KeySyntaxError(ValueError):
    """A malformed key path; `position` is the 0-based index of the problem."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def split_key(key: str) -> KeyPath:
    """Split `a.b[c.d].0` into `("a", "b", "c.d", "0")`; a bracket may hold dots."""
    parts: list[str] = []
    buf = ""
    i = 0
    while i < len(key):
        ch = key[i]
        if ch == ".":
            if buf:
                parts.append(buf)
            elif i == 0 or key[i - 1] != "]":
                raise KeySyntaxError(f"empty key segment in '{key}'", i)
            buf = ""
        elif ch == "[":
            if buf:
                parts.append(buf)
                buf = ""
            end = key.find("]", i)
            if end < 0:
                raise KeySyntaxError(f"unclosed '[' in '{key}'", i)
            inner = key[i + 1 : end].strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                inner = inner[1:-1]
            if not inner:
                raise KeySyntaxError(f"empty brackets in '{key}'", i)
            parts.append(inner)
            i = end
        else:
            buf += ch
        i += 1
    if buf:
        parts.append(buf)
    elif key.endswith("."):
        raise KeySyntaxError(f"key '{key}' ends with '.'", len(key) - 1)
    if not parts:
        raise KeySyntaxError("empty key", 0)
    return tuple(parts)


def format_key(path: KeyPath) -> str:
    """Inverse of `split_key`: segments with dots go in brackets, list indices stay dotted."""
    out = ""
    for part in path:
        if "." in part or "[" in part:
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def iter_leaves(value: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key path in a plain or OmegaConf container (containers and leaves)."""
    if isinstance(value, dict | DictConfig):
        for k in value:
            path = (*prefix, str(k))
            yield path
            child = value._get_node(k) if isinstance(value, DictConfig) else value[k]
            if isinstance(child, dict | list | DictConfig | ListConfig):
                yield from iter_leaves(child, path)
    elif isinstance(value, list | ListConfig):
        for i in range(len(value)):
            path = (*prefix, str(i))
            yield path
            child = value._get_node(i) if isinstance(value, ListConfig) else value[i]
            if isinstance(child, dict | list | DictConfig | ListConfig):
                yield from iter_leaves(child, path)


class Sources:
    """Maps key paths to where their value came from; the nearest recorded ancestor answers."""

    def __init__(self, entries: dict[KeyPath, str] | None = None) -> None:
        self.entries: dict[KeyPath, str] = dict(entries or {})

    def copy(self) -> Sources:
        return Sources(self.entries)

    def set(self, path: KeyPath, source: str) -> None:
        self.entries[path] = source

    def update(self, other: Sources) -> None:
        self.entries.update(other.entries)

    def drop_under(self, path: KeyPath) -> None:
        """Forget what is recorded at and below `path` (it was replaced or deleted)."""
        n = len(path)
        for key in [k for k in self.entries if k[:n] == path]:
            del self.entries[key]

    def lookup(self, path: KeyPath) -> str | None:
        for n in range(len(path), 0, -1):
            found = self.entries.get(path[:n])
            if found is not None:
                return found
        return None


class IdentityWeakMap:
    """Values keyed by object identity, dropped when the key object is collected.

    DictConfig compares and hashes by content (resolving interpolations), so a
    `WeakKeyDictionary` would mix up equal configs and recurse inside resolvers.
    """

    def __init__(self) -> None:
        self._items: dict[int, tuple[weakref.ref[Any], Any]] = {}

    def get(self, obj: Any) -> Any:
        item = self._items.get(id(obj))
        return item[1] if item is not None and item[0]() is obj else None

    def set(self, obj: Any, value: Any) -> None:
        key = id(obj)
        self._items[key] = (weakref.ref(obj, lambda _ref: self._items.pop(key, None)), value)


_SOURCES = IdentityWeakMap()


def sources_of(cfg: Any) -> Sources:
    """The sources recorded for `cfg` (an empty map for a config kit-config did not build)."""
    found = _SOURCES.get(cfg)
    return found if isinstance(found, Sources) else Sources()


def attach_sources(cfg: Any, sources: Sources) -> None:
    _SOURCES.set(cfg, sources)

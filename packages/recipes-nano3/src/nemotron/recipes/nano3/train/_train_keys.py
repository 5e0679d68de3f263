"""Refuse `train:` keys the training library does not have, before anything is submitted.

Megatron-Bridge's `apply_overrides` only warns about an unknown key and skips it; NeMo-RL's config
classes are TypedDicts that nothing checks at run time. Either way a typo in `train:` would
silently train with the library's default. Neither library is installed where jobs are submitted,
so their keys ship as data:

- `megatron_bridge_keys.json`: per Megatron-Bridge recipe function, every key of its
  ConfigContainer as `create_omegaconf_dict_config` lays it out (the dict our `train:` is merged
  into). The CPU harness (tests/train/test_megatron_bridge_harness.py) rebuilds it from
  Megatron-Bridge 0.6.2 and fails when it differs.
- `nemo_rl_schema.json`: NeMo-RL v0.7.0's GRPO `MasterConfig` and every config class it reaches,
  with file and line (written by scripts/nemo-rl-schema.py from the tagged source).
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.train.errors import StageConfigError

__all__ = [
    "BRIDGE_VERSION",
    "KEYS_FILE",
    "NEMO_RL_SCHEMA_FILE",
    "check_train_keys",
    "nemo_rl_schema",
]

BRIDGE_VERSION = "0.6.2"
KEYS_FILE = Path(__file__).with_name("megatron_bridge_keys.json")
NEMO_RL_SCHEMA_FILE = Path(__file__).with_name("nemo_rl_schema.json")
NEMO_RL_RECIPE = "nemo-rl"
_NEMO_RL_MARKERS = ("defaults", "_override_")  # NeMo-RL's load_config / merge_with_override


class _Node:
    """The keys allowed at one place of a library config; `keys()` is None where any key goes."""

    def keys(self) -> dict[str, _Node] | None:
        raise NotImplementedError

    def owner(self) -> str:
        raise NotImplementedError


class _BridgeNode(_Node):
    def __init__(self, tree: Any) -> None:
        self.tree = tree

    def keys(self) -> dict[str, _Node] | None:
        if not isinstance(self.tree, dict):
            return None
        return {key: _BridgeNode(child) for key, child in self.tree.items()}

    def owner(self) -> str:
        return (
            f"Megatron-Bridge {BRIDGE_VERSION}'s ConfigContainer (its override merge would skip it)"
        )


class _NemoRLNode(_Node):
    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def keys(self) -> dict[str, _Node] | None:
        classes = nemo_rl_schema()["classes"]
        fields: dict[str, _Node] = {}
        for name in _with_relatives(self.names):
            for entry in classes[name]:
                for key, spec in entry["fields"].items():
                    refs = frozenset(re.findall(r"[A-Z][A-Za-z0-9_]*", spec["type"])) & set(classes)
                    fields[key] = _NemoRLNode(refs) if refs else _NemoRLNode(frozenset())
        return fields or None

    def owner(self) -> str:
        schema = nemo_rl_schema()
        where = ", ".join(
            f"{name} ({entry['file']}:{entry['line']})"
            for name in sorted(self.names)
            for entry in schema["classes"][name]
        )
        return f"NeMo-RL {schema['tag']}'s config: {where}"


def _with_relatives(names: frozenset[str]) -> set[str]:
    """The classes, their base classes and subclasses (a TypedDict's keys include its bases')."""
    classes = nemo_rl_schema()["classes"]
    result = set(names)
    grew = True
    while grew:
        more = {b for n in result for e in classes[n] for b in e["bases"] if b in classes}
        more |= {n for n, es in classes.items() if any(set(e["bases"]) & result for e in es)}
        grew = not more <= result
        result |= more
    return result


@functools.cache
def _bridge() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(KEYS_FILE.read_text())["recipes"]
    return data


@functools.cache
def nemo_rl_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(NEMO_RL_SCHEMA_FILE.read_text())
    return data


def _root(recipe: str) -> _Node | None:
    if recipe == NEMO_RL_RECIPE:
        return _NemoRLNode(frozenset({"MasterConfig"}))
    tree = _bridge().get(recipe)
    return None if tree is None else _BridgeNode(tree)


def check_train_keys(recipe: str, train: Mapping[str, Any], overrides: Sequence[str] = ()) -> None:
    """Raise `StageConfigError` for the first key of `train` (or of a `train.` override, given
    without its `train.` prefix) that the library's config lacks, naming the closest key.

    A Megatron-Bridge recipe function not in the shipped list is not checked (keys unknown here).
    """
    root = _root(recipe)
    if root is None:
        return
    _check_mapping(root, train, ("train",), root)
    for override in overrides:
        node: _Node | None = root
        path: tuple[str, ...] = ("train",)
        for part in override.lstrip("+~").split("=", 1)[0].split("."):
            if node is None or part in _NEMO_RL_MARKERS:
                break
            node = _child(node, part, path, root)
            path = (*path, part)


def _check_mapping(
    node: _Node, values: Mapping[str, Any], path: tuple[str, ...], root: _Node
) -> None:
    for key, value in values.items():
        if str(key) in _NEMO_RL_MARKERS and isinstance(root, _NemoRLNode):
            continue
        child = _child(node, str(key), path, root)
        if child is not None and isinstance(value, Mapping):
            _check_mapping(child, value, (*path, str(key)), root)


def _child(node: _Node, key: str, path: tuple[str, ...], root: _Node) -> _Node | None:
    """The node under `key` (None: any key goes below it), or the error naming the closest key."""
    keys = node.keys()
    if keys is None:
        return None
    if key in keys:
        return keys[key]
    guess = difflib.get_close_matches(key, list(keys), 1)
    top = root.keys() or {}
    elsewhere = [s for s, sub in top.items() if key in (sub.keys() or {})]
    if guess:
        hint = f"did you mean '{'.'.join((*path, guess[0]))}'?"
    elif len(path) == 2 and elsewhere:  # a section key put in the wrong section
        hint = f"did you mean 'train.{elsewhere[0]}.{key}'?"
    else:
        hint = "remove it"
    raise StageConfigError(".".join((*path, key)), f"is not a key of {node.owner()}", hint)

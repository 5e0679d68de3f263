"""Refuse `train:` keys that Megatron-Bridge does not have, before anything is submitted.

Megatron-Bridge's `apply_overrides` only warns about an unknown key and skips it, so a typo in
`train:` would silently train with the recipe's value. Megatron-Bridge is not installed where jobs
are submitted, so its keys ship as data: `megatron_bridge_keys.json` lists, per recipe function,
every key of the ConfigContainer as `create_omegaconf_dict_config` lays it out (the same dict our
`train:` is merged into). The CPU harness (tests/train/test_megatron_bridge_harness.py) rebuilds
that list from Megatron-Bridge 0.6.2 itself and fails when the shipped one differs.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.train.errors import StageConfigError

__all__ = ["BRIDGE_VERSION", "KEYS_FILE", "check_train_keys"]

BRIDGE_VERSION = "0.6.2"
KEYS_FILE = Path(__file__).with_name("megatron_bridge_keys.json")


@functools.cache
def _recipes() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(KEYS_FILE.read_text())["recipes"]
    return data


def check_train_keys(recipe: str, train: Mapping[str, Any], overrides: Sequence[str] = ()) -> None:
    """Raise `StageConfigError` for the first key of `train` (or of a `train.` override, given
    without its `train.` prefix) that the recipe's ConfigContainer lacks, with the closest key.

    A recipe function not in the shipped list is not checked (its keys are unknown here).
    """
    tree = _recipes().get(recipe)
    if tree is None:
        return
    _check_mapping(tree, train, ("train",), tree)
    for override in overrides:
        key = override.lstrip("+~").split("=", 1)[0]
        node: Any = tree
        path: tuple[str, ...] = ("train",)
        for part in key.split("."):
            if not isinstance(node, dict):
                break
            _require(node, part, path, tree)
            node, path = node[part], (*path, part)


def _check_mapping(
    tree: dict[str, Any], values: Mapping[str, Any], path: tuple[str, ...], root: dict[str, Any]
) -> None:
    for key, value in values.items():
        _require(tree, str(key), path, root)
        child = tree[str(key)]
        if isinstance(child, dict) and isinstance(value, Mapping):
            _check_mapping(child, value, (*path, str(key)), root)


def _require(tree: dict[str, Any], key: str, path: tuple[str, ...], root: dict[str, Any]) -> None:
    if key in tree:
        return
    guess = difflib.get_close_matches(key, list(tree), 1)
    elsewhere = [s for s, keys in root.items() if isinstance(keys, dict) and key in keys]
    if guess:
        hint = f"did you mean '{'.'.join((*path, guess[0]))}'?"
    elif len(path) == 2 and elsewhere:  # a section key put in the wrong section
        hint = f"did you mean 'train.{elsewhere[0]}.{key}'?"
    else:
        hint = "remove it"
    raise StageConfigError(
        ".".join((*path, key)),
        f"is not a key of Megatron-Bridge {BRIDGE_VERSION}'s ConfigContainer"
        f" (its override merge would skip it with a warning)",
        hint,
    )

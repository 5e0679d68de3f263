"""Find recipe groups registered under the `nemotron.recipes` entry-point group, cheaply.

`importlib.metadata` costs ~70 ms to import and scans every distribution's metadata; `nemotron
--help` only needs the few `entry_points.txt` files that mention our group. This module walks
`sys.path` for `*.dist-info` folders once (first distribution of a name wins, as in
`importlib.metadata`) and reads only their entry points and, for matching ones, the summary line.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from functools import cache

__all__ = ["ENTRY_POINT_GROUP", "RecipeEntryPoint", "recipe_entry_points"]

ENTRY_POINT_GROUP = "nemotron.recipes"

_SECTION = re.compile(r"^\[\s*(?P<name>[^\]]+?)\s*\]\s*$")


@dataclass(frozen=True)
class RecipeEntryPoint:
    """One `name = module:attr` line of the `nemotron.recipes` group."""

    name: str
    value: str
    distribution: str
    summary: str

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()

    @property
    def attr(self) -> str:
        return self.value.partition(":")[2].strip()


def _normalize(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _group_lines(text: str, group: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        match = _SECTION.match(line)
        if match:
            section = match.group("name")
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    return found


def _summary(dist_info: str) -> str:
    try:
        with open(os.path.join(dist_info, "METADATA"), encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    break
                if line.startswith("Summary:"):
                    return line.removeprefix("Summary:").strip()
    except OSError:
        pass
    return ""


def _dist_infos(path_entry: str) -> list[tuple[str, str]]:
    try:
        entries = sorted(os.scandir(path_entry or "."), key=lambda e: e.name)
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.name.endswith((".dist-info", ".egg-info")):
            dist = entry.name.rsplit(".", 1)[0].split("-", 1)[0]
            found.append((_normalize(dist), entry.path))
    return found


@cache
def recipe_entry_points(group: str = ENTRY_POINT_GROUP) -> tuple[RecipeEntryPoint, ...]:
    """Every recipe group on `sys.path`, in path order, first registration of a name winning."""
    seen_dists: set[str] = set()
    seen_names: set[str] = set()
    result: list[RecipeEntryPoint] = []
    for path_entry in sys.path:
        for dist, dist_info in _dist_infos(path_entry):
            if dist in seen_dists:
                continue
            seen_dists.add(dist)
            try:
                with open(os.path.join(dist_info, "entry_points.txt"), encoding="utf-8") as fh:
                    text = fh.read()
            except OSError:
                continue
            if group not in text:
                continue
            summary = None
            for name, value in _group_lines(text, group):
                if name in seen_names:
                    continue
                seen_names.add(name)
                if summary is None:
                    summary = _summary(dist_info)
                result.append(RecipeEntryPoint(name, value, dist, summary))
    return tuple(result)

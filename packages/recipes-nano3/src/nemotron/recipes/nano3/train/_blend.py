"""Read a pretrain blend file into Megatron's per-split blends.

The file is Megatron-LM's `--per-split-data-args-path` JSON (also read by Megatron-Bridge's
`data.loaders.get_blend_and_blend_per_split`): `{"train": [w1, prefix1, w2, prefix2, ...],
"valid": [...], "test": [...]}`, each split a list or one space-separated string; weights are
optional when a split has one prefix. Relative prefixes are relative to the blend file's folder.
The result is what megatron-core's `BlendedMegatronDatasetConfig.blend_per_split` holds:
`[(prefixes, weights | None)]` for train, valid, test.
"""

from __future__ import annotations

import json
from pathlib import Path

from nemotron.recipes.nano3.train.errors import StageConfigError

__all__ = ["SPLITS", "read_blend_per_split"]

SPLITS = ("train", "valid", "test")

Blend = tuple[list[str], list[float] | None]


def read_blend_per_split(blend_file: str | Path) -> list[Blend | None]:
    """The train/valid/test blends of `blend_file`, prefixes made absolute."""
    path = Path(blend_file)
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise StageConfigError(
            "run.blend_file", f"cannot read {path} ({err})", "point it at the data's blend.json"
        ) from err
    if not isinstance(raw, dict) or "train" not in raw:
        raise StageConfigError(
            "run.blend_file",
            f"{path} has no 'train' split",
            'expected {"train": [weight, prefix, ...], "valid": [...], "test": [...]}',
        )
    return [_split_blend(path, name, raw.get(name)) for name in SPLITS]


def _split_blend(path: Path, name: str, value: object) -> Blend | None:
    items = value.split() if isinstance(value, str) else value
    if not items:
        return None
    if not isinstance(items, list):
        raise StageConfigError(
            "run.blend_file", f"{path}: split '{name}' is {type(items).__name__}", "use a list"
        )
    words = [str(item) for item in items]
    if len(words) == 1:
        return [_absolute(path, words[0])], None
    if len(words) % 2:
        raise StageConfigError(
            "run.blend_file",
            f"{path}: split '{name}' has an odd number of entries",
            "list weight, prefix pairs",
        )
    try:
        weights = [float(w) for w in words[0::2]]
    except ValueError as err:
        raise StageConfigError(
            "run.blend_file", f"{path}: split '{name}': {err}", "list weight, prefix pairs"
        ) from err
    return [_absolute(path, p) for p in words[1::2]], weights


def _absolute(blend_file: Path, prefix: str) -> str:
    candidate = Path(prefix)
    return str(candidate if candidate.is_absolute() else (blend_file.parent / candidate).absolute())

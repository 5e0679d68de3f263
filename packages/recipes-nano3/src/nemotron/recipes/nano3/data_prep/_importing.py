"""Register data prepared elsewhere as artifacts (`nemotron nano3 data import ...`).

Each importer checks that the folder holds what the consumers read, counts it, and publishes
the artifact with the folder as its path (no copy). Nothing is written into the folder (it may
be read-only): the registry record alone describes the version (`from_uri`, `art://`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.data_prep._common import blends_artifact, split_jsonl_artifact
from nemotron.recipes.nano3.data_prep._indexed import IndexedDataset
from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError, InputDataError

_SFT_NAMES = {"train": "training", "valid": "validation", "test": "test"}


def _register(artifact: Any, name: str) -> Any:
    """Publish `artifact` (its folder left untouched); a bad name is a one-line error."""
    from nemotron.kit.artifacts.errors import InvalidNameError

    try:
        return artifact.save(name=name, metadata_file=False)
    except InvalidNameError as err:
        raise DataPrepConfigError("--name", str(err)) from None


def _folder(path: str | Path) -> Path:
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise InputDataError(str(folder), 0, "not a folder")
    return folder


def import_pretrain(path: str | Path, name: str = "nano3-pretrain-data") -> Any:
    """A folder with `blend.json` (Megatron per-split form) and the `.bin`/`.idx` it lists."""
    folder = _folder(path)
    blend_path = folder / "blend.json"
    if not blend_path.is_file():
        raise InputDataError(
            str(blend_path), 0, 'missing: expected {"train": [weight, prefix, ...], ...}'
        )
    try:
        blend = json.loads(blend_path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputDataError(str(blend_path), 0, f"not readable as JSON ({err})") from None
    if not isinstance(blend, dict):
        raise InputDataError(str(blend_path), 0, 'expected {"train": [weight, prefix, ...], ...}')
    prefixes: dict[str, list[str]] = {}
    tokens: dict[str, int] = {}
    sequences = 0
    for split in ("train", "valid", "test"):
        entries = [str(x) for x in (blend.get(split) or [])]
        names = entries[1::2] if len(entries) > 1 else entries
        prefixes[split], tokens[split] = [], 0
        for prefix in names:
            full = Path(prefix) if Path(prefix).is_absolute() else folder / prefix
            if not Path(f"{full}.idx").is_file() or not Path(f"{full}.bin").is_file():
                raise InputDataError(
                    str(blend_path), 0, f"split {split}: {full}.bin/.idx not found"
                )
            try:
                dataset = IndexedDataset.open(full)
            except (OSError, ValueError, KeyError) as err:
                raise InputDataError(f"{full}.idx", 0, f"not a Megatron index ({err})") from None
            prefixes[split].append(str(full))
            tokens[split] += int(dataset.lengths.sum(dtype="int64"))
            sequences += len(dataset)
    artifact = blends_artifact(
        folder, blend_path, prefixes, tokens, sequences, metadata={"imported": True}
    )
    return _register(artifact, name)


def import_sft(path: str | Path, pack_size: int, name: str = "nano3-sft-data") -> Any:
    """A folder with `training.idx.parquet` (or `training.npy`) and optional validation/test files."""
    from nemotron.kit.artifacts import SFTDataArtifact

    if pack_size < 1:
        raise DataPrepConfigError("--pack-size", f"must be a positive token count, got {pack_size}")
    folder = _folder(path)
    found: dict[str, str | None] = {}
    packs = 0
    for split, stem in _SFT_NAMES.items():
        candidates = [folder / f"{stem}.idx.parquet", folder / f"{stem}.npy"]
        file = next((c for c in candidates if c.is_file()), None)
        found[split] = str(file) if file else None
        if file is not None and file.suffix == ".parquet":
            import pyarrow.parquet as pq

            try:
                packs += pq.ParquetFile(file).metadata.num_rows
            except (OSError, ValueError) as err:
                raise InputDataError(str(file), 0, f"not a parquet file ({err})") from None
    if found["train"] is None:
        raise InputDataError(str(folder), 0, "no training.idx.parquet or training.npy")
    artifact = SFTDataArtifact(
        path=str(folder),
        pack_size=pack_size,
        training_path=found["train"],
        validation_path=found["valid"],
        test_path=found["test"],
        num_sequences=packs,
        metadata={"imported": True},
    )
    return _register(artifact, name)


def import_rl(path: str | Path, name: str = "nano3-rl-data") -> Any:
    """A folder with `train.jsonl` (and optionally `val.jsonl`, `test.jsonl`, `manifest.json`)."""
    folder = _folder(path)
    counts: dict[str, int] = {}
    paths: dict[str, str | None] = {}
    for split in ("train", "val", "test"):
        file = folder / f"{split}.jsonl"
        paths[split] = str(file) if file.is_file() else None
        with open(file, "rb") if file.is_file() else open("/dev/null", "rb") as f:
            counts[split] = sum(1 for line in f if line.strip())
    if paths["train"] is None:
        raise InputDataError(str(folder), 0, "no train.jsonl")
    manifest = folder / "manifest.json"
    artifact = split_jsonl_artifact(
        folder,
        paths,
        counts,
        manifest_path=str(manifest) if manifest.is_file() else None,
        metadata={"imported": True},
    )
    return _register(artifact, name)

"""Pieces every data prep stage shares: settings, start-up, lineage records, publishing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.data_prep._config import SourceConfig
from nemotron.recipes.nano3.data_prep._sources import Shard
from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError


def work_dir(output_dir: Path, name: str) -> Path:
    """A work folder inside the output folder (never inside a published folder)."""
    return output_dir / ".work" / name


def dataset_inputs(
    sources: list[SourceConfig], shards: list[Shard], results: dict[str, Any]
) -> list[Any]:
    """One InputDatasetInfo per source: uri, revision, split, field, weight, rows, bytes, files
    (`results`: each shard's result by shard id; its `documents` are the rows read)."""
    rows: dict[str, int] = {}
    for shard in shards:
        rows[shard.source] = rows.get(shard.source, 0) + results[shard.id]["documents"]
    infos = []
    for source in sources:
        mine = [s for s in shards if s.source == source.name]
        infos.append(
            source_input(
                source,
                rows=rows.get(source.name, 0),
                files=sorted({s.url for s in mine}),
                size=sum(s.size for s in mine),
            )
        )
    return infos


def source_input(source: SourceConfig, *, rows: int, files: list[str], size: int = 0) -> Any:
    """A source as an InputDatasetInfo (`rows` read from it, its `files`, `size` bytes)."""
    from nemotron.kit.artifacts import InputDatasetInfo

    hf = source.path.startswith("hf://")
    return InputDatasetInfo(
        uri=source.path if "://" in source.path else str(Path(source.path).resolve()),
        name=source.name,
        revision=source.revision,
        split=source.split if hf else None,
        subset=source.subset,
        text_field=source.text_field,
        weight=source.weight,
        rows=rows,
        bytes=size,
        files=files[:1000],
    )


def tokenizer_input(source: str, digest: str) -> Any:
    """The tokenizer as a lineage input (its content digest as the revision)."""
    from nemotron.kit.artifacts import InputDatasetInfo

    return InputDatasetInfo(uri=source, name="tokenizer", revision=digest)


def sum_stats(results: dict[str, dict[str, Any]], key: str) -> int:
    return sum(int(r.get(key, 0)) for r in results.values())


def bad_record_summary(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    examples = [e for r in results.values() for e in r.get("bad_examples", [])]
    return {"bad_records": sum_stats(results, "bad_records"), "bad_record_examples": examples[:10]}


def plural(count: int, noun: str) -> str:
    """`1 shard`, `2 shards`, `1,024 packs`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def refuse_empty(stage: str, results: dict[str, dict[str, Any]]) -> None:
    """Publishing nothing is an error: say how many records were read and skipped."""
    if sum_stats(results, "documents"):
        return
    records, bad = sum_stats(results, "records"), sum_stats(results, "bad_records")
    examples = bad_record_summary(results)["bad_record_examples"]
    raise DataPrepConfigError(
        "sources",
        f"{stage} data has nothing to publish: {plural(records, 'record')} read, {bad:,} bad"
        + (f" (e.g. {examples[0]})" if examples else ""),
    )


def skipped_text(metadata: dict[str, Any]) -> str:
    """` (N bad records skipped)` for a summary line, or nothing."""
    bad = int(metadata.get("bad_records", 0))
    return f" ({plural(bad, 'bad record')} skipped)" if bad else ""


def publish(artifact: Any, name: str) -> Any:
    """Write metadata.json beside the data and publish it as the next version of `name`."""
    if not name:
        raise DataPrepConfigError("artifact_name", "is empty; name the artifact to publish")
    return artifact.save(name=name)


def split_jsonl_artifact(
    folder: Path, paths: dict[str, Any], counts: dict[str, int], **fields: Any
) -> Any:
    """A SplitJsonlDataArtifact from per-split file paths and record counts (plus `fields`)."""
    from nemotron.kit.artifacts import SplitJsonlDataArtifact

    return SplitJsonlDataArtifact(
        path=str(folder),
        train_path=paths["train"],
        val_path=paths["val"],
        test_path=paths["test"],
        train_count=counts["train"],
        val_count=counts["val"],
        test_count=counts["test"],
        **fields,
    )


def blends_artifact(
    folder: Path,
    blend_path: Path,
    prefixes: dict[str, list[str]],
    tokens: dict[str, int],
    sequences: int,
    **fields: Any,
) -> Any:
    """A PretrainBlendsArtifact from per-split prefixes and token counts (plus other `fields`)."""
    from nemotron.kit.artifacts import PretrainBlendsArtifact

    return PretrainBlendsArtifact(
        path=str(folder),
        blend_path=str(blend_path),
        train=prefixes["train"],
        valid=prefixes["valid"],
        test=prefixes["test"],
        total_tokens=sum(tokens.values()),
        train_tokens=tokens["train"],
        valid_tokens=tokens["valid"],
        test_tokens=tokens["test"],
        total_sequences=sequences,
        **fields,
    )

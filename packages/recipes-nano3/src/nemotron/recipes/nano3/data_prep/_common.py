"""Pieces every data prep stage shares: settings, start-up, lineage records, publishing."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.data_prep._sources import Shard, SourceConfig
from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError

SPLITS = ("train", "valid", "test")
ENGINES = ("local", "ray", "slurm-array")
_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass
class EngineConfig:
    """Where shards run."""

    engine: str = "local"
    """`local` (process pool on this machine), `ray` (a Ray cluster; extra recipes-nano3[ray]) or
    `slurm-array` (a Slurm job array plus a merge job, submitted through kit-run)."""
    workers: int = 0
    """Worker processes (local, and each array task) or concurrent tasks (ray); 0 = all cores."""
    ray_address: str | None = None
    """Ray cluster to join (`auto` inside a Ray job); null starts a local Ray instance."""
    profile: str | None = None
    """slurm-array: the env.toml Slurm profile the array and the merge job go to."""
    array_tasks: int = 4
    """slurm-array: tasks in the job array; task t runs the shards at plan positions p % N == t."""
    detach: bool = False
    """slurm-array: return once submitted instead of following the merge job."""
    array_role: str = ""
    """Set by the slurm-array engine on the jobs it submits (`task`, `merge`); leave empty."""
    shard_bytes: int = 64 * 1024 * 1024
    """Input bytes per shard (the unit of parallel work and of resume)."""
    hf_shards: int = 64
    """Shards per Hugging Face dataset source."""
    keep_work: bool = False
    """Keep the per-shard work folder after a successful run."""

    def check(self) -> None:
        if self.engine not in ENGINES:
            raise DataPrepConfigError(
                "run.engine", f"must be one of {', '.join(ENGINES)}, got {self.engine!r}"
            )
        for key in ("workers", "shard_bytes", "hf_shards", "array_tasks"):
            value, least = getattr(self, key), 0 if key == "workers" else 1
            if not isinstance(value, int) or value < least:
                hint = " (0 = all cores)" if key == "workers" else ""
                raise DataPrepConfigError(
                    f"run.{key}", f"must be at least {least}{hint}, got {value}"
                )


@dataclass
class SplitConfig:
    """Fractions of documents held out; each document's split comes from a hash of its content."""

    valid: float = 0.0
    test: float = 0.0
    seed: int = 0
    """Changes which documents are held out, not how many."""

    def check(self) -> None:
        for key in ("valid", "test"):
            value = getattr(self, key)
            if not 0.0 <= value < 1.0:
                raise DataPrepConfigError(f"split.{key}", f"must be in [0, 1), got {value}")
        if self.valid + self.test >= 1.0:
            raise DataPrepConfigError("split", "valid + test must leave documents for train")


@dataclass
class CommonConfig:
    """Fields shared by the three stage configs."""

    sources: list[SourceConfig] = field(default_factory=list)
    output_dir: str = "./output/nano3/data"
    on_bad_record: str = "error"
    """`error` stops at the first bad record (naming file:line); `skip` skips and counts them."""
    artifact_name: str = ""
    """Registry name to publish the artifact under."""
    overwrite: bool = False
    """Rebuild this config's published folder: the registry version pointing at it is deleted
    first (a version's files are otherwise never rewritten; another config gets a new folder)."""
    run: EngineConfig = field(default_factory=EngineConfig)

    def check(self) -> None:
        """Refuse any value the stage cannot use, before any work (one line naming the key)."""
        from nemotron.kit.artifacts.errors import InvalidNameError

        check_sources(self.sources)
        if self.on_bad_record not in ("error", "skip"):
            raise DataPrepConfigError(
                "on_bad_record", f"must be `error` or `skip`, got {self.on_bad_record!r}"
            )
        if not self.artifact_name:
            raise DataPrepConfigError("artifact_name", "is empty; name the artifact to publish")
        from nemotron.kit.artifacts._names import check_name

        try:
            check_name(self.artifact_name)
        except InvalidNameError as err:
            raise DataPrepConfigError("artifact_name", str(err)) from None
        if not str(self.output_dir).strip():
            raise DataPrepConfigError("output_dir", "is empty; give the folder to write under")
        self.run.check()
        split = getattr(self, "split", None)
        if split is not None:
            split.check()


ASSETS = Path(__file__).resolve().parent.parent / "assets"
ASSET_PREFIX = "@nano3/"


def asset_path(path: str) -> str:
    """`@nano3/...` names a file shipped in recipes-nano3's assets folder; other paths pass through."""
    return str(ASSETS / path.removeprefix(ASSET_PREFIX)) if path.startswith(ASSET_PREFIX) else path


def check_sources(sources: list[SourceConfig]) -> None:
    """Fail on an empty source list, unsafe or repeated names and negative weights; resolve
    `@nano3/` asset paths in place."""
    if not sources:
        raise DataPrepConfigError("sources", "is empty; list at least one {name, path}")
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise DataPrepConfigError("sources", f"source names must be unique, got {names}")
    for i, source in enumerate(sources):
        if not isinstance(source.name, str) or not _SOURCE_NAME.fullmatch(source.name):
            raise DataPrepConfigError(
                f"sources[{i}].name",
                f"{str(source.name)[:60]!r} cannot name output files; use letters, digits, . _ -",
            )
        weight = source.weight
        if not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
            raise DataPrepConfigError(
                f"sources[{i}].weight", f"must be a number >= 0, got {weight!r}"
            )
        source.path = asset_path(source.path)


def check_encoder(tokenizer: str, encoder: str) -> None:
    """The `tokenizer` and `encoder` keys of a tokenizing stage."""
    from nemotron.recipes.nano3.data_prep._tokenizer import ENCODER_CHOICES

    if not tokenizer:
        raise DataPrepConfigError("tokenizer", "is empty; give a tokenizer path or hub name")
    if encoder not in ENCODER_CHOICES:
        raise DataPrepConfigError(
            "encoder", f"must be one of {', '.join(ENCODER_CHOICES)}, got {encoder!r}"
        )


def work_dir(output_dir: Path, name: str) -> Path:
    """A work folder inside the output folder (never inside a published folder)."""
    return output_dir / ".work" / name


def dataset_inputs(
    sources: list[SourceConfig], shards: list[Shard], rows: dict[str, int]
) -> list[Any]:
    """One InputDatasetInfo per source: uri, revision, split, field, weight, rows, bytes, files."""
    from nemotron.kit.artifacts import InputDatasetInfo

    infos = []
    for source in sources:
        mine = [s for s in shards if s.source == source.name]
        files = sorted({s.url for s in mine})
        hf = source.path.startswith("hf://")
        infos.append(
            InputDatasetInfo(
                uri=source.path if "://" in source.path else str(Path(source.path).resolve()),
                name=source.name,
                revision=source.revision,
                split=source.split if hf else None,
                subset=source.subset,
                text_field=source.text_field,
                weight=source.weight,
                rows=rows.get(source.name, 0),
                bytes=sum(s.size for s in mine),
                files=files[:1000],
            )
        )
    return infos


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


def reused(artifact: Any) -> str:
    """The line a stage prints when its config was published before."""
    return (
        f"this config is already published as {artifact.uri} ({artifact.path}); reusing it "
        "(overwrite=true rebuilds it)"
    )


def publish(artifact: Any, name: str) -> Any:
    """Write metadata.json beside the data and publish it as the next version of `name`."""
    if not name:
        raise DataPrepConfigError("artifact_name", "is empty; name the artifact to publish")
    return artifact.save(name=name)


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

"""Pieces every data prep stage shares: settings, start-up, lineage records, publishing."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.data_prep._sources import Shard, SourceConfig
from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError

SPLITS = ("train", "valid", "test")


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
    run: EngineConfig = field(default_factory=EngineConfig)


ASSETS = Path(__file__).resolve().parent.parent / "assets"
ASSET_PREFIX = "@nano3/"


def asset_path(path: str) -> str:
    """`@nano3/...` names a file shipped in recipes-nano3's assets folder; other paths pass through."""
    return str(ASSETS / path.removeprefix(ASSET_PREFIX)) if path.startswith(ASSET_PREFIX) else path


def check_sources(sources: list[SourceConfig]) -> None:
    """Fail on an empty source list; resolve `@nano3/` asset paths in place."""
    if not sources:
        raise DataPrepConfigError("sources", "is empty; list at least one {name, path}")
    for source in sources:
        source.path = asset_path(source.path)


def work_dir(output_dir: Path, fingerprint: str) -> Path:
    """The resumable work folder of a plan inside the output folder."""
    return output_dir / ".work" / fingerprint


def finish_work(output_dir: Path, keep: bool) -> None:
    if not keep:
        shutil.rmtree(output_dir / ".work", ignore_errors=True)


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

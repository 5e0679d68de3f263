"""The data prep stage configs and their checks (light: imported by the CLI to validate a
config before it launches anything, so nothing heavy here).

Each config's `check()` refuses, with one line naming the key, any value the stage cannot use;
the stage runs it first, and `nemotron nano3 data prep` runs it before launching the job.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError

ENCODER_CHOICES = ("auto", "reference", "gigatoken")
"""Values of a tokenizing stage's `encoder` key."""


@dataclass
class SourceConfig:
    """One input dataset of a blend."""

    name: str
    """Short name: names the output files and the lineage entry."""
    path: str
    """File, folder, glob, fsspec URL, or `hf://org/dataset`."""
    weight: float = 1.0
    """Blend weight (pretrain)."""
    text_field: str = "text"
    """Field holding the document (pretrain), the messages (SFT) or the prompt (RL)."""
    subset: str | None = None
    """Hugging Face dataset config name."""
    split: str = "train"
    """Hugging Face dataset split."""
    revision: str | None = None
    """Hugging Face dataset revision (commit or tag)."""


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
        from nemotron.kit.artifacts import check_name

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
    if not tokenizer:
        raise DataPrepConfigError("tokenizer", "is empty; give a tokenizer path or hub name")
    if encoder not in ENCODER_CHOICES:
        raise DataPrepConfigError(
            "encoder", f"must be one of {', '.join(ENCODER_CHOICES)}, got {encoder!r}"
        )


@dataclass
class PretrainDataConfig(CommonConfig):
    """Pretrain data prep: JSONL/Parquet/HF text -> Megatron bin/idx + blend.json."""

    tokenizer: str = ""
    """tokenizer.json path, folder, Hugging Face hub name, or tiktoken:<encoding>."""
    tokenizer_revision: str | None = None
    eod_token: str | None = None
    """Token appended to every document; null = the tokenizer's eos_token."""
    append_eod: bool = True
    encoder: str = "auto"
    """`auto` (fastest encoder proven identical), `reference`, or `gigatoken`."""
    verify_docs: int = 256
    """Documents of the input (the first 1,024 characters of each) encoded by both encoders at
    start-up."""
    split: SplitConfig = field(default_factory=SplitConfig)
    artifact_name: str = "nano3-pretrain-data"

    def check(self) -> None:
        super().check()
        check_encoder(self.tokenizer, self.encoder)
        if not isinstance(self.verify_docs, int) or self.verify_docs < 0:
            raise DataPrepConfigError("verify_docs", f"must be >= 0, got {self.verify_docs}")
        if not any(s.weight > 0 for s in self.sources):
            raise DataPrepConfigError(
                "sources", "every blend weight is 0; give at least one source a weight > 0"
            )


@dataclass
class SFTDataConfig(CommonConfig):
    """SFT data prep: chat JSONL/Parquet -> Nano 3 chat template -> packed sequences."""

    tokenizer: str = ""
    tokenizer_revision: str | None = None
    chat_template: str | None = None
    """Jinja template file; null = the tokenizer's own chat template."""
    pack_size: int = 4096
    """Tokens per pack (Megatron-Bridge `packed_sequence_size`)."""
    long_sequences: str = "drop"
    """Conversations longer than pack_size: `drop` (counted) or `truncate`."""
    format: str = "parquet"
    """`parquet` (GPTSFTPackedParquetDataset, streamed) or `npy` (GPTSFTPackedDataset)."""
    encoder: str = "auto"
    split: SplitConfig = field(default_factory=lambda: SplitConfig(valid=0.02, test=0.0))
    artifact_name: str = "nano3-sft-data"

    def check(self) -> None:
        super().check()
        check_encoder(self.tokenizer, self.encoder)
        if not isinstance(self.pack_size, int) or self.pack_size < 1:
            raise DataPrepConfigError(
                "pack_size", f"must be a positive token count, got {self.pack_size}"
            )
        if self.long_sequences not in ("drop", "truncate"):
            raise DataPrepConfigError(
                "long_sequences", f"must be `drop` or `truncate`, got {self.long_sequences!r}"
            )
        if self.format not in ("parquet", "npy"):
            raise DataPrepConfigError("format", f"must be `parquet` or `npy`, got {self.format!r}")


PLACEHOLDER_TEMPLATES = ("dapo", "skywork")


@dataclass
class PlaceholderConfig:
    """Where the rows behind a blend's `_hf_placeholder` records come from.

    The Nemotron 3 Nano RL blend ships some records as placeholders (`dataset` names the source,
    `_hf_placeholder` holds `row` and `question_template`); NeMo-RL's Nano 3 guide fills them from
    the source datasets (the blend's `create_nanov3_jsonl.py`) before training.
    """

    dataset: str
    """The `dataset` value of the blend's placeholder records this source fills."""
    path: str
    """The source: a local file/folder (e.g. the dataset's Parquet files) or `hf://org/name`
    (read with `datasets`, offline from `HF_HOME` when `HF_DATASETS_OFFLINE=1`)."""
    template: str = "dapo"
    """How `question_template` is applied: `dapo` (`prefix`/`suffix` around the problem, DAPO's own
    instruction removed) or `skywork` (the template's `{question}` replaced by the problem)."""
    split: str = "train"
    subset: str | None = None
    revision: str | None = None

    def source(self) -> SourceConfig:
        """As an input source (its rows are numbered in the order they are read)."""
        return SourceConfig(
            name=f"placeholders-{self.dataset}"[:128],
            path=asset_path(self.path),
            text_field="prompt",
            subset=self.subset,
            split=self.split,
            revision=self.revision,
        )


@dataclass
class RLDataConfig(CommonConfig):
    """RL data prep: prompt records -> train/val/test JSONL for NeMo-RL + manifest.json."""

    split: SplitConfig = field(default_factory=lambda: SplitConfig(valid=0.05, test=0.05))
    placeholders: list[PlaceholderConfig] = field(default_factory=list)
    """Sources of the blend's placeholder records; a placeholder no entry names is a bad record."""
    artifact_name: str = "nano3-rl-data"

    def check(self) -> None:
        super().check()
        seen: set[str] = set()
        for i, entry in enumerate(self.placeholders):
            if not entry.dataset or entry.dataset in seen:
                raise DataPrepConfigError(
                    f"placeholders[{i}].dataset",
                    f"{entry.dataset!r}: name each placeholder `dataset` once",
                )
            seen.add(entry.dataset)
            if entry.template not in PLACEHOLDER_TEMPLATES:
                raise DataPrepConfigError(
                    f"placeholders[{i}].template",
                    f"must be one of {', '.join(PLACEHOLDER_TEMPLATES)}, got {entry.template!r}",
                )

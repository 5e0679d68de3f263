"""SFT data prep: chat records -> template tokens + loss mask -> packed sequences per split.

Workers render and tokenize their shard and spool each split's sequences to disk (token ids,
loss mask, lengths). The driver then packs each split's lengths with best-fit decreasing and
streams the packs, row group by row group, from the memory-mapped spools into the files
Megatron-Bridge reads with `GPTSFTPackedParquetDataset` (`<split>.idx.parquet`, columns
`input_ids` list<int32>, `loss_mask` list<int8>, `seq_start_id` list<int32>) or, with
`format: npy`, `GPTSFTPackedDataset` (`<split>.npy`, an object array of the same dicts).
As in Megatron-Bridge's `fill_packing_strategy`, `loss_mask[t]` says whether the label of
position t (token t+1 of the same sequence) is trained on. Memory stays bounded: only lengths
and pack assignments (a few bytes per sequence) are held in memory.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nemotron.recipes.nano3.data_prep._chat import check_conversation, compile_template, segments
from nemotron.recipes.nano3.data_prep._common import (
    bad_record_summary,
    dataset_inputs,
    plural,
    refuse_empty,
    sum_stats,
    tokenizer_input,
)
from nemotron.recipes.nano3.data_prep._config import SPLITS, SFTDataConfig, asset_path
from nemotron.recipes.nano3.data_prep._engine import run_shards
from nemotron.recipes.nano3.data_prep._output import OutputFolder
from nemotron.recipes.nano3.data_prep._packing import Packing, pack_best_fit_decreasing
from nemotron.recipes.nano3.data_prep._progress import Progress
from nemotron.recipes.nano3.data_prep._sources import (
    ReadStats,
    Shard,
    fingerprint,
    iter_records,
    plan_shards,
)
from nemotron.recipes.nano3.data_prep._split import split_of
from nemotron.recipes.nano3.data_prep._tokenizer import (
    TokenizerInfo,
    build_encoder,
    choose_encoder,
    load_tokenizer_info,
)
from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError

_OUTPUT_NAMES = {"train": "training", "valid": "validation", "test": "test"}
_ROWS_PER_GROUP = 256
_BATCH = 256


@dataclass(frozen=True)
class _ShardParams:
    tokenizer: TokenizerInfo
    encoder: str
    template: str
    fields: dict[str, str]
    pack_size: int
    truncate: bool
    split: tuple[float, float, int]
    on_bad_record: str
    shard_dir: Path


def tokenize_chat_shard(shard: Shard, p: _ShardParams) -> dict[str, Any]:
    """Worker: render, tokenize and mask one shard; spool sequences per split."""
    import msgspec
    from jinja2 import TemplateError

    encoder = build_encoder(p.tokenizer, p.encoder)
    valid, test, seed = p.split
    field_name = p.fields[shard.source]
    files = {
        s: (
            open(p.shard_dir / f".{shard.id}.{s}.tok", "wb"),  # noqa: SIM115 - closed in finally
            open(p.shard_dir / f".{shard.id}.{s}.mask", "wb"),  # noqa: SIM115
        )
        for s in SPLITS
    }
    lengths: dict[str, list[int]] = {s: [] for s in SPLITS}
    stats = ReadStats()
    dropped = truncated = 0

    def flush(records: list[dict[str, Any]]) -> None:
        nonlocal dropped, truncated
        try:
            pieces = [segments(p.template, r, field_name) for r in records]
        except (TemplateError, ValueError, TypeError) as err:
            raise DataPrepConfigError(
                "chat_template", f"cannot render a conversation of {shard.url}: {err}"
            ) from None
        texts = [t for conv in pieces for t, _ in conv]
        flat, offsets = encoder.encode_batch(texts)
        train_on = np.fromiter(
            (m for conv in pieces for _, m in conv), dtype=np.uint8, count=len(texts)
        )
        mask = np.repeat(train_on, np.diff(offsets))
        bounds = np.cumsum([0] + [len(c) for c in pieces])
        for i, record in enumerate(records):
            lo, hi = int(offsets[bounds[i]]), int(offsets[bounds[i + 1]])
            if hi - lo > p.pack_size:
                if not p.truncate:
                    dropped += 1
                    continue
                truncated += 1
                hi = lo + p.pack_size
            ids, m = flat[lo:hi].astype(np.int32), mask[lo:hi]
            labels = np.zeros_like(m)
            labels[:-1] = m[1:]  # loss_mask[t] trains the prediction of token t+1
            name = SPLITS[split_of(msgspec.json.encode(record), valid, test, seed)]
            ids.tofile(files[name][0])
            labels.tofile(files[name][1])
            lengths[name].append(hi - lo)

    try:
        batch: list[dict[str, Any]] = []
        for record in iter_records(
            shard, field_name, p.on_bad_record, stats, _check_record(field_name), whole_record=True
        ):
            batch.append(record)
            if len(batch) >= _BATCH:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    finally:
        for tok, msk in files.values():
            tok.close()
            msk.close()
    result: dict[str, Any] = {"splits": {}}
    for name in SPLITS:
        stem = p.shard_dir / f"{shard.id}.{name}"
        np.save(f"{stem}.len.npy", np.asarray(lengths[name], dtype=np.int64))
        (p.shard_dir / f".{shard.id}.{name}.tok").replace(f"{stem}.tok")
        (p.shard_dir / f".{shard.id}.{name}.mask").replace(f"{stem}.mask")
        result["splits"][name] = {
            "documents": len(lengths[name]),
            "tokens": int(sum(lengths[name])),
        }
    result["documents"] = sum(v["documents"] for v in result["splits"].values())
    result["tokens"] = sum(v["tokens"] for v in result["splits"].values())
    result.update(
        records=stats.records,
        bad_records=stats.bad,
        bad_examples=stats.bad_examples,
        dropped_too_long=dropped,
        truncated=truncated,
    )
    return result


class _check_record:
    def __init__(self, field_name: str) -> None:
        self.field_name = field_name

    def __call__(self, record: Any) -> str | None:
        return check_conversation(record.get(self.field_name))


class _Spool:
    """A split's spooled sequences across shards, memory-mapped, addressed by global index."""

    def __init__(self, shard_dir: Path, shards: list[Shard], split: str) -> None:
        parts = [np.load(shard_dir / f"{s.id}.{split}.len.npy") for s in shards]
        self.lengths = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        self._tokens = [_map(shard_dir / f"{s.id}.{split}.tok", np.int32) for s in shards]
        self._mask = [_map(shard_dir / f"{s.id}.{split}.mask", np.uint8) for s in shards]
        self._shard_of = np.repeat(np.arange(len(parts)), [len(x) for x in parts])
        self._local_start = (
            np.concatenate([np.r_[0, np.cumsum(x)[:-1]] for x in parts]).astype(np.int64)
            if parts
            else np.zeros(0, np.int64)
        )

    def gather(self, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and loss mask of the given sequences, back to back."""
        ids, mask = [], []
        for i in members.tolist():
            k, lo = int(self._shard_of[i]), int(self._local_start[i])
            hi = lo + int(self.lengths[i])
            ids.append(self._tokens[k][lo:hi])
            mask.append(self._mask[k][lo:hi])
        return np.concatenate(ids), np.concatenate(mask).astype(np.int8)


def _map(path: Path, dtype: type) -> np.ndarray:
    return np.memmap(path, dtype=dtype, mode="r") if path.stat().st_size else np.zeros(0, dtype)


def _write_packs(spool: _Spool, packing: Packing, sink: Any, fmt: str) -> None:
    """Stream packs into `sink` (an open file) as parquet (row group by row group) or an .npy
    of dicts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    members = packing.members()
    schema = pa.schema(
        [
            ("input_ids", pa.list_(pa.int32())),
            ("loss_mask", pa.list_(pa.int8())),
            ("seq_start_id", pa.list_(pa.int32())),
        ]
    )
    rows: list[dict[str, list[int]]] = []
    writer = pq.ParquetWriter(sink, schema) if fmt == "parquet" else None
    try:
        for first in range(0, len(members), _ROWS_PER_GROUP):
            group = members[first : first + _ROWS_PER_GROUP]
            ids, mask = spool.gather(np.concatenate(group))
            pack_offsets = np.cumsum([0] + [int(spool.lengths[g].sum()) for g in group])
            starts = [np.r_[0, np.cumsum(spool.lengths[g])[:-1]].astype(np.int32) for g in group]
            start_offsets = np.cumsum([0] + [len(s) for s in starts])
            if writer is not None:
                table = pa.table(
                    {
                        "input_ids": pa.ListArray.from_arrays(
                            pa.array(pack_offsets, pa.int32()), pa.array(ids)
                        ),
                        "loss_mask": pa.ListArray.from_arrays(
                            pa.array(pack_offsets, pa.int32()), pa.array(mask)
                        ),
                        "seq_start_id": pa.ListArray.from_arrays(
                            pa.array(start_offsets, pa.int32()),
                            pa.array(np.concatenate(starts) if starts else np.zeros(0, np.int32)),
                        ),
                    },
                    schema=schema,
                )
                writer.write_table(table)
            else:
                for k in range(len(group)):
                    lo, hi = pack_offsets[k], pack_offsets[k + 1]
                    rows.append(
                        {
                            "input_ids": ids[lo:hi].tolist(),
                            "loss_mask": mask[lo:hi].tolist(),
                            "seq_start_id": starts[k].tolist(),
                        }
                    )
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        array = np.empty(len(rows), dtype=object)
        array[:] = rows
        np.save(sink, array, allow_pickle=True)


def _pack_metadata(packing: Packing) -> dict[str, Any]:
    """Megatron-Bridge's packing metadata entry for one split."""
    sizes = [len(m) for m in packing.members()]
    used = np.bincount(packing.pack_of, weights=packing.lengths, minlength=packing.num_packs)
    return {
        "dataset_max_seqlen": int(packing.lengths.max()),
        "max_samples_per_bin": max(sizes),
        "packing_factor": round(len(packing.lengths) / packing.num_packs, 2),
        "packing_efficiency": round(packing.efficiency * 100, 2),
        "pack_size": packing.capacity,
        "min_packed_seqlen": int(used.min()),
    }


def run_sft(cfg: SFTDataConfig) -> Any:
    """Run the stage; returns the published SFTDataArtifact (or, when this config was published
    before, that artifact)."""
    from nemotron.kit.artifacts import SFTDataArtifact

    started = time.time()
    cfg.check()
    info = load_tokenizer_info(asset_path(cfg.tokenizer), revision=cfg.tokenizer_revision)
    template = load_template(cfg.chat_template, info)
    shards = plan_shards(cfg.sources, cfg.run.shard_bytes, cfg.run.hf_shards)
    choice = choose_encoder(info, [], cfg.encoder)
    fields = {s.name: s.text_field for s in cfg.sources}
    split = (cfg.split.valid, cfg.split.test, cfg.split.seed)
    key = fingerprint(
        shards,
        "sft",
        info.digest,
        template,
        fields,
        cfg.pack_size,
        cfg.long_sequences,
        cfg.format,
        split,
        cfg.on_bad_record,
        cfg.artifact_name,
    )
    with OutputFolder.of(cfg, key) as folder:
        found = folder.published(cfg, SFTDataArtifact, "sft")
        if found is not None:
            return found
        work = folder.work
        (work / "shards").mkdir(parents=True, exist_ok=True)
        params = _ShardParams(
            info,
            choice.name,
            template,
            fields,
            cfg.pack_size,
            cfg.long_sequences == "truncate",
            split,
            cfg.on_bad_record,
            work / "shards",
        )
        print(
            f"sft data: {plural(len(shards), 'shard')} from {plural(len(cfg.sources), 'source')}; "
            f"encoder {choice.name} ({choice.reason})"
        )
        with Progress("sft data", sum(s.size for s in shards), len(shards)) as progress:
            results = run_shards(
                shards, tokenize_chat_shard, params, work, cfg.run, progress=progress
            )
        dropped = sum_stats(results, "dropped_too_long")
        if dropped and not sum_stats(results, "documents"):
            raise DataPrepConfigError(
                "pack_size",
                f"no conversation fits {cfg.pack_size} tokens (all {dropped:,} are longer); "
                "raise pack_size or set long_sequences=truncate",
            )
        refuse_empty("sft", results)
        folder.start()
        writer = folder.writer()
        suffix = ".idx.parquet" if cfg.format == "parquet" else ".npy"
        paths: dict[str, str | None] = dict.fromkeys(SPLITS)
        tokens = dict.fromkeys(SPLITS, 0)
        packs = dict.fromkeys(SPLITS, 0)
        pack_meta: list[dict[str, Any]] = []
        efficiency: dict[str, float] = {}
        for name in SPLITS:
            spool = _Spool(work / "shards", shards, name)
            if not len(spool.lengths):
                continue
            rel = f"{_OUTPUT_NAMES[name]}{suffix}"
            packing = pack_best_fit_decreasing(spool.lengths, cfg.pack_size)
            with writer.open(rel) as sink:
                _write_packs(spool, packing, sink, cfg.format)
            paths[name], tokens[name], packs[name] = (
                str(folder.final / rel),
                int(spool.lengths.sum()),
                packing.num_packs,
            )
            efficiency[name] = round(packing.efficiency, 6)
            pack_meta.append({"split": _OUTPUT_NAMES[name], **_pack_metadata(packing)})
        writer.write_bytes(
            "packing_metadata.json",
            (json.dumps(pack_meta, indent=2, sort_keys=True) + "\n").encode(),
        )
        sources = dataset_inputs(cfg.sources, shards, results)
        artifact = SFTDataArtifact(
            path=str(folder.final),
            pack_size=cfg.pack_size,
            training_path=paths["train"],
            validation_path=paths["valid"],
            test_path=paths["test"],
            total_tokens=sum(tokens.values()),
            training_tokens=tokens["train"],
            validation_tokens=tokens["valid"],
            test_tokens=tokens["test"],
            num_sequences=sum(packs.values()),
            tokenizer=cfg.tokenizer,
            source_datasets=sources,
            inputs=[
                *sources,
                tokenizer_input(cfg.tokenizer, info.digest),
            ],
            metadata={
                "format": cfg.format,
                "reader": "megatron.bridge.data.packing."  # Megatron-Bridge 0.6.2's classes
                + (
                    "parquet.GPTSFTPackedParquetDataset"
                    if cfg.format == "parquet"
                    else "gpt_sft.GPTSFTPackedDataset"
                ),
                "packing": "best_fit_decreasing",
                "packing_efficiency": efficiency,
                "packs_per_split": packs,
                "conversations": sum_stats(results, "documents"),
                "conversations_per_split": {
                    s: sum(r["splits"][s]["documents"] for r in results.values()) for s in SPLITS
                },
                "dropped_too_long": dropped,
                "truncated": sum_stats(results, "truncated"),
                "encoder": choice.name,
                "packing_metadata_path": str(folder.final / "packing_metadata.json"),
                **bad_record_summary(results),
                "elapsed_s": round(time.time() - started, 3),
            },
        )
        artifact = folder.publish(artifact, cfg.artifact_name, writer)
        folder.finish(cfg.run.keep_work)
    print(f"sft data: {_summary(artifact)} -> {artifact.uri} ({artifact.path})")
    return artifact


def load_template(chat_template: str | None, info: TokenizerInfo) -> str:
    """The chat template's text (the file given, else the tokenizer's own), checked to parse."""
    from jinja2 import TemplateSyntaxError

    key = "chat_template"
    if chat_template:
        path = Path(asset_path(chat_template)).expanduser()
        try:
            template = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise DataPrepConfigError(key, f"cannot read {path} ({err})") from None
    elif info.chat_template:
        template, path = info.chat_template, Path(info.source)
    else:
        raise DataPrepConfigError(
            key, f"tokenizer {info.source} has no chat template; give a Jinja file"
        )
    try:
        compile_template(template)
    except TemplateSyntaxError as err:
        raise DataPrepConfigError(
            key, f"{path}: line {err.lineno}: not a valid Jinja template ({err.message})"
        ) from None
    return template


def _summary(artifact: Any) -> str:
    """`400 conversations (3 longer than pack_size dropped) -> 52 packs of 1,024 tokens
    (packing efficiency: training 98.1%, validation 91.0%)`."""
    meta = artifact.metadata
    notes = []
    if meta["dropped_too_long"]:
        notes.append(f"{meta['dropped_too_long']:,} longer than pack_size dropped")
    if meta["truncated"]:
        notes.append(f"{meta['truncated']:,} truncated to pack_size")
    if meta["bad_records"]:
        notes.append(f"{plural(meta['bad_records'], 'bad record')} skipped")
    efficiency = ", ".join(
        f"{_OUTPUT_NAMES[s]} {value:.1%}" for s, value in meta["packing_efficiency"].items()
    )
    return (
        f"{plural(meta['conversations'], 'conversation')}"
        + (f" ({'; '.join(notes)})" if notes else "")
        + f" -> {plural(artifact.num_sequences, 'pack')} of {artifact.pack_size:,} tokens"
        + f" (packing efficiency: {efficiency})"
    )

"""Pretrain data prep: text -> token ids -> Megatron `.bin`/`.idx` per source and split -> blend.json.

Each shard is tokenized by a worker into its own small indexed datasets (one per split); when
all shards are done they are concatenated in plan order into `<folder>/<split>/<source>.bin/.idx`,
and `blend.json` lists them in Megatron-LM's `--per-split-data-args-path` form (`<folder>`: this
config's published folder under `output_dir`, see `_output`).
"""

from __future__ import annotations

import json
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nemotron.recipes.nano3.data_prep._common import (
    bad_record_summary,
    blends_artifact,
    dataset_inputs,
    plural,
    refuse_empty,
    skipped_text,
    sum_stats,
    tokenizer_input,
)
from nemotron.recipes.nano3.data_prep._config import SPLITS, PretrainDataConfig, asset_path
from nemotron.recipes.nano3.data_prep._engine import ReadAhead, run_shards
from nemotron.recipes.nano3.data_prep._indexed import concatenate, token_dtype, write_index
from nemotron.recipes.nano3.data_prep._output import OutputFolder
from nemotron.recipes.nano3.data_prep._progress import Progress
from nemotron.recipes.nano3.data_prep._sources import (
    ReadStats,
    Shard,
    fingerprint,
    iter_records,
    plan_shards,
    text_batches,
)
from nemotron.recipes.nano3.data_prep._split import splits_of
from nemotron.recipes.nano3.data_prep._tokenizer import (
    EncoderCheck,
    TokenizerInfo,
    build_encoder,
    load_tokenizer_info,
)

_VERIFY_CHARS = 1024  # of each sampled document: the start-up check costs milliseconds


@dataclass(frozen=True)
class _ShardParams:
    tokenizer: TokenizerInfo
    encoder: str
    text_fields: dict[str, str]
    append_eod: bool
    dtype: str
    split: tuple[float, float, int]
    on_bad_record: str
    shard_dir: Path


def _is_text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"text field is {type(value).__name__}, not a string"


@dataclass(frozen=True)
class _Batch:
    texts: list[str]
    splits: np.ndarray  # each text's split: 0 train, 1 valid, 2 test


@dataclass(frozen=True)
class _ReadDone:
    stats: ReadStats
    empty: int


def read_shard(shard: Shard, p: _ShardParams) -> Iterator[_Batch | _ReadDone]:
    """Reader (runs ahead on a thread): the shard's non-empty texts in batches, with their
    splits, then what the read counted."""
    stats = ReadStats()
    empty = 0
    valid, test, seed = p.split
    for texts in text_batches(shard, p.text_fields[shard.source], p.on_bad_record, stats, _is_text):
        kept = [t for t in texts if t]
        empty += len(texts) - len(kept)
        if kept:
            yield _Batch(kept, splits_of(kept, valid, test, seed))
    yield _ReadDone(stats, empty)


def tokenize_shard(
    shard: Shard, p: _ShardParams, items: Iterator[_Batch | _ReadDone]
) -> Callable[[], dict[str, Any]]:
    """Worker: tokenize what `read_shard` read; the returned `finish` completes
    `<shard_dir>/<shard id>.<split>.bin/.idx` (the last writes run meanwhile) and gives the stats."""
    encoder = build_encoder(p.tokenizer, p.encoder)
    valid, test, _ = p.split
    splits = [s for s, fraction in zip(SPLITS, (1.0, valid, test), strict=True) if fraction > 0]
    writer = _ShardWriter(p, shard.id, splits)
    done = _ReadDone(ReadStats(), 0)
    try:
        for item in items:
            if isinstance(item, _ReadDone):
                done = item
            else:
                writer.add(*encoder.encode_batch(item.texts), item.splits)
    except BaseException:
        writer.close()
        raise

    def finish() -> dict[str, Any]:
        counts = writer.finish()
        return {
            "splits": counts,
            "documents": sum(v["documents"] for v in counts.values()),
            "tokens": sum(v["tokens"] for v in counts.values()),
            "records": done.stats.records,
            "bad_records": done.stats.bad,
            "bad_examples": done.stats.bad_examples,
            "empty_documents": done.empty,
        }

    return finish


class _ShardWriter:
    """Appends token batches to one shard's per-split `.bin` files on a thread of its own (so
    writing overlaps tokenizing); `finish` then writes the `.idx` files and renames the `.bin`
    files into place."""

    def __init__(self, p: _ShardParams, shard_id: str, splits: list[str]) -> None:
        self._p, self._prefix, self._dtype = p, p.shard_dir / shard_id, np.dtype(p.dtype)
        self._bins = {s: open(f"{self._tmp(s)}", "wb") for s in splits}  # noqa: SIM115
        self._lengths: dict[str, list[np.ndarray]] = {s: [] for s in splits}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="write")
        self._pending: deque[Future[None]] = deque()

    def _tmp(self, split: str) -> Path:
        return self._prefix.with_name(f".{self._prefix.name}.{split}.bin.tmp")

    def add(self, flat: np.ndarray, offsets: np.ndarray, splits: np.ndarray) -> None:
        """Queue one encoded batch (flat ids + offsets per document) for writing."""
        if len(self._pending) >= 2:  # bounds the batches held in memory
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._write, flat, offsets, splits))

    def _write(self, flat: np.ndarray, offsets: np.ndarray, which: np.ndarray) -> None:
        p, dtype = self._p, self._dtype
        counts = np.diff(offsets)
        # Ids are below the vocabulary size, so uint32 -> int32 is a free reinterpretation.
        tokens = flat.view(dtype) if dtype.itemsize == flat.itemsize else flat.astype(dtype)
        if p.append_eod:
            tokens = np.insert(tokens, offsets[1:], p.tokenizer.eod_id)
            counts = counts + 1
        if len(self._bins) == 1:
            tokens.tofile(self._bins["train"])
            self._lengths["train"].append(counts)
            return
        per_token = np.repeat(which, counts)
        for code, name in enumerate(SPLITS):
            if name in self._bins:
                tokens[per_token == code].tofile(self._bins[name])
                self._lengths[name].append(counts[which == code])

    def close(self) -> None:
        """Wait for the queued writes (raising the first error) and close the files."""
        self._pool.shutdown(wait=True)
        for f in self._bins.values():
            f.close()
        for future in self._pending:
            future.result()

    def finish(self) -> dict[str, dict[str, int]]:
        """`close`, then the `.idx` files; the `.bin` files take their names. Counts per split."""
        self.close()
        counts = {}
        for name, parts in self._lengths.items():
            lengths = np.concatenate(parts) if parts else np.zeros(0, np.int64)
            write_index(Path(f"{self._prefix}.{name}.idx"), self._dtype.type, lengths)
            self._tmp(name).replace(f"{self._prefix}.{name}.bin")
            counts[name] = {"documents": len(lengths), "tokens": int(lengths.sum())}
        return counts


def _verify_sample(shards: list[Shard], text_fields: dict[str, str], count: int) -> list[str]:
    """The first documents (their first `_VERIFY_CHARS` characters) of the first shard of each
    source (bad records ignored here)."""
    sample: list[str] = []
    seen: set[str] = set()
    per_source = max(1, count // max(1, len({s.source for s in shards})))
    for shard in shards:
        if shard.source in seen:
            continue
        seen.add(shard.source)
        for i, text in enumerate(
            iter_records(shard, text_fields[shard.source], "skip", ReadStats(), _is_text)
        ):
            if i >= per_source:
                break
            sample.append(text[:_VERIFY_CHARS])
    return sample


class _EncoderRejected(Exception):
    """The start-up check ruled against the encoder the shards were being tokenized with."""


@dataclass
class _Tokenized:
    info: TokenizerInfo
    encoder: str
    reason: str
    work: Path
    results: dict[str, dict[str, Any]]
    tokenize_s: float


def _tokenize(
    cfg: PretrainDataConfig,
    shards: list[Shard],
    info: TokenizerInfo,
    encoder: str,
    work_root: Path,
    check: EncoderCheck | None,
) -> tuple[dict[str, dict[str, Any]], Path] | None:
    """Tokenize every shard with `encoder` into its work folder (returned with the shards'
    stats); None when `check` rejects the encoder."""
    text_fields = {s.name: s.text_field for s in cfg.sources}
    dtype = np.dtype(token_dtype(info.vocab_size)).name
    split = (cfg.split.valid, cfg.split.test, cfg.split.seed)
    key = fingerprint(
        shards,
        info.digest,
        encoder,
        text_fields,
        cfg.append_eod,
        info.eod_id,
        split,
        cfg.on_bad_record,
    )
    work = work_root / key
    (work / "shards").mkdir(parents=True, exist_ok=True)
    params = _ShardParams(
        info,
        encoder,
        text_fields,
        cfg.append_eod,
        dtype,
        split,
        cfg.on_bad_record,
        work / "shards",
    )

    def stop_if_rejected() -> None:
        if check is not None and check.failed():
            raise _EncoderRejected

    try:
        with Progress("pretrain data", sum(s.size for s in shards), len(shards)) as progress:
            results = run_shards(
                shards,
                ReadAhead(read_shard, tokenize_shard),
                params,
                work,
                cfg.run,
                progress=progress,
                after_each=stop_if_rejected,
            )
        if check is None or check.confirmed():
            return results, work
    except _EncoderRejected:
        pass
    shutil.rmtree(work)  # nothing the rejected encoder wrote is kept, done records included
    return None


def _tokenize_checked(
    cfg: PretrainDataConfig, shards: list[Shard], info: TokenizerInfo, out: Path
) -> _Tokenized:
    """(`out`: the work folder of this config.)"""
    """Tokenize with gigatoken while its start-up check runs; redo with the reference if the
    check rejects it (or the reference tokenizer's details differ from the provisional ones)."""

    def reload() -> TokenizerInfo:
        return load_tokenizer_info(
            asset_path(cfg.tokenizer), revision=cfg.tokenizer_revision, eod_token=cfg.eod_token
        )

    text_fields = {s.name: s.text_field for s in cfg.sources}
    sample = _verify_sample(shards, text_fields, cfg.verify_docs)
    check = EncoderCheck(info, sample, cfg.encoder, reload)
    checking = (
        " (checking it against the reference meanwhile)" if cfg.encoder != "reference" else ""
    )
    print(
        f"pretrain data: {plural(len(shards), 'shard')} from {plural(len(cfg.sources), 'source')}; "
        f"encoder {check.encoder}{checking}"
    )
    started = time.perf_counter()
    if cfg.run.engine == "slurm-array":
        # Every array task (and the merge) must tokenize with the same encoder: decide first.
        verified, choice = check.verdict()
        done = _tokenize(cfg, shards, verified, choice.name, out, None)
    else:
        done = _tokenize(cfg, shards, info, check.encoder, out, check)
        verified, choice = check.verdict()
    if done is None:
        print(f"pretrain data: {choice.reason}; redoing with {choice.name}")
        started = time.perf_counter()
        done = _tokenize(cfg, shards, verified, choice.name, out, None)
        assert done is not None
    results, work = done
    return _Tokenized(
        verified, choice.name, choice.reason, work, results, time.perf_counter() - started
    )


def run_pretrain(cfg: PretrainDataConfig) -> Any:
    """Run the stage; returns the published PretrainBlendsArtifact (or, when this config was
    published before, that artifact)."""
    from nemotron.kit.artifacts import PretrainBlendsArtifact

    started = time.time()
    cfg.check()
    info = load_tokenizer_info(
        asset_path(cfg.tokenizer),
        revision=cfg.tokenizer_revision,
        eod_token=cfg.eod_token,
        quick=cfg.encoder != "reference",
    )
    shards = plan_shards(cfg.sources, cfg.run.shard_bytes, cfg.run.hf_shards)
    key = fingerprint(
        shards,
        "pretrain",
        info.digest,
        {s.name: (s.text_field, s.weight) for s in cfg.sources},
        cfg.append_eod,
        info.eod_id,
        (cfg.split.valid, cfg.split.test, cfg.split.seed),
        cfg.on_bad_record,
        cfg.artifact_name,
    )
    with OutputFolder.of(cfg, key) as folder:
        found = folder.published(cfg, PretrainBlendsArtifact, "pretrain")
        if found is not None:
            return found
        done = _tokenize_checked(cfg, shards, info, folder.work)
        info, results = done.info, done.results
        refuse_empty("pretrain", results)
        dtype = np.dtype(token_dtype(info.vocab_size)).name
        folder.start()
        writer = folder.writer()
        blend, rels, tokens = _assemble(
            cfg, shards, results, done.work / "shards", writer, np.dtype(dtype).type
        )
        writer.write_bytes(
            "blend.json", (json.dumps(blend, indent=2, sort_keys=True) + "\n").encode()
        )
        sources = dataset_inputs(cfg.sources, shards, results)
        artifact = blends_artifact(
            folder.final,
            folder.final / "blend.json",
            {s: [str(folder.final / rel) for rel in rels[s]] for s in SPLITS},
            tokens,
            sum_stats(results, "documents"),
            num_shards=len(shards),
            tokenizer=cfg.tokenizer,
            source_datasets=sources,
            inputs=[*sources, tokenizer_input(cfg.tokenizer, info.digest)],
            metadata={
                "encoder": done.encoder,
                "encoder_check": done.reason,
                "dtype": dtype,
                "vocab_size": info.vocab_size,
                "eod_id": info.eod_id if cfg.append_eod else None,
                "documents_per_split": {
                    s: sum(r["splits"].get(s, {}).get("documents", 0) for r in results.values())
                    for s in SPLITS
                },
                "records": sum_stats(results, "records"),
                "empty_documents_skipped": sum_stats(results, "empty_documents"),
                **bad_record_summary(results),
                "elapsed_s": round(time.time() - started, 3),
                "tokenize_s": round(done.tokenize_s, 3),
                "tokens_per_s": round(sum(tokens.values()) / max(done.tokenize_s, 1e-9)),
            },
        )
        artifact = folder.publish(artifact, cfg.artifact_name, writer)
        folder.finish(cfg.run.keep_work)
    print(
        f"pretrain data: {artifact.total_sequences:,} documents, {artifact.total_tokens:,} tokens"
        f"{skipped_text(artifact.metadata)} -> {artifact.uri} ({artifact.path})"
    )
    return artifact


def _assemble(
    cfg: PretrainDataConfig,
    shards: list[Shard],
    results: dict[str, dict[str, Any]],
    shard_dir: Path,
    writer: Any,
    dtype: type,
) -> tuple[dict[str, list[Any] | None], dict[str, list[str]], dict[str, int]]:
    """Concatenate shard outputs per (split, source) through `writer` (a `DigestWriter`);
    return blend.json content, each split's prefixes (relative) and tokens."""
    blend: dict[str, list[Any] | None] = {}
    prefixes: dict[str, list[str]] = {s: [] for s in SPLITS}
    tokens = dict.fromkeys(SPLITS, 0)
    for split in SPLITS:
        entries: list[Any] = []
        for source in cfg.sources:
            parts = [
                shard_dir / f"{s.id}.{split}"
                for s in shards
                if s.source == source.name
                and results[s.id]["splits"].get(split, {}).get("documents", 0) > 0
            ]
            if not parts:
                continue
            rel = f"{split}/{source.name}"
            with writer.open(f"{rel}.bin") as out_bin, writer.open(f"{rel}.idx") as out_idx:
                _, count = concatenate(parts, out_bin, out_idx, dtype)
            tokens[split] += count
            prefixes[split].append(rel)
            entries += [source.weight, rel]
        blend[split] = entries or None
    return blend, prefixes, tokens

"""RL data prep: prompt JSONL/Parquet -> deterministic train/val/test JSONL + manifest.json.

Every record of every input shard is assigned to a split by a hash of its content (see
`_split`), so all shards feed all splits and a rerun gives the same files. Records are written
unchanged (one compact JSON object per line, keys in input order), which is what NeMo-RL's
JSONL prompt datasets read (e.g. `ResponseDataset` with `input_key`/`output_key`, or the
math environment's `problem`/`expected_answer` records), except placeholder records, which are
filled first from the sources `placeholders` names (`_placeholders`, as NeMo-RL's Nano 3 guide
prepares its blend). Output: `train.jsonl`, `val.jsonl`, `test.jsonl` and `manifest.json`
(paths, counts, fields, sources, placeholder sources).
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import msgspec

from nemotron.recipes.nano3.data_prep._common import (
    bad_record_summary,
    dataset_inputs,
    refuse_empty,
    skipped_text,
    split_jsonl_artifact,
    sum_stats,
)
from nemotron.recipes.nano3.data_prep._config import RLDataConfig
from nemotron.recipes.nano3.data_prep._engine import run_shards
from nemotron.recipes.nano3.data_prep._output import OutputFolder
from nemotron.recipes.nano3.data_prep._placeholders import (
    SourceRows,
    fill,
    load_rows,
    placeholder_inputs,
)
from nemotron.recipes.nano3.data_prep._progress import Progress
from nemotron.recipes.nano3.data_prep._sources import (
    ReadStats,
    Shard,
    fingerprint,
    iter_records,
    plan_shards,
)
from nemotron.recipes.nano3.data_prep._split import split_of

_NAMES = ("train", "val", "test")


@dataclass(frozen=True)
class _ShardParams:
    fields: dict[str, str]
    split: tuple[float, float, int]
    on_bad_record: str
    shard_dir: Path
    placeholders: dict[str, SourceRows]


def split_shard(shard: Shard, p: _ShardParams) -> dict[str, Any]:
    """Worker: write the shard's records into per-split JSONL parts."""
    encoder = msgspec.json.Encoder()
    valid, test, seed = p.split
    stats = ReadStats()
    parts: dict[str, list[bytes]] = {n: [] for n in _NAMES}
    for record in iter_records(
        shard,
        p.fields[shard.source],
        p.on_bad_record,
        stats,
        whole_record=True,
        prepare=functools.partial(fill, sources=p.placeholders),
    ):
        line = encoder.encode(record)
        parts[_NAMES[split_of(line, valid, test, seed)]].append(line + b"\n")
    result: dict[str, Any] = {"splits": {}}
    for name, lines in parts.items():
        target = p.shard_dir / f"{shard.id}.{name}.jsonl"
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(b"".join(lines))
        tmp.replace(target)
        result["splits"][name] = {"documents": len(lines)}
    result.update(
        documents=sum(len(v) for v in parts.values()),
        records=stats.records,
        bad_records=stats.bad,
        bad_examples=stats.bad_examples,
    )
    return result


def run_rl(cfg: RLDataConfig) -> Any:
    """Run the stage; returns the published SplitJsonlDataArtifact (or, when this config was
    published before, that artifact)."""
    from nemotron.kit.artifacts import SplitJsonlDataArtifact

    started = time.time()
    cfg.check()
    shards = plan_shards(cfg.sources, cfg.run.shard_bytes, cfg.run.hf_shards)
    fields = {s.name: s.text_field for s in cfg.sources}
    split = (cfg.split.valid, cfg.split.test, cfg.split.seed)
    key = fingerprint(
        shards,
        "rl",
        fields,
        split,
        cfg.on_bad_record,
        cfg.artifact_name,
        [astuple(e) for e in cfg.placeholders],
    )
    with OutputFolder.of(cfg, key) as folder:
        found = folder.published(cfg, SplitJsonlDataArtifact, "rl")
        if found is not None:
            return found
        (folder.work / "shards").mkdir(parents=True, exist_ok=True)
        placeholders = load_rows(cfg.placeholders, shards) if cfg.placeholders else {}
        params = _ShardParams(
            fields, split, cfg.on_bad_record, folder.work / "shards", placeholders
        )
        with Progress("rl data", sum(s.size for s in shards), len(shards)) as progress:
            results = run_shards(
                shards, split_shard, params, folder.work, cfg.run, progress=progress
            )
        refuse_empty("rl", results)
        folder.start()
        writer = folder.writer()
        counts: dict[str, int] = {}
        paths: dict[str, str] = {}
        for name in _NAMES:
            with writer.open(f"{name}.jsonl") as f:
                for shard in shards:
                    f.write((folder.work / "shards" / f"{shard.id}.{name}.jsonl").read_bytes())
            counts[name] = sum(results[s.id]["splits"][name]["documents"] for s in shards)
            paths[name] = str(folder.final / f"{name}.jsonl")
        sources = dataset_inputs(cfg.sources, shards, results) + placeholder_inputs(
            cfg.placeholders, placeholders
        )
        manifest = {
            "train": paths["train"],
            "val": paths["val"],
            "test": paths["test"],
            "counts": counts,
            "fields": sorted(set(fields.values())),
            "sources": [{"name": s.name, "path": s.path} for s in cfg.sources],
            "placeholders": [
                {
                    "dataset": e.dataset,
                    "path": e.source().path,
                    "split": e.split,
                    "template": e.template,
                }
                for e in cfg.placeholders
            ],
            "split": {
                "valid": cfg.split.valid,
                "test": cfg.split.test,
                "seed": cfg.split.seed,
                "by": "blake2b(record JSON)",
            },
        }
        writer.write_bytes(
            "manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        )
        artifact = split_jsonl_artifact(
            folder.final,
            paths,
            counts,
            manifest_path=str(folder.final / "manifest.json"),
            source_datasets=sources,
            inputs=list(sources),
            metadata={
                "records": sum_stats(results, "records"),
                **bad_record_summary(results),
                "elapsed_s": round(time.time() - started, 3),
            },
        )
        artifact = folder.publish(artifact, cfg.artifact_name, writer)
        folder.finish(cfg.run.keep_work)
    print(
        f"rl data: train {counts['train']:,}, val {counts['val']:,}, test {counts['test']:,}"
        f"{skipped_text(artifact.metadata)} -> {artifact.uri} ({artifact.path})"
    )
    return artifact

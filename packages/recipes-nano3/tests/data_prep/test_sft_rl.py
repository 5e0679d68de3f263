"""SFT packing and loss masks on a hand-checked conversation; RL splits; import commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from nemotron.recipes.nano3.data_prep import (
    RLDataConfig,
    SFTDataConfig,
    SourceConfig,
    SplitConfig,
    run_rl,
    run_sft,
)
from nemotron.recipes.nano3.data_prep._chat import segments
from nemotron.recipes.nano3.data_prep._importing import import_rl
from nemotron.recipes.nano3.data_prep.errors import InputDataError

from .conftest import TOKENIZER

CONVERSATION = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Sum 2+2"},
        {"role": "assistant", "content": "4"},
    ]
}


def _sft(out: Path, path: Path, **kw: object) -> SFTDataConfig:
    cfg = SFTDataConfig(
        sources=[SourceConfig(name="chat", path=str(path), text_field="messages")],
        tokenizer="@nano3/tokenizer",
        chat_template="@nano3/chat_template.jinja",
        output_dir=str(out),
        **kw,  # type: ignore[arg-type]
    )
    cfg.run.workers = 1
    return cfg


def test_template_segments_mark_only_assistant_turns(assets: Path) -> None:
    template = (assets / "chat_template.jinja").read_text()
    pieces = segments(template, CONVERSATION)
    assert [text for text, train in pieces if train] == [
        "<think></think>Hello!<|im_end|>\n",
        "<think></think>4<|im_end|>\n",
    ]
    assert "".join(t for t, _ in pieces) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        "<think></think>Hello!<|im_end|>\n<|im_start|>user\nSum 2+2<|im_end|>\n<|im_start|>assistant\n"
        "<think></think>4<|im_end|>\n"
    )


def test_loss_mask_hand_checked(tmp_path: Path) -> None:
    data = tmp_path / "chat.jsonl"
    data.write_text(json.dumps(CONVERSATION) + "\n")
    art = run_sft(_sft(tmp_path / "out", data, pack_size=256, split=SplitConfig()))
    row = pq.read_table(art.training_path).to_pylist()[0]
    tok = Tokenizer.from_file(str(TOKENIZER))
    ids, mask = row["input_ids"], row["loss_mask"]
    assert row["seq_start_id"] == [0] and len(ids) == len(mask)
    # loss_mask[t] trains the prediction of token t+1: the trained labels are exactly the answers
    labels = [ids[t + 1] for t in range(len(ids) - 1) if mask[t]]
    assert (
        tok.decode(labels, skip_special_tokens=False)
        == "<think></think>Hello!<|im_end|>\n<think></think>4<|im_end|>\n"
    )
    assert mask[-1] == 0
    assert art.metadata["reader"].endswith("GPTSFTPackedParquetDataset")


def test_tiny_sft_packs_all_conversations(tmp_path: Path, assets: Path) -> None:
    art = run_sft(_sft(tmp_path / "out", assets / "tiny/sft/chat.jsonl", pack_size=1024))
    train = pq.read_table(art.training_path).to_pylist()
    valid = pq.read_table(art.validation_path).to_pylist()
    sequences = sum(len(r["seq_start_id"]) for r in train + valid)
    assert sequences == art.metadata["conversations"] == 400
    assert all(len(r["input_ids"]) <= 1024 and r["seq_start_id"][0] == 0 for r in train)
    assert art.training_tokens == sum(len(r["input_ids"]) for r in train)
    assert art.metadata["packing_efficiency"]["train"] >= 0.98
    meta = json.loads((Path(art.path) / "packing_metadata.json").read_text())
    assert meta[0]["split"] == "training" and meta[0]["pack_size"] == 1024


def test_npy_format_matches_parquet(tmp_path: Path, assets: Path) -> None:
    parquet = run_sft(_sft(tmp_path / "pq", assets / "tiny/sft/chat.jsonl", pack_size=1024))
    npy = run_sft(
        _sft(tmp_path / "np", assets / "tiny/sft/chat.jsonl", pack_size=1024, format="npy")
    )
    rows = np.load(npy.training_path, allow_pickle=True)
    assert [dict(r) for r in rows] == pq.read_table(parquet.training_path).to_pylist()


def test_wrong_roles_name_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "chat.jsonl"
    bad = {"messages": [{"role": "user", "content": "x"}, {"role": "robot", "content": "y"}]}
    data.write_text(json.dumps(CONVERSATION) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(InputDataError, match=r"chat.jsonl:2: message 1 has role 'robot'"):
        run_sft(_sft(tmp_path / "out", data))


def _rl(out: Path, assets: Path, workers: int = 1) -> RLDataConfig:
    cfg = RLDataConfig(
        sources=[SourceConfig(name="arith", path=str(assets / "tiny/rl"), text_field="question")],
        output_dir=str(out),
    )
    cfg.run.workers = workers
    return cfg


def test_rl_split_deterministic_over_all_shards(tmp_path: Path, assets: Path) -> None:
    a = run_rl(_rl(tmp_path / "a", assets, workers=1))
    b = run_rl(_rl(tmp_path / "b", assets, workers=2))
    for name in ("train", "val", "test"):
        assert (Path(a.path) / f"{name}.jsonl").read_bytes() == (
            Path(b.path) / f"{name}.jsonl"
        ).read_bytes()
    assert (
        a.train_count + a.val_count + a.test_count == 200 and a.val_count > 0 and a.test_count > 0
    )
    held_out = [
        json.loads(line)["id"]
        for name in ("val", "test")
        for line in (Path(a.path) / f"{name}.jsonl").read_text().splitlines()
    ]
    assert {i.split("-")[1] for i in held_out} == {
        "0",
        "1",
    }  # both input shards feed the held-out splits
    manifest = json.loads(Path(a.manifest_path).read_text())
    assert manifest["counts"] == {"train": a.train_count, "val": a.val_count, "test": a.test_count}
    assert b.uri == "art://nano3-rl-data:v2"


def test_import_registers_existing_rl_data(tmp_path: Path, assets: Path) -> None:
    prepared = run_rl(_rl(tmp_path / "prep", assets))
    art = import_rl(prepared.path, name="imported-rl")
    assert (
        art.uri == "art://imported-rl:v1"
        and art.train_count + art.val_count + art.test_count == 200
    )

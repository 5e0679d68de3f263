"""Fixtures of the data prep tests: the shipped tiny assets and small generated inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nemotron.recipes.nano3.data_prep._config import ASSETS

TOKENIZER = ASSETS / "tokenizer" / "tokenizer.json"


@pytest.fixture
def assets() -> Path:
    return ASSETS


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A ~600 kB JSONL corpus (the bundled docs, repeated with variations) for sharding tests."""
    texts = [
        json.loads(line)["text"]
        for line in (ASSETS / "tiny/pretrain/stdlib-docs-a.jsonl").read_text().splitlines()
    ]
    path = tmp_path / "corpus.jsonl"
    with path.open("w") as f:
        for round_ in range(6):
            for i, text in enumerate(texts):
                f.write(json.dumps({"text": f"[{round_}.{i}] {text}", "meta": {"i": i}}) + "\n")
    return path


@pytest.fixture
def hf_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`hf://` sources read with `datasets` (recipes-nano3[hf]) offline, from an empty HF_HOME."""
    pytest.importorskip("datasets", reason="recipes-nano3[hf]")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))

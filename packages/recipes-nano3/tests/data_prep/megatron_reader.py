"""Run inside .venvs/megatron: read our files with megatron-core itself (argv: expected.json)."""

# ruff: noqa: TID253  (this script runs only inside .venvs/megatron, where these are the point)
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy
from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
from megatron.core.datasets.indexed_dataset import IndexedDataset
from megatron.core.datasets.utils import get_blend_from_list

spec = json.loads(Path(sys.argv[1]).read_text())
checked = 0
for prefix, docs in spec["expected"].items():
    dataset = IndexedDataset(prefix)
    assert len(dataset) == len(docs), (prefix, len(dataset), len(docs))
    assert len(dataset.document_indices) == len(docs) + 1
    for i, want in enumerate(docs):
        got = dataset[i]
        assert got.tolist() == want, (prefix, i)
        checked += 1
blend = json.loads(Path(spec["blend"]).read_text())
folder = spec["blend"].rsplit("/", 1)[0]
per_split = []
for split in ("train", "valid", "test"):
    entries = blend[split]
    if entries:
        entries = [str(e) if i % 2 == 0 else f"{folder}/{e}" for i, e in enumerate(entries)]
    per_split.append(get_blend_from_list(entries))
config = GPTDatasetConfig(
    random_seed=1234,
    sequence_length=64,
    blend_per_split=per_split,
    path_to_cache=spec["cache"],
    reset_position_ids=False,
    reset_attention_mask=False,
    eod_mask_loss=False,
    tokenizer=SimpleNamespace(
        eod=spec["eod"],
        pad=spec["eod"],
        vocab_size=spec["vocab"],
        unique_identifiers={"class": "tiny-bpe"},
    ),
    mid_level_dataset_surplus=0.005,
)
train, valid, test = BlendedMegatronDatasetBuilder(
    GPTDataset, [200, 20, 20], lambda: True, config
).build()
sample = train[0]
tokens = sample["tokens"] if isinstance(sample, dict) else sample
print(
    json.dumps(
        {
            "checked": checked,
            "train": len(train),
            "valid": len(valid),
            "test": len(test),
            "sample_len": int(numpy.asarray(tokens).shape[0]),
        }
    )
)

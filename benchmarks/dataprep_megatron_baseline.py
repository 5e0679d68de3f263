"""Megatron-LM `tools/preprocess_data.py`-style baseline, run inside .venvs/megatron.

Same approach as the tool: a multiprocessing Pool encodes JSON lines (imap, chunksize 32), the
parent writes each document with megatron-core's `IndexedDatasetBuilder`, EOD appended.
Encoder: tiktoken `encode_ordinary` (what Megatron-LM's TikTokenizer wraps).
argv: corpus.jsonl out_prefix workers encoding eod_id
"""

# ruff: noqa: TID253  (this script runs only inside .venvs/megatron, where these are the point)
import json
import sys
import time
from multiprocessing import Pool

import tiktoken
import torch
from megatron.core.datasets.indexed_dataset import DType, IndexedDatasetBuilder

corpus, prefix, workers, encoding_name, eod = (
    sys.argv[1],
    sys.argv[2],
    int(sys.argv[3]),
    sys.argv[4],
    int(sys.argv[5]),
)
encoder = None


def init() -> None:
    global encoder
    encoder = tiktoken.get_encoding(encoding_name)


def encode(line: str) -> tuple[list[int], int]:
    text = json.loads(line)["text"]
    ids = encoder.encode_ordinary(text)
    ids.append(eod)
    return ids, len(line)


if __name__ == "__main__":
    start = time.perf_counter()
    vocab = tiktoken.get_encoding(encoding_name).n_vocab
    builder = IndexedDatasetBuilder(f"{prefix}.bin", dtype=DType.optimal_dtype(vocab))
    tokens = 0
    with open(corpus, encoding="utf-8") as f, Pool(workers, initializer=init) as pool:
        for ids, _ in pool.imap(encode, f, 32):
            builder.add_document(torch.tensor(ids), [len(ids)])
            tokens += len(ids)
    builder.finalize(f"{prefix}.idx")
    print(json.dumps({"tokens": tokens, "seconds": time.perf_counter() - start}))

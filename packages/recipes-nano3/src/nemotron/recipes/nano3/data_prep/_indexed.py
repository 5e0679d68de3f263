"""Megatron indexed datasets (`.bin` + `.idx`) written and read with numpy alone.

The layout is megatron-core's `IndexedDataset` (megatron/core/datasets/indexed_dataset.py):
`.bin` holds the token ids of every sequence back to back; `.idx` is

    b"MMIDIDX\\x00\\x00"  <Q version=1  <B dtype code  <Q sequence count  <Q document count
    int32[sequence count]   sequence lengths (tokens)
    int64[sequence count]   sequence pointers (byte offset of each sequence in .bin)
    int64[document count]   document indices (0, then the sequence count after each document)

Each document here is one sequence, as in Megatron-LM's `preprocess_data.py` without sentence
splitting. The dtype follows megatron-core's `DType.optimal_dtype(vocab_size)`.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

INDEX_HEADER = b"MMIDIDX\x00\x00"
_DTYPE_CODES: dict[type, int] = {
    np.uint8: 1,
    np.int8: 2,
    np.int16: 3,
    np.int32: 4,
    np.int64: 5,
    np.float64: 6,
    np.float32: 7,
    np.uint16: 8,
}
_CODE_DTYPES = {code: dtype for dtype, code in _DTYPE_CODES.items()}
_COPY_BYTES = 8 << 20


class Writable(Protocol):
    def write(self, data: Any, /) -> int: ...


def token_dtype(vocab_size: int) -> type:
    """The token dtype megatron-core picks for a vocabulary (`DType.optimal_dtype`)."""
    return np.uint16 if vocab_size < 65500 else np.int32


def _atomic_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_index(idx_path: Path, dtype: type, lengths: np.ndarray) -> None:
    """Write the `.idx` for documents of the given token counts (one sequence each), atomically."""
    tmp = _atomic_path(idx_path)
    with open(tmp, "wb") as f:
        write_index_to(f, dtype, lengths)
    os.replace(tmp, idx_path)


def write_index_to(f: Writable, dtype: type, lengths: np.ndarray) -> None:
    """Write `.idx` content for documents of the given token counts to the open file `f`."""
    lengths = np.ascontiguousarray(lengths, dtype=np.int32)
    count = len(lengths)
    pointers = np.zeros(count, dtype=np.int64)
    if count > 1:
        np.cumsum(lengths[:-1], dtype=np.int64, out=pointers[1:])
    pointers *= np.dtype(dtype).itemsize
    f.write(INDEX_HEADER)
    f.write(struct.pack("<Q", 1))
    f.write(struct.pack("<B", _DTYPE_CODES[dtype]))
    f.write(struct.pack("<Q", count))
    f.write(struct.pack("<Q", count + 1))
    f.write(lengths)
    f.write(pointers)
    f.write(np.arange(count + 1, dtype=np.int64))


@dataclass(frozen=True)
class IndexedDataset:
    """A read-only view of one `.bin`/`.idx` pair (memory-mapped)."""

    dtype: type
    lengths: np.ndarray
    pointers: np.ndarray
    document_indices: np.ndarray
    tokens: np.ndarray

    @classmethod
    def open(cls, prefix: str | Path) -> IndexedDataset:
        """Open `<prefix>.idx` and `<prefix>.bin`."""
        idx = np.memmap(f"{prefix}.idx", mode="r", dtype=np.uint8)
        if bytes(idx[:9]) != INDEX_HEADER:
            raise ValueError(f"{prefix}.idx is not a Megatron index (bad header)")
        (code,) = struct.unpack("<B", bytes(idx[17:18]))
        sequences, documents = struct.unpack("<QQ", bytes(idx[18:34]))
        offset = 34
        lengths = np.frombuffer(idx, np.int32, sequences, offset)
        offset += lengths.nbytes
        pointers = np.frombuffer(idx, np.int64, sequences, offset)
        offset += pointers.nbytes
        doc_indices = np.frombuffer(idx, np.int64, documents, offset)
        dtype = _CODE_DTYPES[code]
        size = os.path.getsize(f"{prefix}.bin")
        tokens = np.memmap(f"{prefix}.bin", mode="r", dtype=dtype) if size else np.zeros(0, dtype)
        return cls(dtype, lengths, pointers, doc_indices, tokens)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> np.ndarray:
        start = int(self.pointers[i]) // np.dtype(self.dtype).itemsize
        return np.asarray(self.tokens[start : start + int(self.lengths[i])])


def concatenate(
    prefixes: list[Path], out_bin: Writable, out_idx: Writable, dtype: type
) -> tuple[int, int]:
    """Concatenate indexed datasets into one, written to the open files `out_bin`/`out_idx`
    (which may hash what they are given: every byte passes through `write` once).

    Returns (documents, tokens).
    """
    lengths = [IndexedDataset.open(p).lengths for p in prefixes]
    buffer = bytearray(_COPY_BYTES)
    view = memoryview(buffer)
    for prefix in prefixes:
        with open(f"{prefix}.bin", "rb", buffering=0) as src:
            while n := src.readinto(buffer):
                out_bin.write(view[:n])
    all_lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int32)
    write_index_to(out_idx, dtype, all_lengths)
    return len(all_lengths), int(all_lengths.sum(dtype=np.int64))

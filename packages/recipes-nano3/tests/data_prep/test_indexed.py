"""The numpy writer produces megatron-core's IndexedDataset layout, byte for byte."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from nemotron.recipes.nano3.data_prep._indexed import (
    IndexedDataset,
    concatenate,
    token_dtype,
    write_index,
)


def _write(prefix: Path, docs: list[list[int]], dtype: type) -> None:
    np.concatenate([np.asarray(d, dtype) for d in docs]).tofile(f"{prefix}.bin")
    write_index(Path(f"{prefix}.idx"), dtype, np.array([len(d) for d in docs]))


def test_index_layout_is_megatron_core(tmp_path: Path) -> None:
    _write(tmp_path / "a", [[1, 2, 3], [4], [5, 6]], np.uint16)
    raw = (tmp_path / "a.idx").read_bytes()
    assert raw[:9] == b"MMIDIDX\x00\x00"
    assert struct.unpack("<QBQQ", raw[9:34]) == (
        1,
        8,
        3,
        4,
    )  # version, uint16 code, sequences, documents
    lengths = np.frombuffer(raw, np.int32, 3, 34)
    pointers = np.frombuffer(raw, np.int64, 3, 34 + 12)
    documents = np.frombuffer(raw, np.int64, 4, 34 + 12 + 24)
    assert lengths.tolist() == [3, 1, 2]
    assert pointers.tolist() == [0, 6, 8]  # byte offsets (2 bytes per uint16 token)
    assert documents.tolist() == [0, 1, 2, 3]
    assert len(raw) == 34 + 12 + 24 + 32


def test_dtype_follows_megatron_optimal_dtype() -> None:
    assert token_dtype(65499) is np.uint16
    assert token_dtype(65500) is np.int32


def test_concatenate_reads_back(tmp_path: Path) -> None:
    _write(tmp_path / "a", [[1, 2, 3], [4]], np.int32)
    _write(tmp_path / "b", [[70000, 8]], np.int32)
    with open(tmp_path / "all.bin", "wb") as out_bin, open(tmp_path / "all.idx", "wb") as out_idx:
        docs, tokens = concatenate([tmp_path / "a", tmp_path / "b"], out_bin, out_idx, np.int32)
    assert (docs, tokens) == (3, 6)
    merged = IndexedDataset.open(tmp_path / "all")
    assert [merged[i].tolist() for i in range(len(merged))] == [[1, 2, 3], [4], [70000, 8]]

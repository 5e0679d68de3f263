"""Deterministic train/valid/test assignment from a hash of each record's content.

The split of a record depends only on its bytes and the seed: not on the file it sits in, the
shard, or the worker, so every input shard contributes to every split and reruns agree.
Exact duplicates land in the same split (no leakage of a duplicate into the held-out sets).
"""

from __future__ import annotations

import hashlib

import numpy as np

_SCALE = float(1 << 64)


def split_of(content: bytes, valid: float, test: float, seed: int = 0) -> int:
    """0 = train, 1 = valid, 2 = test."""
    digest = hashlib.blake2b(content, digest_size=8, salt=seed.to_bytes(8, "little")).digest()
    u = int.from_bytes(digest, "little") / _SCALE
    return 1 if u < valid else 2 if u < valid + test else 0


def splits_of(texts: list[str], valid: float, test: float, seed: int = 0) -> np.ndarray:
    """`split_of` for many texts (UTF-8), as an int8 array."""
    if valid == 0.0 and test == 0.0:
        return np.zeros(len(texts), dtype=np.int8)
    return np.fromiter(
        (split_of(t.encode(), valid, test, seed) for t in texts), dtype=np.int8, count=len(texts)
    )

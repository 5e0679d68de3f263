"""Best-fit-decreasing packing: valid, efficient, identical to the sequential algorithm."""

from __future__ import annotations

import numpy as np

from nemotron.recipes.nano3.data_prep._packing import pack_best_fit_decreasing


def _sequential_bfd(lengths: np.ndarray, capacity: int) -> int:
    """Textbook best-fit decreasing (one item at a time), counting packs."""
    rooms: list[int] = []
    for size in sorted(lengths.tolist(), reverse=True):
        fits = [(room, j) for j, room in enumerate(rooms) if room >= size]
        if fits:
            _, j = min(fits)
            rooms[j] -= size
        else:
            rooms.append(capacity - size)
    return len(rooms)


def _lognormal(n: int, mean: float, capacity: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sigma = 0.8
    values = rng.lognormal(np.log(mean) - sigma**2 / 2, sigma, n)
    return np.clip(np.round(values), 1, capacity).astype(np.int64)


def test_packs_respect_capacity_and_keep_every_sequence() -> None:
    lengths = _lognormal(20_000, 800, 4096)
    packing = pack_best_fit_decreasing(lengths, 4096)
    used = np.bincount(packing.pack_of, weights=lengths, minlength=packing.num_packs)
    assert used.max() <= 4096
    assert sorted(np.concatenate(packing.members()).tolist()) == list(range(len(lengths)))


def test_efficiency_at_least_99_9_percent_on_lognormal_lengths() -> None:
    packing = pack_best_fit_decreasing(_lognormal(200_000, 800, 4096, seed=1), 4096)
    assert packing.efficiency >= 0.999


def test_same_pack_count_as_sequential_best_fit() -> None:
    for seed in range(3):
        lengths = _lognormal(600, 300, 1024, seed)
        assert pack_best_fit_decreasing(lengths, 1024).num_packs == _sequential_bfd(lengths, 1024)


def test_deterministic() -> None:
    lengths = _lognormal(5000, 500, 2048)
    a = pack_best_fit_decreasing(lengths, 2048)
    b = pack_best_fit_decreasing(lengths.copy(), 2048)
    assert np.array_equal(a.pack_of, b.pack_of)

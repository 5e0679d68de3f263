"""Content digests: deterministic, parallel == serial, sensitive to content and names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nemotron.kit.artifacts import compute_digest
from nemotron.kit.artifacts._digest import default_algorithm


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ckpt"
    for i in range(12):
        folder = root / f"shard{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"w{i}.bin").write_bytes(os.urandom(1000 + 37 * i))
    (root / "big.bin").write_bytes(os.urandom(9 << 20))  # spans several read chunks
    return root


@pytest.mark.parametrize("algorithm", ["xxh3_128", "blake2b"])
def test_parallel_equals_serial_and_names_algorithm(tree: Path, algorithm: str) -> None:
    serial = compute_digest(tree, algorithm, workers=1)
    parallel = compute_digest(tree, algorithm, workers=8)
    assert serial == parallel and serial.startswith(f"{algorithm}:")


def test_default_is_fastest_installed() -> None:
    assert default_algorithm() == "xxh3_128"  # the digest extra is installed here


def test_sensitive_to_content_rename_and_new_files(tree: Path) -> None:
    base = compute_digest(tree)
    (tree / "metadata.json").write_text("{}")  # the artifact's own metadata is left out
    (tree / ".vm-123-0a1b2c-metadata.json").write_text('{"half')  # and a killed write's temp
    assert compute_digest(tree) == base
    (tree / "shard0" / "metadata.json").write_text("{}")  # but not deeper files of that name
    assert compute_digest(tree) != base
    (tree / "shard0" / "metadata.json").unlink()
    target = tree / "shard0" / "w0.bin"
    data = bytearray(target.read_bytes())
    data[500] ^= 1
    target.write_bytes(bytes(data))
    changed = compute_digest(tree)
    assert changed != base
    target.rename(tree / "shard0" / "w0-renamed.bin")
    assert compute_digest(tree) != changed
    (tree / "shard1" / "empty").write_bytes(b"")
    assert len({base, changed, compute_digest(tree)}) == 3


def test_single_file_and_unknown_algorithm(tree: Path) -> None:
    assert compute_digest(tree / "big.bin") == compute_digest(tree / "big.bin", workers=1)
    with pytest.raises(ValueError, match="unknown digest algorithm"):
        compute_digest(tree, "md5")


@pytest.mark.parametrize("algorithm", ["xxh3_128", "blake2b"])
def test_digest_writer_equals_a_second_pass_and_names_missing_and_changed_files(
    tmp_path: Path, algorithm: str
) -> None:
    from nemotron.kit.artifacts import DigestWriter, check_files

    root = tmp_path / "data"
    writer = DigestWriter(root, algorithm)
    big = os.urandom(5 << 20)
    with writer.open("train/a.bin") as f:  # written in pieces, as a join does
        for start in range(0, len(big), 1 << 20):
            f.write(memoryview(big)[start : start + (1 << 20)])
    writer.write_bytes("blend.json", b'{"train": [1.0, "train/a"]}\n')
    (root / "metadata.json").write_text("{}")  # the artifact's own metadata is left out
    assert writer.digest() == compute_digest(root, algorithm)
    assert set(writer.files) == {"train/a.bin", "blend.json"}
    assert check_files(root, writer.digest(), writer.files) == []

    (root / "blend.json").write_bytes(b'{"train": [2.0, "train/a"]}\n')  # same size, new bytes
    (root / "train/a.bin").unlink()
    (root / "stray.tmp").write_bytes(b"x")
    assert check_files(root, writer.digest(), writer.files) == [
        "changed: blend.json",
        "unexpected: stray.tmp",
        "missing: train/a.bin",
    ]
    # Without the per-file list: the data as a whole, and a vanished folder is "missing".
    assert check_files(root, writer.digest()) == [f"changed: {root}"]
    assert check_files(tmp_path / "gone", writer.digest()) == [f"missing: {tmp_path / 'gone'}"]

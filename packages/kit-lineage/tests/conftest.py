"""Helpers for kit-lineage tests: reading what an offline wandb run wrote to disk.

wandb 0.31 ships no Python reader for `.wandb` files any more (its core is in Go), so
`wandb_records` decodes the file itself: a 7-byte header (`:W&B`, magic 0xBEE1, version 0),
then LevelDB-log framing (32 KiB blocks; each chunk = crc32 u32, length u16, type u8 with
FULL=1/FIRST=2/MIDDLE=3/LAST=4) around serialized `wandb_internal_pb2.Record` protobufs.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_BLOCK = 32 * 1024
_HEADER = struct.Struct("<4sHB")
_CHUNK = struct.Struct("<IHB")


def _chunks(data: bytes) -> Iterator[bytes]:
    ident, magic, version = _HEADER.unpack_from(data, 0)
    assert (ident, magic, version) == (b":W&B", 0xBEE1, 0), "not a .wandb transaction log"
    pos, pending = _HEADER.size, b""
    while pos + _CHUNK.size <= len(data):
        room = _BLOCK - pos % _BLOCK
        if room < _CHUNK.size:
            pos += room
            continue
        crc, length, kind = _CHUNK.unpack_from(data, pos)
        assert kind in (1, 2, 3, 4), f"no chunk at byte {pos}: zeros where wandb writes none"
        pos += _CHUNK.size
        body = data[pos : pos + length]
        pos += length
        assert zlib.crc32(bytes([kind]) + body) & 0xFFFFFFFF == crc, "bad record checksum"
        if kind == 1:
            yield body
        elif kind == 2:
            pending = body
        elif kind == 3:
            pending += body
        elif kind == 4:
            yield pending + body
            pending = b""
    assert not pending and pos == len(data), "the log ends inside a record"


def wandb_records(run_file: Path) -> list[Any]:
    """Every `Record` protobuf in a finished offline run's `.wandb` file, in order.

    Fails when the file is not a whole, finished run (it must end with the run's exit
    record): wandb writes the log out when it closes the run, not record by record.
    """
    from wandb.proto import wandb_internal_pb2 as pb

    records = []
    for raw in _chunks(run_file.read_bytes()):
        record = pb.Record()
        record.ParseFromString(raw)
        records.append(record)
    kinds = [r.WhichOneof("record_type") for r in records]
    assert kinds[-1:] == ["exit"], f"{run_file}: not a finished run: {kinds}"
    return records


@pytest.fixture(scope="session")
def read_wandb() -> Callable[[Path], list[Any]]:
    """`read_wandb(run_file)`: the records of an offline run's `.wandb` file."""
    return wandb_records

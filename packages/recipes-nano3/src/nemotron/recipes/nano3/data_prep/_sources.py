"""Input sources: expand paths/URLs into files, plan them into shards, read records with locations.

A source is a JSONL or Parquet file, a folder of them, a glob, any fsspec URL, or a Hugging Face
dataset (`hf://org/name`, read with the `datasets` library on clusters). Shards are planned up
front from file sizes only, so the plan (and so the output) is the same for any worker count:
JSONL files split at byte ranges (a line belongs to the shard where it starts), Parquet files at
row groups, Hugging Face datasets into `hf_shards` contiguous pieces. Bad records raise
`InputDataError` naming file:line (row for Parquet), or are skipped and counted.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import msgspec

from nemotron.recipes.nano3.data_prep._config import SourceConfig
from nemotron.recipes.nano3.data_prep.errors import (
    DataPrepConfigError,
    InputDataError,
    OptionalDependencyError,
)

_JSONL = (".jsonl", ".json", ".ndjson")
_PARQUET = (".parquet", ".pq")
_COMPRESSED = (".gz", ".zst", ".bz2", ".xz")
PIECE_BYTES = 2 << 20
"""About this many bytes of JSONL (characters of text otherwise) are read and decoded at a time."""


@dataclass(frozen=True)
class Shard:
    """A planned unit of work: a byte range, row-group range or dataset piece of one file."""

    id: str
    source: str
    url: str
    format: str  # "jsonl", "jsonl-compressed", "parquet" or "hf"
    start: int
    end: int
    size: int = 0
    hf: tuple[str | None, str, str | None] | None = None  # (subset, split, revision)


@dataclass
class SourceStats:
    """What a source contributed, for the artifact's InputDatasetInfo."""

    files: list[str] = field(default_factory=list)
    bytes: int = 0


def _is_hf(path: str) -> bool:
    return path.startswith("hf://") and not path.startswith("hf://datasets/")


def expand_source(source: SourceConfig) -> list[tuple[str, int, str]]:
    """The files of a source as (url, size, format), sorted; raises when there are none."""
    import fsspec

    if _is_hf(source.path):
        return [(source.path, 0, "hf")]
    fs, root = fsspec.core.url_to_fs(source.path)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]

    def url(p: str) -> str:
        return p if protocol in ("file", "local") else f"{protocol}://{p}"

    if any(c in root for c in "*?["):
        paths = sorted(fs.glob(root))
    elif fs.isdir(root):
        paths = sorted(p for p in fs.find(root) if _format_of(p) is not None)
    elif fs.exists(root):
        paths = [root]
    else:
        raise InputDataError(source.path, 0, f"source `{source.name}`: no such file or folder")
    files = []
    for p in paths:
        fmt = _format_of(p)
        if fmt is None:
            raise InputDataError(url(p), 0, "unknown file type (expected .jsonl, .json, .parquet)")
        files.append((url(p), int(fs.size(p)), fmt))
    if not files:
        raise InputDataError(
            source.path, 0, f"source `{source.name}` holds no .jsonl or .parquet files"
        )
    return files


def _format_of(path: str) -> str | None:
    lower = path.lower()
    stem = lower
    for ext in _COMPRESSED:
        if lower.endswith(ext):
            stem = lower.removesuffix(ext)
            return "jsonl-compressed" if stem.endswith(_JSONL) else None
    if stem.endswith(_JSONL):
        return "jsonl"
    if stem.endswith(_PARQUET):
        return "parquet"
    return None


def plan_shards(sources: list[SourceConfig], shard_bytes: int, hf_shards: int = 64) -> list[Shard]:
    """Plan every source into shards of about `shard_bytes` input bytes, in a fixed order."""
    if shard_bytes <= 0:
        raise DataPrepConfigError("shard_bytes", f"must be positive, got {shard_bytes}")
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise DataPrepConfigError("sources", f"source names must be unique, got {names}")
    shards: list[Shard] = []
    for source in sources:
        count = 0
        for url, size, fmt in expand_source(source):
            for start, end in _ranges(url, size, fmt, shard_bytes, hf_shards):
                hf = (source.subset, source.split, source.revision) if fmt == "hf" else None
                part = min(size, end) - start if fmt == "jsonl" else size
                shards.append(
                    Shard(f"{source.name}-{count:05d}", source.name, url, fmt, start, end, part, hf)
                )
                count += 1
    return shards


def _ranges(
    url: str, size: int, fmt: str, shard_bytes: int, hf_shards: int
) -> list[tuple[int, int]]:
    if fmt == "jsonl":
        if size == 0:
            raise InputDataError(url, 0, "empty file")
        return [(s, min(s + shard_bytes, size)) for s in range(0, size, shard_bytes)]
    if fmt == "parquet":
        import fsspec
        import pyarrow.parquet as pq

        with fsspec.open(url, "rb") as f:
            meta = pq.ParquetFile(f).metadata
        if meta.num_rows == 0:
            raise InputDataError(url, 0, "empty file")
        ranges, first, acc = [], 0, 0
        for i in range(meta.num_row_groups):
            acc += meta.row_group(i).total_byte_size
            if acc >= shard_bytes:
                ranges.append((first, i + 1))
                first, acc = i + 1, 0
        if first < meta.num_row_groups:
            ranges.append((first, meta.num_row_groups))
        return ranges
    if fmt == "hf":
        return [(i, hf_shards) for i in range(hf_shards)]
    return [(0, size)]


@dataclass
class ReadStats:
    """Counts of one shard's read: records seen, bad records skipped (with the first locations)."""

    records: int = 0
    bad: int = 0
    bad_examples: list[str] = field(default_factory=list)

    def skip(self, location: str, reason: str) -> None:
        self.bad += 1
        if len(self.bad_examples) < 5:
            self.bad_examples.append(f"{location}: {reason}")


Validate = Callable[[Any], str | None]
"""Returns None for a good record, else the reason it is bad."""


def _open_jsonl(shard: Shard) -> Any:
    import fsspec

    compression = "infer" if shard.format == "jsonl-compressed" else None
    return fsspec.open(shard.url, "rb", compression=compression)


def _line_number(shard: Shard, offset: int) -> int:
    """1-based line number of the byte at `offset` (read only when reporting an error)."""
    with _open_jsonl(shard) as f:
        return f.read(offset).count(b"\n") + 1


def _jsonl_pieces(shard: Shard) -> Iterator[tuple[int, bytes]]:
    """(byte offset, bytes) of the lines that start inside the shard's byte range (compressed:
    the whole file; offsets into the decompressed stream), about `PIECE_BYTES` of whole lines
    at a time, so decoding can start before the shard is read."""
    compressed = shard.format == "jsonl-compressed"
    with _open_jsonl(shard) as f, _unreadable(shard, compressed):
        pos = shard.start
        if pos > 0:
            f.seek(pos - 1)
            pos += len(f.readline()) - 1
        while compressed or pos < shard.end:
            data = f.read(PIECE_BYTES if compressed else min(PIECE_BYTES, shard.end - pos))
            if not data:
                return
            if not data.endswith(b"\n"):
                data += f.readline()
            yield pos, data
            pos += len(data)


@contextmanager
def _unreadable(shard: Shard, compressed: bool) -> Iterator[None]:
    """A compressed file that does not decompress (`x.jsonl.gz` that is not gzip, truncated)
    becomes an InputDataError naming it."""
    if not compressed:
        yield
        return
    import lzma
    import zlib

    try:
        yield
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as err:
        kind = shard.url.rsplit(".", 1)[-1]
        raise InputDataError(
            shard.url, 0, f"cannot decompress as .{kind} ({err}); fix or rename the file"
        ) from None


def _lines(pos: int, data: bytes) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line) for each line of `data`, which starts at offset `pos`."""
    start = 0
    while start < len(data):
        stop = data.find(b"\n", start)
        stop = len(data) if stop < 0 else stop
        yield pos + start, data[start:stop]
        start = stop + 1


def iter_records(
    shard: Shard,
    field_name: str,
    on_bad_record: str,
    stats: ReadStats,
    validate: Validate | None = None,
    whole_record: bool = False,
    piece: tuple[int, bytes] | None = None,
    prepare: Callable[[dict[str, Any]], dict[str, Any] | str] | None = None,
) -> Iterator[Any]:
    """The shard's values of `field_name` (or whole records), skipping or raising on bad ones.

    `piece`: only these lines of a JSONL shard, as `_jsonl_pieces` gives them. `prepare`: applied
    to each JSON object before its field is looked at; returns the record to use, or why it is bad.
    """
    if on_bad_record not in ("error", "skip"):
        raise DataPrepConfigError(
            "on_bad_record", f"must be `error` or `skip`, got {on_bad_record!r}"
        )
    decoder = msgspec.json.Decoder()
    for location, record in raw_records(shard, decoder, piece):
        stats.records += 1
        reason: str | None
        if prepare is not None and isinstance(record, dict):
            record = prepare(record)
        if isinstance(record, _Bad | str):
            reason = record if isinstance(record, str) else record.reason
        elif not isinstance(record, dict):
            reason = "record is not a JSON object"
        elif field_name not in record or record[field_name] is None:
            reason = f"missing field `{field_name}`"
        else:
            value = record if whole_record else record[field_name]
            reason = validate(value) if validate else None
            if reason is None:
                yield value
                continue
        _report(shard, location, reason or "bad record", on_bad_record, stats)


def text_batches(
    shard: Shard, field_name: str, on_bad_record: str, stats: ReadStats, validate: Validate
) -> Iterator[list[str]]:
    """`iter_records` for one string field, in batches, with a fast path for JSONL shards.

    The fast path decodes a piece of the shard (`_jsonl_pieces`) per call, only `field_name`,
    typed as a string (msgspec skips every other field). A piece holding any record it cannot
    take as-is (invalid JSON, not an object, field missing, null or not a string) goes through
    `iter_records`, which gives the same values, counts and file:line errors.
    """
    if shard.format.startswith("jsonl"):
        decoder = _field_decoder(field_name)
        for piece in _jsonl_pieces(shard):
            try:
                records = decoder.decode_lines(piece[1])
            except (msgspec.MsgspecError, UnicodeDecodeError):
                records = None
            if records is not None and all(r.value is not None for r in records):
                stats.records += len(records)
                yield [r.value for r in records]
            else:
                yield list(
                    iter_records(shard, field_name, on_bad_record, stats, validate, piece=piece)
                )
        return
    batch: list[str] = []
    chars = 0
    for text in iter_records(shard, field_name, on_bad_record, stats, validate):
        batch.append(text)
        chars += len(text)
        if chars >= PIECE_BYTES:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


@functools.cache
def _field_decoder(field_name: str) -> msgspec.json.Decoder[Any]:
    record = msgspec.defstruct(
        "Record", [("value", str | None, None)], rename={"value": field_name}
    )
    return msgspec.json.Decoder(record)


def _report(shard: Shard, location: int, reason: str, on_bad_record: str, stats: ReadStats) -> None:
    if shard.format.startswith("jsonl"):
        file, line = shard.url, _line_number(shard, location)
    else:
        file, line = f"{shard.url} row", location + 1
    if on_bad_record == "error":
        raise InputDataError(file, line, reason)
    stats.skip(f"{file}:{line}", reason)


@dataclass(frozen=True)
class _Bad:
    reason: str


def _not_utf8(line: bytes) -> str:
    """Where the bytes of `line` stop being UTF-8."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"not UTF-8 (byte {line[err.start]:#04x} at column {err.start + 1})"
    return "not UTF-8"


def raw_records(
    shard: Shard, decoder: msgspec.json.Decoder, piece: tuple[int, bytes] | None
) -> Iterator[tuple[int, Any]]:
    """(location, decoded record or _Bad): byte offset (JSONL; of the decompressed stream when
    compressed) or row index. `piece`: only these JSONL lines."""
    if shard.format.startswith("jsonl"):
        pieces = [piece] if piece is not None else _jsonl_pieces(shard)
        for offset, line in (line for p in pieces for line in _lines(*p)):
            if not line.strip():
                continue
            try:
                yield offset, decoder.decode(line)
            except msgspec.DecodeError as err:
                yield offset, _Bad(f"invalid JSON ({err})")
            except UnicodeDecodeError:
                yield offset, _Bad(_not_utf8(line))
    elif shard.format == "parquet":
        import fsspec
        import pyarrow.parquet as pq

        with fsspec.open(shard.url, "rb") as f:
            pf = pq.ParquetFile(f)
            row = sum(pf.metadata.row_group(i).num_rows for i in range(shard.start))
            for group in range(shard.start, shard.end):
                for record in pf.read_row_group(group).to_pylist():
                    yield row, record
                    row += 1
    else:
        yield from enumerate(_hf_rows(shard))


def _hf_rows(shard: Shard) -> Iterator[dict[str, Any]]:
    try:
        import datasets
    except ImportError as err:
        raise OptionalDependencyError(f"source {shard.url}", "hf") from err
    assert shard.hf is not None
    subset, split, revision = shard.hf
    name = shard.url.removeprefix("hf://")
    dataset = datasets.load_dataset(name, subset, split=split, revision=revision)
    yield from dataset.shard(num_shards=shard.end, index=shard.start, contiguous=True)


def fingerprint(shards: list[Shard], *parts: object) -> str:
    """A digest of the plan and settings: names the work folder, so changed inputs start afresh."""
    h = hashlib.sha256()
    for shard in shards:
        h.update(repr((shard.id, shard.url, shard.start, shard.end, shard.size)).encode())
    for part in parts:
        h.update(repr(part).encode())
    return h.hexdigest()[:16]

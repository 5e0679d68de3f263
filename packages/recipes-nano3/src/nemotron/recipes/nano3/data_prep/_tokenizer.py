"""Tokenizers for data prep: the configured (reference) tokenizer and the fastest exact encoder.

A tokenizer is named by a `tokenizer.json` path, a folder holding one, a Hugging Face hub name,
or `tiktoken:<encoding>`. The reference encoder is the library that defines it (`tokenizers` or
`tiktoken`). At start-up `choose_encoder` encodes a sample of the real input plus fixed probes
(Unicode, whitespace runs, special-token text) with both the reference and `gigatoken`, and uses
`gigatoken` only when every id matches; otherwise the reference is used. Encoders return
documents as one flat `uint32` array plus `int64` offsets, never Python lists of ints.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nemotron.recipes.nano3.data_prep.errors import OptionalDependencyError, TokenizerLoadError

_PROBES = (
    "Hello, world! It's 2025-01-01; naïve café — 東京 😀 \u200b end.",
    "   leading spaces\n\n\ttabs\r\nand CRLF  \n   ",
    "<|endoftext|> special text <|im_start|>user\nhi<|im_end|>",
    "def f(x):\n    return x**2  # comment\n\n\n",
    "1234567890 3.14159 0x1F 1e-9",
)
# gigatoken's name for the split scheme of the OpenAI encodings tiktoken ships.
_TIKTOKEN_PRETOKENIZERS = {
    "gpt2": "gpt2",
    "r50k_base": "gpt2",
    "cl100k_base": "gpt4",
    "o200k_base": "o200k",
}


class Encoder(Protocol):
    """Encodes a batch of documents into flat token ids plus document offsets."""

    name: str

    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class TokenizerInfo:
    """What data prep needs to know about a tokenizer (picklable, rebuilds encoders in workers)."""

    source: str
    kind: str  # "hf" (a tokenizer.json) or "tiktoken"
    location: str  # path of tokenizer.json, or the tiktoken encoding name
    vocab_size: int
    eod_id: int
    pad_id: int
    digest: str
    special_tokens: dict[str, int] = field(default_factory=dict)
    chat_template: str | None = None


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _hf_folder(source: str, revision: str | None) -> Path:
    path = Path(source).expanduser()
    if path.is_file():
        return path.parent
    if path.is_dir():
        return path
    if source.startswith((".", "/", "~")) or source.count("/") != 1:
        raise TokenizerLoadError(source, "no such file or folder")
    try:
        from huggingface_hub import snapshot_download
    except ImportError as err:  # pragma: no cover - huggingface_hub comes with tokenizers
        raise OptionalDependencyError("a hub tokenizer", "hf") from err
    try:
        patterns = [
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "chat_template.jinja",
        ]
        return Path(snapshot_download(source, revision=revision, allow_patterns=patterns))
    except Exception as err:
        raise TokenizerLoadError(source, f"cannot download from the hub: {err}") from err


def _token_name(value: Any) -> str | None:
    return value.get("content") if isinstance(value, dict) else value


def load_tokenizer_info(
    source: str,
    *,
    revision: str | None = None,
    eod_token: str | None = None,
    pad_token: str | None = None,
) -> TokenizerInfo:
    """Resolve a tokenizer name to a `TokenizerInfo` (downloads hub tokenizers once)."""
    if source.startswith("tiktoken:"):
        encoding = _tiktoken_encoding(source.removeprefix("tiktoken:"))
        specials: dict[str, int] = dict(encoding._special_tokens)
        eod = eod_token or "<|endoftext|>"
        if eod not in specials:
            raise TokenizerLoadError(source, f"has no special token {eod!r}; set eod_token")
        ranks = b"".join(
            k + b"%d" % v
            for k, v in sorted(encoding._mergeable_ranks.items(), key=lambda kv: kv[1])
        )
        return TokenizerInfo(
            source=source,
            kind="tiktoken",
            location=encoding.name,
            vocab_size=encoding.n_vocab,
            eod_id=specials[eod],
            pad_id=specials.get(pad_token or eod, specials[eod]),
            digest=_sha256(ranks + encoding._pat_str.encode()),
            special_tokens=specials,
        )
    folder = _hf_folder(source, revision)
    given = Path(source).expanduser()
    json_path = given if given.is_file() else folder / "tokenizer.json"
    if not json_path.is_file():
        raise TokenizerLoadError(source, f"{json_path} does not exist")
    raw = json_path.read_bytes()
    try:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(raw.decode())
    except Exception as err:
        raise TokenizerLoadError(
            source, f"{json_path} is not a valid tokenizer.json: {err}"
        ) from err
    config_path = folder / "tokenizer_config.json"
    config: dict[str, Any] = json.loads(config_path.read_text()) if config_path.is_file() else {}
    template = config.get("chat_template")
    template_file = folder / "chat_template.jinja"
    if template is None and template_file.is_file():
        template = template_file.read_text()
    specials = {t["content"]: t["id"] for t in json.loads(raw).get("added_tokens", [])}
    eod = eod_token or _token_name(config.get("eos_token")) or "<|endoftext|>"
    eod_id = tokenizer.token_to_id(eod)
    if eod_id is None:
        raise TokenizerLoadError(source, f"has no token {eod!r} for end-of-document; set eod_token")
    pad = pad_token or _token_name(config.get("pad_token")) or eod
    pad_id = tokenizer.token_to_id(pad)
    return TokenizerInfo(
        source=source,
        kind="hf",
        location=str(json_path.resolve()),
        vocab_size=tokenizer.get_vocab_size(with_added_tokens=True),
        eod_id=eod_id,
        pad_id=eod_id if pad_id is None else pad_id,
        digest=_sha256(raw),
        special_tokens=specials,
        chat_template=template if isinstance(template, str) else None,
    )


def _tiktoken_encoding(name: str) -> Any:
    try:
        import tiktoken
    except ImportError as err:
        raise OptionalDependencyError(f"tokenizer tiktoken:{name}", "tiktoken") from err
    try:
        return tiktoken.get_encoding(name)
    except Exception as err:
        raise TokenizerLoadError(f"tiktoken:{name}", str(err)) from err


def _flatten(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in lists], out=offsets[1:])
    flat = np.fromiter((t for x in lists for t in x), dtype=np.uint32, count=int(offsets[-1]))
    return flat, offsets


class _HFEncoder:
    name = "tokenizers"

    def __init__(self, info: TokenizerInfo) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(info.location)

    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        encodings = self._tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        return _flatten([e.ids for e in encodings])


class _TiktokenEncoder:
    name = "tiktoken"

    def __init__(self, info: TokenizerInfo) -> None:
        self._encoding = _tiktoken_encoding(info.location)

    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return _flatten(self._encoding.encode_ordinary_batch(texts, num_threads=1))


class _GigatokenEncoder:
    name = "gigatoken"

    def __init__(self, info: TokenizerInfo) -> None:
        import gigatoken

        if info.kind == "hf":
            self._tokenizer = gigatoken.Tokenizer(info.location)
        else:
            scheme = _TIKTOKEN_PRETOKENIZERS.get(info.location.removesuffix("_offline"))
            if scheme is None:
                raise ValueError(
                    f"gigatoken has no split scheme for tiktoken encoding {info.location}"
                )
            path = _ranks_file(info)
            self._tokenizer = gigatoken.Tokenizer.from_tiktoken(
                path, pretokenizer=scheme, special_tokens={}
            )

    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        layout = self._tokenizer.encode_batch(texts, parallel=False).layout
        offsets = np.asarray(layout.offsets.data, dtype=np.int64)
        flat = np.asarray(layout.content.data)[offsets[0] : offsets[-1]]
        return flat.astype(np.uint32, copy=False), offsets - offsets[0]


def _ranks_file(info: TokenizerInfo) -> str:
    """A `.tiktoken` rank file for the encoding (cached in the temp folder, written atomically)."""
    folder = Path(tempfile.gettempdir()) / "nemotron-tiktoken"
    path = folder / f"{info.digest.removeprefix('sha256:')[:16]}.tiktoken"
    if not path.exists():
        encoding = _tiktoken_encoding(info.location)
        folder.mkdir(parents=True, exist_ok=True)
        lines = (
            base64.b64encode(token) + b" %d\n" % rank
            for token, rank in sorted(encoding._mergeable_ranks.items(), key=lambda kv: kv[1])
        )
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_bytes(b"".join(lines))
        os.replace(tmp, path)
    return str(path)


def reference_encoder(info: TokenizerInfo) -> Encoder:
    """The encoder of the library that defines the tokenizer."""
    return _HFEncoder(info) if info.kind == "hf" else _TiktokenEncoder(info)


_ENCODERS: dict[tuple[str, str, str], Encoder] = {}


def build_encoder(info: TokenizerInfo, name: str) -> Encoder:
    """The named encoder for a tokenizer, built once per process."""
    key = (info.location, info.digest, name)
    if key not in _ENCODERS:
        _ENCODERS[key] = _GigatokenEncoder(info) if name == "gigatoken" else reference_encoder(info)
    return _ENCODERS[key]


@dataclass(frozen=True)
class EncoderChoice:
    """Which encoder runs, and the evidence for it."""

    name: str
    verified_docs: int
    reason: str


def choose_encoder(info: TokenizerInfo, sample: list[str], prefer: str = "auto") -> EncoderChoice:
    """Pick the fastest encoder whose ids equal the reference's on `sample` plus fixed probes.

    `prefer`: "auto" (gigatoken when proven identical), "reference", or "gigatoken"
    (fails when it is not identical).
    """
    reference = reference_encoder(info).name
    if prefer == "reference":
        return EncoderChoice(reference, 0, "configured")
    texts = list(_PROBES) + sample
    try:
        fast = build_encoder(info, "gigatoken")
    except Exception as err:
        reason = f"gigatoken cannot load this tokenizer ({err})"
        if prefer == "gigatoken":
            raise TokenizerLoadError(info.source, reason) from err
        return EncoderChoice(reference, 0, reason)
    want_flat, want_offsets = reference_encoder(info).encode_batch(texts)
    got_flat, got_offsets = fast.encode_batch(texts)
    if np.array_equal(want_offsets, got_offsets) and np.array_equal(want_flat, got_flat):
        return EncoderChoice(
            "gigatoken", len(texts), f"identical to {reference} on {len(texts)} documents"
        )
    reason = f"gigatoken differs from {reference} on the sample"
    if prefer == "gigatoken":
        raise TokenizerLoadError(info.source, reason)
    return EncoderChoice(reference, len(texts), reason)

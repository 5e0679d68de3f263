"""Progress of a sharded run: a Rich bar on a terminal, plain periodic lines in logs."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def _rate(value: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:.0f}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds // 60 % 60:02d}m"
        if seconds >= 3600
        else f"{seconds // 60}m{seconds % 60:02d}s"
    )


def _shards(count: int) -> str:
    return f"{count} shard{'' if count == 1 else 's'}"


class Progress:
    """Counts finished shards, documents and tokens; reports rates and an ETA by input bytes.

    On a terminal it draws a Rich progress bar; otherwise it prints one line every
    `interval` seconds (and at the end) to `stream`.
    """

    def __init__(
        self,
        label: str,
        total_bytes: int,
        total_shards: int,
        stream: TextIO | None = None,
        interval: float = 10.0,
    ) -> None:
        self.label = label
        self.total_bytes = max(total_bytes, 1)
        self.total_shards = total_shards
        self.stream = stream or sys.stderr
        self.interval = interval
        self.shards = self.docs = self.tokens = self.bytes = self.resumed = 0
        self._start = time.monotonic()
        self._last_line = self._start
        self._rich: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.stream.isatty():
            from rich.progress import BarColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeRemainingColumn(),
                transient=False,
            )
            self._rich.__enter__()
            self._task = self._rich.add_task(self.label, total=self.total_bytes, stats="")
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._rich is not None:
            self._rich.__exit__(None, None, None)
        elif exc_type is None:  # (a failed run ends with its error, not a "done" line)
            self._line(final=True)

    def skipped(self, shards: int, nbytes: int) -> None:
        """Shards already finished by an earlier run (resume)."""
        self.resumed = shards
        self.total_bytes = max(self.total_bytes - nbytes, 1)
        if shards:
            print(
                f"{self.label}: resuming, {shards} of {_shards(self.total_shards)} already done",
                file=self.stream,
            )

    def advance(self, docs: int, tokens: int, nbytes: int) -> None:
        """One shard finished."""
        self.shards += 1
        self.docs += docs
        self.tokens += tokens
        self.bytes += nbytes
        if self._rich is not None:
            self._rich.update(self._task, completed=self.bytes, stats=self.summary())
        elif time.monotonic() - self._last_line >= self.interval:
            self._line()

    def summary(self) -> str:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        text = f"{self.resumed + self.shards}/{_shards(self.total_shards)}"
        if self.resumed:
            text += f" ({self.resumed} from the earlier run)"
        text += f", {self.docs:,} docs ({_rate(self.docs / elapsed)} docs/s)"
        if self.tokens:  # RL splits records without tokenizing them
            text += f", {self.tokens:,} tokens ({_rate(self.tokens / elapsed)} tok/s)"
        return text

    def _line(self, final: bool = False) -> None:
        elapsed = time.monotonic() - self._start
        self._last_line = time.monotonic()
        done = self.bytes / self.total_bytes
        eta = (
            "done"
            if final
            else (f"ETA {_duration(elapsed / done * (1 - done))}" if done > 0 else "ETA ?")
        )
        print(
            f"{self.label}: {self.summary()}, {_duration(elapsed)} elapsed, {eta}",
            file=self.stream,
            flush=True,
        )

"""A local job's `output.log` in tty mode: what a terminal shows, as plain lines.

Fed with what Rich really writes to a terminal (a Console forced into terminal mode), chunk by
chunk as a stage would, through the supervisor's `PlainLog`.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from nemotron.kit.run._supervisor import PlainLog

GLYPHS = ("━", "╸", "╺", "█")


class _Terminal(io.StringIO):
    """A terminal Rich draws on; every write goes to the log as bytes, as from the pty."""

    def __init__(self, log: PlainLog) -> None:
        super().__init__()
        self.log = log

    def write(self, text: str) -> int:
        self.log.write(text.replace("\n", "\r\n").encode())  # a pty's ONLCR
        return len(text)

    def isatty(self) -> bool:
        return True


def _draw(path: Path, tasks: int, *, snapshot_s: float) -> list[str]:
    """A Rich progress with `tasks` bars, 5 steps, a printed line after step 2; the log lines."""
    log = PlainLog(str(path), tty=True, snapshot_s=snapshot_s)
    console = Console(file=_Terminal(log), force_terminal=True, width=80)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/5 shards"),
        console=console,
        auto_refresh=False,
    ) as progress:
        ids = [progress.add_task(f"part {n}", total=5) for n in range(tasks)]
        for step in range(1, 6):
            for task in ids:
                progress.update(task, completed=step)
            progress.refresh()
            if step == 2:
                progress.console.print("tokenizer loaded")
    console.print("done: 5 shards")
    log.close()
    return path.read_text(encoding="utf-8").splitlines()


def test_a_redrawn_bar_is_logged_as_plain_snapshots_beside_the_printed_lines(
    tmp_path: Path,
) -> None:
    lines = _draw(tmp_path / "output.log", tasks=1, snapshot_s=0)
    assert lines == [
        "part 0 1/5 shards",
        "part 0 2/5 shards",
        "tokenizer loaded",
        "part 0 3/5 shards",
        "part 0 4/5 shards",
        "part 0 5/5 shards",
        "done: 5 shards",
    ]


def test_without_a_snapshot_due_the_log_keeps_the_printed_lines_and_the_last_state(
    tmp_path: Path,
) -> None:
    lines = _draw(tmp_path / "output.log", tasks=1, snapshot_s=3600)
    assert lines == ["tokenizer loaded", "part 0 5/5 shards", "done: 5 shards"]


def test_a_multi_line_live_display_is_logged_once_not_per_redraw(tmp_path: Path) -> None:
    lines = _draw(tmp_path / "output.log", tasks=2, snapshot_s=3600)
    first_frame = "part 0 0/5 shards"  # drawn before the display first moved back up over it
    assert lines == [
        first_frame,
        "tokenizer loaded",
        "part 0 5/5 shards",
        "part 1 5/5 shards",
        "done: 5 shards",
    ]
    assert not any(glyph in line for line in lines for glyph in GLYPHS)


def test_lines_drawn_once_are_kept_as_written(tmp_path: Path) -> None:
    log = PlainLog(str(tmp_path / "output.log"), tty=True, snapshot_s=0)
    for chunk in (b"\x1b[1mbold\x1b[0m ", b"half", b" line\r\n", "━━ kept\r\n".encode(), b"tail"):
        log.write(chunk)
    log.close()
    assert (tmp_path / "output.log").read_text() == "bold half line\n━━ kept\ntail\n"
    assert log.last_line == b"tail"

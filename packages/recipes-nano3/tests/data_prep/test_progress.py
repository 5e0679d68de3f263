"""Progress lines in logs (no terminal): rates, ETA, resume, the final line."""

from __future__ import annotations

import io
import re

from nemotron.recipes.nano3.data_prep._progress import Progress


def test_plain_lines_in_logs_carry_rates_eta_and_a_final_line() -> None:
    log = io.StringIO()  # not a TTY: plain lines instead of a Rich bar
    with Progress("pretrain data", total_bytes=400, total_shards=4, stream=log, interval=0) as p:
        p.skipped(shards=1, nbytes=100)
        p.advance(docs=10, tokens=2_000, nbytes=100)
        p.advance(docs=10, tokens=2_000, nbytes=100)
    lines = log.getvalue().splitlines()
    assert lines[0] == "pretrain data: resuming, 1 of 4 shards already done"
    assert re.fullmatch(
        r"pretrain data: 2/4 shards \(1 from the earlier run\), 10 docs \(\S+ docs/s\), 2,000 tokens \(\S+ tok/s\), "
        r"0m\d\ds elapsed, ETA \d+m\d\ds",
        lines[1],
    )
    assert lines[-1].startswith("pretrain data: 3/4 shards (1 from the earlier run), 20 docs")
    assert lines[-1].endswith("done")


def test_a_resume_with_every_shard_done_counts_them() -> None:
    log = io.StringIO()  # was "0/0 shards"
    with Progress("rl data", total_bytes=10, total_shards=1, stream=log) as p:
        p.skipped(shards=1, nbytes=10)
    assert log.getvalue().splitlines() == [
        "rl data: resuming, 1 of 1 shard already done",
        "rl data: 1/1 shard (1 from the earlier run), 0 docs (0 docs/s), 0m00s elapsed, done",
    ]


def test_stages_without_tokens_do_not_report_them() -> None:
    log = io.StringIO()
    with Progress("rl data", total_bytes=10, total_shards=1, stream=log) as p:
        p.advance(docs=5, tokens=0, nbytes=10)
    assert "tok" not in log.getvalue() and "1/1 shard, 5 docs" in log.getvalue()

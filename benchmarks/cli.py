"""Wall time of `nemotron` help and dry-run commands beside a bare interpreter.

    uv run --no-sync python benchmarks/cli.py [--runs 15]

Each command runs as a fresh process (median of N runs after one warm-up). Target: `nemotron
--help` within 0.15 s of `python -c pass`. Commands whose recipe stage is not installed are
reported as missing rather than timed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_OVER_BARE_S = 0.15


def _nemotron() -> list[str]:
    script = Path(sys.executable).parent / "nemotron"
    return [str(script)] if script.exists() else [sys.executable, "-m", "nemotron.kit.cli"]


def _time(argv: list[str], runs: int) -> tuple[float | None, str]:
    env = {**os.environ, "COLUMNS": "100"}
    first = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if first.returncode != 0:
        return None, (first.stderr.strip().splitlines() or ["failed"])[-1]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=env, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    nemotron = _nemotron()
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("nemotron --help", [*nemotron, "--help"]),
        ("nemotron nano3 --help", [*nemotron, "nano3", "--help"]),
        ("nemotron nano3 sft --help", [*nemotron, "nano3", "sft", "--help"]),
        ("nemotron nano3 sft --dry-run", [*nemotron, "nano3", "sft", "--dry-run"]),
    ]
    bare = None
    print(f"{'command':<32} {'median s':>9} {'minus bare':>11} {'x bare':>8}")
    for label, argv in cases:
        median, problem = _time(argv, args.runs)
        if median is None:
            print(f"{label:<32} {'n/a':>9}   ({problem[:70]})")
            continue
        bare = bare if bare is not None else median
        print(f"{label:<32} {median:9.3f} {median - bare:11.3f} {median / bare:8.1f}")
        if label == "nemotron --help":
            verdict = "meets" if median - bare <= TARGET_OVER_BARE_S else "misses"
            print(f"{'':<32} target: within {TARGET_OVER_BARE_S} s of bare -> {verdict}")
    print(
        f"({args.runs} runs each, {sys.version.split()[0]}, {shutil.which('nproc') and os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()

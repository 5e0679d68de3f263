"""Wall time of `nemotron` help and dry-run commands beside a bare interpreter.

    uv run --no-sync python benchmarks/cli.py [--runs 15]

Each command runs as a fresh process (median of N runs after one warm-up). Target: `nemotron
--help` within 0.15 s of `python -c pass`. The dry run resolves the `tiny` SFT stage's inputs in
a throw-away registry that holds an `nano3-sft-data` and a `nano3-tiny-pretrain-model` artifact
(metadata only: a dry run never reads the data). Commands that fail are reported, not timed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_OVER_BARE_S = 0.15


def _nemotron() -> list[str]:
    script = Path(sys.executable).parent / "nemotron"
    return [str(script)] if script.exists() else [sys.executable, "-m", "nemotron.kit.cli"]


def _registry_with_sft_inputs(root: Path) -> None:
    """Publish the two artifacts the tiny SFT stage expects into the registry at `root`."""
    os.environ["NEMOTRON_ARTIFACTS_ROOT"] = str(root)
    from nemotron.kit.artifacts import ModelArtifact, SFTDataArtifact

    (root / "data").mkdir(parents=True)
    SFTDataArtifact(path=root / "data", pack_size=1024).save(name="nano3-sft-data")
    ModelArtifact(path=root / "data", step=1).save(name="nano3-tiny-pretrain-model")


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
    _registry_with_sft_inputs(Path(tempfile.mkdtemp(prefix="bench-cli-")))
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("nemotron --help", [*nemotron, "--help"]),
        ("nemotron nano3 --help", [*nemotron, "nano3", "--help"]),
        ("nemotron nano3 sft --help", [*nemotron, "nano3", "sft", "--help"]),
        (
            "nemotron nano3 sft -c tiny --dry-run",
            [*nemotron, "nano3", "sft", "-c", "tiny", "--dry-run"],
        ),
    ]
    bare = None
    print(f"{'command':<38} {'median s':>9} {'minus bare':>11} {'x bare':>8}")
    for label, argv in cases:
        median, problem = _time(argv, args.runs)
        if median is None:
            print(f"{label:<38} {'n/a':>9}   ({problem[:70]})")
            continue
        bare = bare if bare is not None else median
        print(f"{label:<38} {median:9.3f} {median - bare:11.3f} {median / bare:8.1f}")
        if label == "nemotron --help":
            verdict = "meets" if median - bare <= TARGET_OVER_BARE_S else "misses"
            print(f"{'':<38} target: within {TARGET_OVER_BARE_S} s of bare -> {verdict}")
    print(
        f"({args.runs} runs each, {sys.version.split()[0]}, {shutil.which('nproc') and os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()

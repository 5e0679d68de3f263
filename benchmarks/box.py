"""The cluster in a box: how long it takes to start, and to run the tiny data pipe through it.

    sudo uv run --no-sync python benchmarks/box.py [--runs 3] [--skip-pipe]

Rows (each the median of `--runs`, wall seconds):
- `box start, warm`: `scripts/local-cluster.sh` with everything up (what every CI run and test
  session pays);
- `box start, image cached`: the same after stopping the login node's sshd and deleting the
  compiled SPANK plugin (rebuilt and restarted; the image comes from the cache; Slurm itself is
  shared with other users of this machine and left running);
- `job code, cached`: kit-run's `prepare_job_code()` when its trees are cached (every submit);
- `data prep <stage> --run box`: one attached stage from a project folder outside the repo;
- `pipe --until data --run box`: the three data prep stages chained `afterok`.
Targets (issue 13): box start with the image cached <= 60 s; the tiny data pipe <= 120 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TARGET_S = 60.0
PIPE_TARGET_S = 120.0
NEMOTRON = str(Path(sys.executable).with_name("nemotron"))


def _timed(args: list[str], cwd: Path | None = None) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if k != "NEMOTRON_ARTIFACTS_ROOT"}
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"  ! {' '.join(args[-6:])} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return time.perf_counter() - start, proc.returncode


def _cold_box() -> None:
    pid_file = Path("/run/nemotron-box/login/sshd.pid")
    if pid_file.exists():
        pid = int(pid_file.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
    Path("/usr/local/lib/nemotron-box/box_container.sum").unlink(missing_ok=True)


def _job_code() -> float:
    from nemotron.kit.run._jobcode import prepare_job_code

    prepare_job_code()
    start = time.perf_counter()
    prepare_job_code()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-pipe", action="store_true", help="only the start rows")
    opts = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (it starts the box)")
        return 2
    script = ["bash", str(ROOT / "scripts" / "local-cluster.sh")]
    rows: list[tuple[str, float, str]] = []
    _timed(script)  # make sure everything exists (the first start may build the image)
    warm = [_timed(script)[0] for _ in range(opts.runs)]
    rows.append(("box start, warm", statistics.median(warm), ""))
    cold = []
    for _ in range(opts.runs):
        _cold_box()
        cold.append(_timed(script)[0])
    verdict = "ok" if statistics.median(cold) <= START_TARGET_S else "OVER"
    rows.append(
        ("box start, image cached", statistics.median(cold), f"<= {START_TARGET_S:.0f} s {verdict}")
    )
    rows.append(("job code, cached", _job_code(), ""))
    if not opts.skip_pipe:
        with tempfile.TemporaryDirectory(prefix="box-bench-") as tmp:
            project = Path(tmp)
            shutil.copy("/run/nemotron-box/env.toml", project / "env.toml")  # the box's profile
            for stage in ("pretrain", "sft", "rl"):
                seconds, _ = _timed(
                    [NEMOTRON, "nano3", "data", "prep", stage, "-c", "tiny", "--run", "box"],
                    project,
                )
                rows.append((f"data prep {stage} --run box", seconds, ""))
            pipe = [
                _timed(
                    [NEMOTRON, "nano3", "pipe", "-c", "tiny", "--until", "data", "--run", "box"],
                    project,
                )
                for _ in range(opts.runs)
            ]
            ok = all(rc == 0 for _, rc in pipe)
            median = statistics.median(s for s, _ in pipe)
            verdict = ("ok" if median <= PIPE_TARGET_S else "OVER") if ok else "FAILED"
            rows.append(
                ("pipe --until data --run box", median, f"<= {PIPE_TARGET_S:.0f} s {verdict}")
            )
    print(f"\n{'what':<34} {'seconds':>8}  target")
    for what, seconds, target in rows:
        print(f"{what:<34} {seconds:>8.2f}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time from `launch(..., detach=True)` to a Slurm job id vs the bare `import nemo_run` floor.

Needs the local Slurm (sudo scripts/local-slurm.sh). Each sample runs in a fresh interpreter so
the import cost is counted the way a `nemotron ... --batch` command pays it.

    uv run --no-sync python benchmarks/submit.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

FLOOR = "import time; t=time.perf_counter(); import nemo_run; print(time.perf_counter()-t)"
SUBMIT = textwrap.dedent(
    """
    import time, warnings
    t = time.perf_counter()
    from nemotron.kit.run import launch
    job = launch("job.py", profile="cluster", detach=True, echo=None)
    assert job.record.backend_id, job
    print(time.perf_counter() - t)
    """
)
ENV = '[cluster]\nexecutor = "slurm"\naccount = "root"\npartition = "debug"\ntime = "00:02:00"\n'


def _sample(code: str, cwd: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kit-run-bench-") as tmp:
        work = Path(tmp)
        (work / "pyproject.toml").write_text('[project]\nname = "bench"\n')
        (work / "env.toml").write_text(ENV)
        (work / "job.py").write_text("print('ok')\n")
        floor = [_sample(FLOOR, work) for _ in range(args.repeat)]
        submit = [_sample(SUBMIT, work) for _ in range(args.repeat)]
    f, s = statistics.median(floor), statistics.median(submit)
    rows = [
        ("import nemo_run (floor)", f, 1.0),
        ("launch --batch -> Slurm job id", s, s / f),
        ("kit-run overhead over the floor", s - f, (s - f) / f),
    ]
    print(f"{'measure (median of ' + str(args.repeat) + ')':<40}{'seconds':>10}{'x floor':>10}")
    for name, sec, ratio in rows:
        print(f"{name:<40}{sec:>10.3f}{ratio:>10.2f}")
    print(json.dumps({"floor_s": floor, "submit_s": submit}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Launch overhead of `nemotron`: each command paired with what it stands for, run in turn.

    uv run --no-sync python benchmarks/cli.py [--runs 11] [--pipe-runs 3] [--no-cold] [--only TEXT]

Every row runs two commands A and B alternately (A B A B ..., one warm-up pair first) as fresh
processes and reports the medians of A, of B, of A - B pair by pair (the overhead) and of A / B:
pairing keeps the figures meaningful while the machine's speed drifts. `A-B cpu` is the median
difference in CPU seconds (user + system of every process waited for): on a busy machine it
says what the overhead would be on an idle one better than wall time does; `A/B cpu` is the
CPU ratio. The `--help` and stage targets hold for both the wall and the CPU difference.

- `nemotron --help` and `import nemotron.kit.artifacts` against a bare `python -c pass`;
- a local attached stage, `nemotron nano3 data prep rl -c tiny`, against running its script
  directly (`python -m nemotron.recipes.nano3.data_prep.rl --config <the same tiny.yaml>`);
- the README's `nemotron nano3 pipe -c tiny --until data` against its three data prep scripts
  run one after the other.

Bytecode is cached as on a user's machine: the benchmark writes it (once, in a warm-up run) into
its own `PYTHONPYCACHEPREFIX` folder, even where `PYTHONDONTWRITEBYTECODE` is set. `--cold`
rows run with an empty cache folder and no bytecode written. Registry, data and job records go
to a throw-away folder. Targets (issue 16): a local attached stage within 0.3 s of its script,
`nemotron --help` within 0.15 s of bare python, the facade import within 2x bare python.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGE_TARGET_S = 0.3
HELP_TARGET_S = 0.15
IMPORT_TARGET_X = 2.0
DATA_PREP = Path(sys.modules["__main__"].__file__ or ".").resolve().parents[1] / (
    "packages/recipes-nano3/src/nemotron/recipes/nano3/configs/data_prep"
)


def _nemotron() -> list[str]:
    script = Path(sys.executable).parent / "nemotron"
    return [str(script)] if script.exists() else [sys.executable, "-m", "nemotron.kit.cli"]


def _script(stage: str) -> list[str]:
    config = DATA_PREP / stage / "tiny.yaml"
    return [
        sys.executable,
        "-m",
        f"nemotron.recipes.nano3.data_prep.{stage}",
        "--config",
        str(config),
    ]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: list[str] | list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of `argv` (a list of commands: one after the other).

    CPU is user + system of every process waited for (the CLI, its supervisor, the stage).
    """
    commands = argv if argv and isinstance(argv[0], list) else [argv]
    start, cpu = time.perf_counter(), _cpu()
    for command in commands:
        proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            raise RuntimeError(f"{' '.join(map(str, command))[:60]}: {' '.join(tail)[:80]}")
    return time.perf_counter() - start, _cpu() - cpu


def _paired(a: list, b: list, runs: int, env: dict[str, str]) -> list[float]:
    """Medians of A, B, A - B, A / B (wall), A - B and A / B (CPU) over `runs` alternating pairs."""
    _run(a, env), _run(b, env)  # warm-up: also writes the bytecode cache
    pairs = [(_run(a, env), _run(b, env)) for _ in range(runs)]
    return [
        statistics.median(x for (x, _), _ in pairs),
        statistics.median(y for _, (y, _) in pairs),
        statistics.median(x - y for (x, _), (y, _) in pairs),
        statistics.median(x / y for (x, _), (y, _) in pairs),
        statistics.median(x - y for (_, x), (_, y) in pairs),
        statistics.median(x / y for (_, x), (_, y) in pairs),
    ]


def _environment(work: Path, cache: Path | None) -> dict[str, str]:
    env = {
        **os.environ,
        "COLUMNS": "100",
        "NEMOTRON_ARTIFACTS_ROOT": str(work / "registry"),
        "NEMOTRON_DATA_DIR": str(work / "data"),
        "NEMOTRON_JOBS_DIR": str(work / "jobs"),
    }
    if cache is None:  # cold: an empty cache folder, nothing written to it
        env["PYTHONPYCACHEPREFIX"] = str(work / "no-bytecode")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _verdict(target: str, diff: float, cpu: float, ratio: float) -> str:
    """The row's target and whether it is met (overheads: in wall time and in CPU time)."""
    if target == "import":
        return f"A/B <= {IMPORT_TARGET_X}: {'meets' if ratio <= IMPORT_TARGET_X else 'misses'}"
    limit = {"help": HELP_TARGET_S, "stage": STAGE_TARGET_S}.get(target)
    if limit is None:
        return ""
    met = "meets" if diff <= limit and cpu <= limit else "misses"
    return f"A-B <= {limit} (wall and cpu): {met}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--pipe-runs", type=int, default=3)
    parser.add_argument("--no-cold", action="store_true", help="Skip the cold-bytecode rows.")
    parser.add_argument(
        "--only", default="", help="Run only the rows whose label contains this text."
    )
    args = parser.parse_args()
    nemotron = _nemotron()
    bare = [sys.executable, "-c", "pass"]
    work = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    warm = _environment(work, work / "bytecode")
    rows: list[tuple[str, list, list, int, dict[str, str], str]] = [
        ("nemotron --help", [*nemotron, "--help"], bare, args.runs, warm, "help"),
        (
            "nemotron nano3 sft --help",
            [*nemotron, "nano3", "sft", "--help"],
            bare,
            args.runs,
            warm,
            "",
        ),
        (
            "import nemotron.kit.artifacts",
            [sys.executable, "-c", "import nemotron.kit.artifacts"],
            bare,
            args.runs,
            warm,
            "import",
        ),
        (
            "local stage: data prep rl -c tiny",
            [*nemotron, "nano3", "data", "prep", "rl", "-c", "tiny"],
            _script("rl"),
            args.runs,
            warm,
            "stage",
        ),
        (
            "pipe -c tiny --until data",
            [*nemotron, "nano3", "pipe", "-c", "tiny", "--until", "data"],
            [_script(stage) for stage in ("pretrain", "sft", "rl")],
            args.pipe_runs,
            warm,
            "",
        ),
    ]
    if not args.no_cold:
        cold = _environment(work, None)
        rows.insert(
            4,
            (
                "  same, cold (no cached bytecode)",
                rows[3][1],
                rows[3][2],
                max(3, args.runs // 2),
                cold,
                "",
            ),
        )
    print(
        f"{'A (against B)':<36} {'A s':>7} {'B s':>7} {'A-B s':>7} {'A/B':>6} "
        f"{'A-B cpu':>7} {'A/B cpu':>7}  target"
    )
    for label, a, b, runs, env, target in rows:
        if args.only not in label:
            continue
        try:
            ta, tb, diff, ratio, cpu, cpu_ratio = _paired(a, b, runs, env)
        except RuntimeError as err:
            print(f"{label:<36} failed: {err}")
            continue
        print(
            f"{label:<36} {ta:7.3f} {tb:7.3f} {diff:7.3f} {ratio:6.2f} {cpu:7.3f} "
            f"{cpu_ratio:7.2f}  {_verdict(target, diff, cpu, ratio)}"
        )
    print(
        f"(B: bare python for the first three rows, the stage's script(s) run directly after; "
        f"medians of {args.runs} pairs, pipe {args.pipe_runs}; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()

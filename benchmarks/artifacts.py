"""Benchmark kit-artifacts: import time, registry latency at 1k/10k/100k versions, digest speed.

    uv run --no-sync python benchmarks/artifacts.py [--sizes 1000,10000,100000] [--digest-mb 1024]

Prints one table per part, each next to its reference (bare interpreter, `cat`), and exits 0.
Generated data lives in benchmarks/.data (git-ignored) and is reused by later runs.

How the registries are built: the 1k registry is filled through `Registry.publish` (the real
API, fsync included). For 10k and 100k the version folders are written directly with the
same bytes and layout `Registry.publish` produces (record encoded by the package's own
`encode`), just without the per-version fsync and rename, so that setting up 100k versions
takes seconds instead of minutes. Every measured resolve and publish goes through the API.
Targets (from the issue): import <= 2x bare interpreter; resolve `latest` <= 5 ms at 10k.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).with_name(".data")


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    print(f"\n## {title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


# ---------------------------------------------------------------------- import time
def bench_import(repeat: int) -> None:
    cases = [
        ("bare: python -c pass", "pass"),
        ("dependency floor: import msgspec", "import msgspec"),
        ("import nemotron.kit.artifacts", "import nemotron.kit.artifacts"),
        ("from ... import ModelArtifact", "from nemotron.kit.artifacts import ModelArtifact"),
        (
            "... + Registry + resolve machinery",
            "from nemotron.kit.artifacts import ModelArtifact, get_registry; get_registry()",
        ),
    ]
    runs = [(label, sys.executable, code) for label, code in cases]
    alone = Path(__file__).parents[1] / ".venvs" / "iso-kit-artifacts" / "bin" / "python"
    if alone.exists():  # kit-artifacts installed alone: no meta-package facade in nemotron.kit
        runs += [
            ("kit-artifacts alone: bare python", str(alone), "pass"),
            (
                "kit-artifacts alone: import nemotron.kit.artifacts",
                str(alone),
                "import nemotron.kit.artifacts",
            ),
            (
                "kit-artifacts alone: from ... import ModelArtifact",
                str(alone),
                "from nemotron.kit.artifacts import ModelArtifact",
            ),
        ]
    results = []
    for label, python, code in runs:
        cmd = [python, "-c", code]
        subprocess.run(cmd, check=True)  # warm the OS caches
        results.append((label, _median_s(lambda c=cmd: subprocess.run(c, check=True), repeat)))
    rows = []
    bare = results[0][1]
    for label, t in results:
        if label.endswith("bare python"):
            bare = t
        rows.append([label, f"{t * 1000:.1f}", f"{t / bare:.2f}x"])
    _table(
        f"import time (median of {repeat} fresh interpreters)", ["command", "ms", "vs bare"], rows
    )


# ---------------------------------------------------------------------- registry latency
def _build_registry(root: Path, versions: int) -> None:
    """Fill `root` with `versions` versions of "bench" (see the module docstring)."""
    from nemotron.kit.artifacts import ModelArtifact, Registry
    from nemotron.kit.artifacts._models import encode

    marker = root / f".complete-{versions}"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    data = root.parent / "ckpt"
    data.mkdir(parents=True, exist_ok=True)
    reg = Registry(root)
    if versions <= 1000:
        for i in range(versions):
            reg.publish(ModelArtifact(path=str(data), step=i), "bench")
    else:
        base = root / "bench" / "versions"
        base.mkdir(parents=True)
        for i in range(1, versions + 1):
            record = encode(ModelArtifact(path=str(data), step=i), name="bench", version=None)
            (base / str(i)).mkdir()
            (base / str(i) / "artifact.json").write_bytes(record)
        (root / "bench" / "latest").write_text(f"{versions}\n")
        os.sync()  # flush the bulk writes so they do not land on the measured fsyncs
    reg.alias("bench", versions // 2, "best")
    marker.write_text("")


def bench_registry(sizes: list[int], repeat: int) -> None:
    from nemotron.kit.artifacts import ModelArtifact, Registry, set_registry

    rows = []
    for size in sizes:
        root = DATA / f"registry-{size}" / "reg"
        start = time.perf_counter()
        _build_registry(root, size)
        build_s = time.perf_counter() - start
        reg = Registry(root)
        assert reg.resolve("bench").version is not None
        top = reg.latest_version("bench")
        cold = Registry(root)
        first_s = _median_s(lambda r=cold: r.resolve("bench"), 1)
        latest_s = _median_s(lambda r=reg: r.resolve("bench"), repeat)
        exact_s = _median_s(lambda r=reg, s=size: r.resolve("bench", s // 3 or 1), repeat)
        alias_s = _median_s(lambda r=reg: r.resolve("bench", "best"), repeat)
        set_registry(reg)
        uri_s = _median_s(lambda: ModelArtifact.from_uri("art://bench:latest"), repeat)
        data = str(root.parent / "ckpt")
        publish_s = _median_s(
            lambda r=reg, d=data: r.publish(ModelArtifact(path=d, step=-1), "bench"),
            max(5, repeat // 20),
        )
        rows.append(
            [
                f"{size:,}",
                f"{top:,}",
                f"{build_s:.1f}",
                f"{first_s * 1e3:.3f}",
                f"{latest_s * 1e3:.3f}",
                f"{exact_s * 1e3:.3f}",
                f"{alias_s * 1e3:.3f}",
                f"{uri_s * 1e3:.3f}",
                f"{publish_s * 1e3:.2f}",
            ]
        )
    _table(
        f"registry latency, ms (median of {repeat}; publish: reference, fsync'd)",
        [
            "versions",
            "latest",
            "build s",
            "1st resolve",
            "resolve latest",
            "resolve vN",
            "resolve alias",
            "from_uri latest",
            "publish",
        ],
        rows,
    )


# ---------------------------------------------------------------------- digest throughput
def _make_digest_data(folder: Path, total_mb: int) -> list[Path]:
    files = 16
    per_file = (total_mb << 20) // files
    marker = folder / f".complete-{total_mb}"
    paths = [folder / f"shard-{i:02d}.bin" for i in range(files)]
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        block = os.urandom(4 << 20)
        for i, path in enumerate(paths):
            with open(path, "wb") as f:
                written = 0
                while written < per_file:  # vary each file so no two blocks hash alike
                    chunk = block[: min(len(block), per_file - written)]
                    f.write(i.to_bytes(4, "little") + written.to_bytes(8, "little") + chunk[12:])
                    written += len(chunk)
        marker.write_text("")
    return paths


def bench_digest(total_mb: int, repeat: int) -> None:
    from nemotron.kit.artifacts import compute_digest
    from nemotron.kit.artifacts._digest import default_algorithm

    folder = DATA / "digest"
    paths = _make_digest_data(folder, total_mb)
    size_mb = sum(p.stat().st_size for p in paths) / (1 << 20)
    cat = ["cat", *map(str, paths)]
    subprocess.run(cat, stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    cat_s = _median_s(lambda: subprocess.run(cat, stdout=subprocess.DEVNULL, check=True), repeat)
    rows = [["cat > /dev/null", f"{size_mb:.0f}", f"{size_mb / cat_s:,.0f}", "1.00x"]]
    cases = [
        (f"compute_digest default ({default_algorithm()}), all cores", {}),
        ("compute_digest xxh3_128, 1 thread", {"algorithm": "xxh3_128", "workers": 1}),
        ("compute_digest blake2b (stdlib fallback), all cores", {"algorithm": "blake2b"}),
    ]
    for label, kwargs in cases:
        seconds = _median_s(lambda k=kwargs: compute_digest(folder, **k), repeat)  # type: ignore[arg-type]
        rows.append(
            [label, f"{size_mb:.0f}", f"{size_mb / seconds:,.0f}", f"{cat_s / seconds:.2f}x"]
        )
    _table(
        f"digest throughput, warm page cache, {os.cpu_count()} CPUs (median of {repeat})",
        ["what", "MB", "MB/s", "speed vs cat"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--digest-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--import-repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("NEMOTRON_ARTIFACTS_ROOT", str(DATA / "default-registry"))
    bench_import(args.import_repeat)
    bench_registry([int(s) for s in args.sizes.split(",")], args.repeat)
    bench_digest(args.digest_mb, 3)
    print(
        "\ntargets: import <= 2x bare (lazy package import); resolve latest <= 5 ms at 10k versions"
    )


if __name__ == "__main__":
    main()

"""Benchmark: kit-config load + 50 overrides + validate, vs a plain OmegaConf merge of the same.

    uv run --no-sync python benchmarks/config.py [--repeat 30]

Both sides read the same YAML file (6 sections x 20 keys, with interpolations) and apply the
same 50 `key=value` overrides. The reference is what a script would do by hand:
`OmegaConf.load` + `OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides))` +
`to_container(resolve=True)` (no grammar, no strict keys, no types). kit-config adds the full
Hydra grammar (hydra-core's ANTLR parser), strict keys with did-you-mean, file:line sources and
validation into a typed dataclass. Prints median milliseconds and the ratio; exits 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from nemotron.kit.config import apply_hydra_overrides, load_config, to_typed

SECTIONS = ("model", "optim", "data", "train", "checkpoint", "logger")
KEYS_PER_SECTION = 20


def make_config() -> tuple[str, type, list[str]]:
    """YAML text, the matching typed Config, and 50 overrides of existing keys."""
    lines, section_types = [], []
    for s in SECTIONS:
        lines.append(f"{s}:")
        fields: list[tuple[str, Any, Any]] = []
        for i in range(KEYS_PER_SECTION):
            kind = i % 4
            if kind == 0:
                lines.append(f"  k{i}: {i}")
                fields.append((f"k{i}", int, dataclasses.field(default=0)))
            elif kind == 1:
                lines.append(f"  k{i}: {i}.5e-3")
                fields.append((f"k{i}", float, dataclasses.field(default=0.0)))
            elif kind == 2:
                lines.append(f"  k{i}: ${{.k{i - 2}}}")
                fields.append((f"k{i}", int, dataclasses.field(default=0)))
            else:
                lines.append(f"  k{i}: name-{s}-{i}")
                fields.append((f"k{i}", str, dataclasses.field(default="")))
        section_types.append(dataclasses.make_dataclass(s.title(), fields))
    config_cls = dataclasses.make_dataclass(
        "Config",
        [
            (s, t, dataclasses.field(default_factory=t))
            for s, t in zip(SECTIONS, section_types, strict=True)
        ],
    )
    overrides = []
    for n in range(50):
        s = SECTIONS[n % len(SECTIONS)]
        i = (n * 7) % KEYS_PER_SECTION
        value = {0: str(n), 1: f"{n}e-4", 2: str(n), 3: f"run{n}"}[i % 4]
        overrides.append(f"{s}.k{i}={value}")
    return "\n".join(lines) + "\n", config_cls, overrides


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up (imports, parser construction)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    text, config_cls, overrides = make_config()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(text)

        def plain() -> Any:
            cfg = OmegaConf.merge(OmegaConf.load(path), OmegaConf.from_dotlist(overrides))
            return OmegaConf.to_container(cfg, resolve=True)

        def kit() -> Any:
            return to_typed(config_cls, apply_hydra_overrides(load_config(path), overrides))

        assert dataclasses.asdict(kit()) == plain(), "both sides must build the same config"
        loaded = load_config(path)
        applied = apply_hydra_overrides(loaded, overrides)
        rows = [
            ("plain OmegaConf: load + merge dotlist + resolve", median_ms(plain, args.repeat)),
            ("kit-config: load + 50 overrides + validate", median_ms(kit, args.repeat)),
            ("  kit-config load_config", median_ms(lambda: load_config(path), args.repeat)),
            (
                "  kit-config apply_hydra_overrides (50)",
                median_ms(lambda: apply_hydra_overrides(loaded, overrides), args.repeat),
            ),
            (
                "  kit-config to_typed",
                median_ms(lambda: to_typed(config_cls, applied), args.repeat),
            ),
        ]
    base = rows[0][1]
    width = max(len(r[0]) for r in rows)
    print(
        f"{len(SECTIONS) * KEYS_PER_SECTION} keys, {len(overrides)} overrides, "
        f"median of {args.repeat} runs, Python {sys.version.split()[0]}"
    )
    print(f"{'case'.ljust(width)}  {'ms':>8}  {'vs plain':>8}")
    for name, ms in rows:
        print(f"{name.ljust(width)}  {ms:8.2f}  {ms / base:7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

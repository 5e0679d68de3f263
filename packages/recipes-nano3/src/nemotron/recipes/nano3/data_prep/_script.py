"""Shared `main()` of the stage scripts: typed config from kit-config's `cli()`, then run."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nemotron.kit.artifacts.errors import NemotronError
from nemotron.recipes.nano3.data_prep._slurm_array import ArrayTaskDone, submit_array
from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError

CONFIGS = Path(__file__).resolve().parent.parent / "configs" / "data_prep"


def stage_main(
    stage: str, config_cls: type, run: Callable[[Any], Any], argv: Sequence[str] | None = None
) -> Any:
    """`python -m nemotron.recipes.nano3.data_prep.<stage> [-c FILE] [key=value ...]`.

    Without `-c` the stage's `default.yaml` is used; `-c tiny` names a shipped config. With
    `run.engine=slurm-array` the stage submits its job array and merge job (`--dry-run`: prints
    their sbatch scripts); an array task returns None once its shards are recorded.
    """
    from nemotron.kit.config import cli

    args = list(sys.argv[1:] if argv is None else argv)
    dry_run = "--dry-run" in args
    args = [a for a in args if a != "--dry-run"]
    for i, arg in enumerate(args[:-1]):
        if arg in ("-c", "--config") and not Path(args[i + 1]).exists():
            named = CONFIGS / stage / f"{args[i + 1]}.yaml"
            if named.exists():
                args[i + 1] = str(named)
    cfg: Any = cli(config_cls, config_file=str(CONFIGS / stage / "default.yaml"), argv=args)
    try:
        cfg.check()  # the whole config, before any work (and before submitting any job)
        if cfg.run.engine == "slurm-array" and not cfg.run.array_role:
            return submit_array(stage, cfg, dry_run=dry_run, source=_source(stage, args))
        if dry_run:
            raise DataPrepConfigError(
                "run.engine",
                f"--dry-run shows the jobs of engine=slurm-array; {cfg.run.engine!r} runs here "
                f"(`nemotron nano3 data prep {stage} --run PROFILE --dry-run` shows a stage job)",
            )
        return run(cfg)
    except ArrayTaskDone as done:
        print(f"{stage} data: {done}")
        return None
    except NemotronError as err:
        if os.environ.get("NEMOTRON_FULL_ERROR") == "1":
            traceback.print_exc()
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(err.exit_code) from None


def _source(stage: str, args: list[str]) -> tuple[Path, list[str]]:
    """The config file and the overrides of `args` (as `cli()` reads them)."""
    file, overrides, skip = CONFIGS / stage / "default.yaml", [], False
    for i, arg in enumerate(args):
        if skip:
            skip = False
        elif arg in ("-c", "--config") and i + 1 < len(args):
            file, skip = Path(args[i + 1]), True
        else:
            overrides.append(arg)
    return file, overrides

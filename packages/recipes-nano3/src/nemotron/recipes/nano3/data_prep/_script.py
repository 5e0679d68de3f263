"""Shared `main()` of the stage scripts: typed config from kit-config's `cli()`, then run."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nemotron.kit.artifacts.errors import NemotronError

CONFIGS = Path(__file__).resolve().parent.parent / "configs" / "data_prep"


def stage_main(
    stage: str, config_cls: type, run: Callable[[Any], Any], argv: Sequence[str] | None = None
) -> Any:
    """`python -m nemotron.recipes.nano3.data_prep.<stage> [-c FILE] [key=value ...]`.

    Without `-c` the stage's `default.yaml` is used; `-c tiny` names a shipped config.
    """
    from nemotron.kit.config import cli

    args = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(args[:-1]):
        if arg in ("-c", "--config") and not Path(args[i + 1]).exists():
            named = CONFIGS / stage / f"{args[i + 1]}.yaml"
            if named.exists():
                args[i + 1] = str(named)
    cfg: Any = cli(config_cls, config_file=str(CONFIGS / stage / "default.yaml"), argv=args)
    try:
        return run(cfg)
    except NemotronError as err:
        if os.environ.get("NEMOTRON_FULL_ERROR") == "1":
            traceback.print_exc()
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(err.exit_code) from None

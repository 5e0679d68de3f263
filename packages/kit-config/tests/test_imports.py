"""`import nemotron.kit.config` stays light: no typer/nemo_run/wandb, hydra only with overrides."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import nemotron.kit.config as c
heavy = ("typer", "nemo_run", "wandb", "torch", "ray")
print(sorted(m for m in heavy if m in sys.modules), "hydra" in sys.modules)
from omegaconf import OmegaConf
cfg = c.load_config(sys.argv[1])
c.to_typed(C := __import__("dataclasses").make_dataclass("C", [("a", int)]), cfg)
print("hydra" in sys.modules)
c.apply_hydra_overrides(cfg, ["a=2"])
print("hydra" in sys.modules, sorted(m for m in heavy if m in sys.modules))
"""


def test_import_is_light_and_hydra_is_lazy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\n")
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[] False", "False", "True []"]

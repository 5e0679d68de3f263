"""The `nemotron` command: recipe groups from entry points, the stage builder, admin commands.

Recipes declare their commands with `RecipeApp` (see the package README):

    app = RecipeApp("nano3", help="Nemotron Nano 3.")
    app.stage("sft", help="Fine-tune.", module="nemotron.recipes.nano3.sft.train",
              config_dir=CONFIGS / "sft", inputs=[ArtifactInput("data.path", "SFTDataArtifact")])
"""

from typing import TYPE_CHECKING, Any

from nemotron.kit.cli._app import app, main, run_cli
from nemotron.kit.cli._profiles import chosen_profile

if TYPE_CHECKING:
    from nemotron.kit.cli._flow import StagePlan, plan_stage, print_warnings
    from nemotron.kit.cli._stage import ArtifactInput, RecipeApp, Stage, StageOptions

__all__ = [
    "ArtifactInput",
    "RecipeApp",
    "Stage",
    "StageOptions",
    "StagePlan",
    "app",
    "chosen_profile",
    "main",
    "plan_stage",
    "print_warnings",
    "run_cli",
]

_STAGE_NAMES = {"ArtifactInput", "RecipeApp", "Stage", "StageOptions"}
_PLANNER_NAMES = {"StagePlan", "plan_stage", "print_warnings"}


def __getattr__(name: str) -> Any:
    """The stage builder and planner are imported on first use: `--help` needs neither."""
    if name in _STAGE_NAMES:
        from nemotron.kit.cli import _stage

        return getattr(_stage, name)
    if name in _PLANNER_NAMES:
        from nemotron.kit.cli import _flow

        return getattr(_flow, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The `nemotron` command: recipe groups from entry points, the stage builder, admin commands.

Recipes declare their commands with `RecipeApp` (see the package README):

    app = RecipeApp("nano3", help="Nemotron Nano 3.")
    app.stage("sft", help="Fine-tune.", module="nemotron.recipes.nano3.sft.train",
              config_dir=CONFIGS / "sft", inputs=[ArtifactInput("data.path", "SFTDataArtifact")])
"""

from typing import TYPE_CHECKING, Any

from nemotron.kit.cli._app import app, main, run_cli

if TYPE_CHECKING:
    from nemotron.kit.cli._stage import ArtifactInput, RecipeApp, Stage, StageOptions

__all__ = ["ArtifactInput", "RecipeApp", "Stage", "StageOptions", "app", "main", "run_cli"]

_STAGE_NAMES = {"ArtifactInput", "RecipeApp", "Stage", "StageOptions"}


def __getattr__(name: str) -> Any:
    """The stage builder is imported on first use: `nemotron --help` does not need it."""
    if name in _STAGE_NAMES:
        from nemotron.kit.cli import _stage

        return getattr(_stage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

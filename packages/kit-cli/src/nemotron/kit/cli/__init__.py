"""The `nemotron` command: recipe groups from entry points, the stage builder, admin commands.

Recipes declare their commands with `RecipeApp` (see the package README):

    app = RecipeApp("nano3", help="Nemotron Nano 3.")
    app.stage("sft", help="Fine-tune.", module="nemotron.recipes.nano3.sft.train",
              config_dir=CONFIGS / "sft", inputs=[ArtifactInput("data.path", "SFTDataArtifact")])
"""

from nemotron.kit.cli._app import app, main, run_cli
from nemotron.kit.cli._stage import ArtifactInput, RecipeApp, Stage, StageOptions

__all__ = ["ArtifactInput", "RecipeApp", "Stage", "StageOptions", "app", "main", "run_cli"]

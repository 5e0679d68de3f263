"""`nemotron demo ...`: one stage, one nested group, declared with the stage builder."""

from pathlib import Path

from nemotron.kit.cli import ArtifactInput, RecipeApp

HERE = Path(__file__).parent

app = RecipeApp("demo", help="Demo recipe: a train stage and a data prep stage.")

app.stage(
    "train",
    help="Train the demo model (writes a ModelArtifact).",
    module="demo_recipes.train",
    config_dir=HERE / "configs",
    inputs=[
        ArtifactInput(
            "data", "SplitJsonlDataArtifact", "training data", "nemotron demo data prep run", required=False
        )
    ],
    examples=["nemotron demo train -c tiny --dry-run", "nemotron demo train --run local lr=0.1"],
)

app.stage(
    "wb",
    help="Start a W&B run (env.toml [wandb] merged into run.wandb).",
    module="demo_recipes.track",
    config_dir=HERE / "configs",
    default_config="track",
)

prep = app.group("data", help="Data stages.").group("prep", help="Data preparation.")
prep.stage(
    "run",
    help="Write a SplitJsonlDataArtifact.",
    module="demo_recipes.prep",
    config_dir=HERE / "configs",
    default_config="prep",
)

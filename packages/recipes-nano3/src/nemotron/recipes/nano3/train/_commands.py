"""The training commands of `nemotron nano3`: pretrain, sft, rl, pipe, model import.

`register_training(app, prep)` adds them to the recipe app (kit-cli's `RecipeApp`); only typer and
kit-cli are imported here, the stage code when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from nemotron.kit.cli import ArtifactInput, RecipeApp

__all__ = ["PIPE_UNTIL", "TRAIN_STAGES", "register_training"]

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
_PANEL = "Training"

# (stage, help, inputs): pretrain/sft on Megatron-Bridge (torchrun), rl on NeMo-RL (Ray).
TRAIN_STAGES: tuple[tuple[str, str, tuple[ArtifactInput, ...]], ...] = (
    (
        "pretrain",
        "Pretrain Nemotron Nano 3 with Megatron-Bridge on a PretrainBlendsArtifact.\n\n"
        "Runs under torchrun (nodes x GPUs from the profile); publishes a ModelArtifact for the "
        "last checkpoint. `train.<field>=v` overrides go to Megatron-Bridge's ConfigContainer "
        "(`++train.<field>=v` for fields the config does not list).",
        (
            ArtifactInput(
                "run.data",
                "PretrainBlendsArtifact",
                "tokenized blend",
                "nemotron nano3 data prep pretrain",
            ),
        ),
    ),
    (
        "sft",
        "Fine-tune the pretrained model with Megatron-Bridge on packed SFT sequences.\n\n"
        "Runs under torchrun; starts from run.model (a ModelArtifact) and publishes the SFT model.",
        (
            ArtifactInput(
                "run.data", "SFTDataArtifact", "packed chat data", "nemotron nano3 data prep sft"
            ),
            ArtifactInput(
                "run.model", "ModelArtifact", "pretrained model", "nemotron nano3 pretrain"
            ),
        ),
    ),
    (
        "rl",
        "GRPO with NeMo-RL from the SFT model on a SplitJsonlDataArtifact.\n\n"
        "Needs a Ray cluster (a profile with ray = true); publishes the RL model.",
        (
            ArtifactInput(
                "run.data", "SplitJsonlDataArtifact", "RL prompts", "nemotron nano3 data prep rl"
            ),
            ArtifactInput("run.model", "ModelArtifact", "SFT model", "nemotron nano3 sft"),
        ),
    ),
)

# Pipe order, and the inputs each training step pins to what the steps before it published.
_PIPE_PINS = {
    "pretrain": ("run.data",),
    "sft": ("run.data", "run.model"),
    "rl": ("run.data", "run.model"),
}
# `pipe --until`: the last stage run ("data" = the three data prep stages).
PIPE_UNTIL = ("data", "pretrain", "sft", "rl")
Until = Literal["data", "pretrain", "sft", "rl"]


def register_training(app: RecipeApp, prep: RecipeApp) -> None:
    """Add pretrain/sft/rl stages, `pipe` and `model import` to the nano3 app."""
    from nemotron.recipes.nano3.train._stage_config import StageConfig

    for name, help_text, inputs in TRAIN_STAGES:
        app.stage(
            name,
            help=help_text,
            module=f"nemotron.recipes.nano3.train.{name}",
            config_dir=CONFIGS / name,
            inputs=inputs,
            config_class=StageConfig,
            launcher="ray" if name == "rl" else "torchrun",
            examples=(
                f"nemotron nano3 {name} -c tiny --dry-run",
                f"nemotron nano3 {name} --run cluster",
            ),
            panel=_PANEL,
        )
    app.command("pipe", rich_help_panel=_PANEL)(_pipe_command(app, prep))
    model = app.group("model", help="Register checkpoints trained elsewhere as ModelArtifacts.")
    model.command("import")(_model_import)


def _pipe_command(app: RecipeApp, prep: RecipeApp) -> Any:
    def pipe(
        config: Annotated[
            str | None,
            typer.Option("-c", "--config", help="Config name for every stage (tiny, default)."),
        ] = None,
        run: Annotated[
            str | None,
            typer.Option("-r", "--run", help="Profile (alone: the default); follow the jobs."),
        ] = None,
        batch: Annotated[
            str | None,
            typer.Option("-b", "--batch", help="Profile (alone: the default); submit and return."),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("-d", "--dry-run", help="Print the plan; run nothing.")
        ] = False,
        until: Annotated[
            Until,
            typer.Option(
                "--until",
                help="Last stage to run: data (the three data prep stages), pretrain, sft, rl.",
            ),
        ] = "rl",
    ) -> None:
        """Data prep -> pretrain -> SFT -> RL as one experiment (Slurm: afterok chain).

        At the end prints what the pipe published and its lineage (back to the source
        datasets and tokenizer). `--until data` runs only the data prep stages.
        """
        from nemotron.kit.cli import chosen_profile
        from nemotron.recipes.nano3.train._pipe import plan_pipe, render_pipe_lineage, run_pipe

        no_pins: tuple[str, ...] = ()
        order = [(f"data-prep-{n}", prep.stages[n], no_pins) for n in ("pretrain", "sft", "rl")]
        training = PIPE_UNTIL[1 : PIPE_UNTIL.index(until) + 1]
        order += [(n, app.stages[n], _PIPE_PINS[n]) for n in training]
        given = run or batch
        profile = chosen_profile(given) if given else None
        steps = plan_pipe(order, config, profile=profile, dry_run=dry_run)
        jobs = run_pipe(steps, profile, dry_run=dry_run, detach=batch is not None, echo=typer.echo)
        if not dry_run and all(job.status() == "SUCCEEDED" for job in jobs):
            typer.echo(render_pipe_lineage(steps[0].alias), nl=False)
            return
        for ref in (f"{s.publishes}:{s.alias}" for s in steps if s.publishes):
            typer.echo(f"# lineage once published: nemotron artifacts lineage {ref}")
        if not dry_run:
            typer.echo("follow: " + " ".join(f"nemotron jobs status {j.id}" for j in jobs[-1:]))

    return pipe


def _model_import(
    stage: Annotated[str, typer.Argument(help="pretrain | sft (Megatron-Bridge) | rl (NeMo-RL).")],
    folder: Annotated[Path, typer.Argument(help="The folder the library saved checkpoints into.")],
    step: Annotated[
        int | None, typer.Option("--step", help="Step to register (default: latest).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Artifact name (default nano3-<stage>-model).")
    ] = None,
    inputs: Annotated[
        list[str] | None, typer.Option("--input", help="Artifact it was trained from (repeatable).")
    ] = None,
) -> None:
    """Register an existing checkpoint as a ModelArtifact (step from its tracker / step folder)."""
    from nemotron.recipes.nano3.train._publish import CHECKPOINT_READERS, import_checkpoint

    if stage not in CHECKPOINT_READERS:
        raise typer.BadParameter(f"{stage!r}: choose pretrain, sft or rl", param_hint="STAGE")
    artifact = import_checkpoint(stage, folder, step=step, name=name, inputs=inputs or ())
    typer.echo(f"{artifact.uri} step={artifact.step} format={artifact.format} path={artifact.path}")

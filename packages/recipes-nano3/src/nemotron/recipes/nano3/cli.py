"""`nemotron nano3 ...`: the Nano 3 recipe's commands.

    nemotron nano3 data prep pretrain|sft|rl [-c tiny] [--run P | --batch P | --dry-run] [k=v ...]
    nemotron nano3 data import pretrain|sft|rl PATH

Training stages (`pretrain`, `sft`, `rl`, `pipe`) are added next to `data` by the training half.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nemotron.kit.cli import ArtifactInput, RecipeApp
from nemotron.recipes.nano3.data_prep._config import PretrainDataConfig, RLDataConfig, SFTDataConfig

CONFIGS = Path(__file__).resolve().parent / "configs"

app = RecipeApp("nano3", help="Nemotron Nano 3: data prep, pretrain, SFT, RL.")
data = app.group("data", help="Prepare training data, or register existing data, as artifacts.")
prep = data.group(
    "prep", help="Turn raw data into training-ready artifacts (tokenized, packed, split)."
)
imports = data.group("import", help="Register data prepared elsewhere as an artifact (no copy).")

_PREP: tuple[tuple[str, str, str, type], ...] = (
    (
        "pretrain",
        "PretrainBlendsArtifact",
        "Text -> Megatron .bin/.idx per source and split + blend.json.",
        PretrainDataConfig,
    ),
    (
        "sft",
        "SFTDataArtifact",
        "Chat data -> chat template -> loss-masked, packed sequences (Megatron-Bridge).",
        SFTDataConfig,
    ),
    (
        "rl",
        "SplitJsonlDataArtifact",
        "Prompt JSONL -> deterministic train/val/test JSONL (NeMo-RL) + manifest.",
        RLDataConfig,
    ),
)
for _name, _type, _help, _config in _PREP:
    prep.stage(
        _name,
        help=f"{_help}\n\nPublishes a {_type} (`-c tiny` runs offline on the bundled sample in seconds).",
        module=f"nemotron.recipes.nano3.data_prep.{_name}",
        config_dir=CONFIGS / "data_prep" / _name,
        default_config="default",
        config_class=_config,  # checked (types and the stage's rules) before launching
        examples=(
            f"nemotron nano3 data prep {_name} -c tiny",
            f"nemotron nano3 data prep {_name} --run cluster",
        ),
    )

_Path = Annotated[Path, typer.Argument(help="Folder holding the prepared data.")]
_Name = Annotated[str | None, typer.Option("--name", help="Artifact name to publish under.")]


@imports.command("pretrain")
def import_pretrain(path: _Path, name: _Name = None) -> None:
    """Register a folder with blend.json and its .bin/.idx files as a PretrainBlendsArtifact."""
    from nemotron.recipes.nano3.data_prep._importing import import_pretrain as run

    typer.echo(run(path, name or "nano3-pretrain-data").uri)


@imports.command("sft")
def import_sft(
    path: _Path,
    pack_size: Annotated[int, typer.Option("--pack-size", help="Tokens per pack.")] = 4096,
    name: _Name = None,
) -> None:
    """Register a folder with training/validation packed files as an SFTDataArtifact."""
    from nemotron.recipes.nano3.data_prep._importing import import_sft as run

    typer.echo(run(path, pack_size, name or "nano3-sft-data").uri)


@imports.command("rl")
def import_rl(path: _Path, name: _Name = None) -> None:
    """Register a folder with train/val/test JSONL as a SplitJsonlDataArtifact."""
    from nemotron.recipes.nano3.data_prep._importing import import_rl as run

    typer.echo(run(path, name or "nano3-rl-data").uri)


__all__ = ["ArtifactInput", "app"]

# Training half: pretrain, sft, rl, pipe, model import (see train/_commands.py).
from nemotron.recipes.nano3.train._commands import register_training  # noqa: E402

register_training(app, prep)

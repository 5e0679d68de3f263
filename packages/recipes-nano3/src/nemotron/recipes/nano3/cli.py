"""`nemotron nano3 ...` commands (skeleton; filled in by the recipe issues)."""

import typer

app = typer.Typer(name="nano3", help="Nemotron Nano 3: data prep, pretrain, SFT, RL.")

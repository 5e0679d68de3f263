"""`nemotron env ...`."""

from __future__ import annotations

import typer

__all__ = ["env_app"]

env_app = typer.Typer(name="env", help="env", no_args_is_help=True, rich_markup_mode="rich")


@env_app.command("list")
def list_() -> None:
    """List."""

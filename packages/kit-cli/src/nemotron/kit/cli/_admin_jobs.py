"""`nemotron jobs ...`."""

from __future__ import annotations

import typer

__all__ = ["jobs_app"]

jobs_app = typer.Typer(name="jobs", help="jobs", no_args_is_help=True, rich_markup_mode="rich")


@jobs_app.command("list")
def list_() -> None:
    """List."""

"""`nemotron artifacts ...`."""

from __future__ import annotations

import typer

__all__ = ["artifacts_app"]

artifacts_app = typer.Typer(
    name="artifacts", help="artifacts", no_args_is_help=True, rich_markup_mode="rich"
)


@artifacts_app.command("list")
def list_() -> None:
    """List."""

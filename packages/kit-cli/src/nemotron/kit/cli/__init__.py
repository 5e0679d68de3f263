"""The `nemotron` command (skeleton; filled in by the kit-cli issue)."""

import typer

__all__ = ["app", "main"]

app = typer.Typer(name="nemotron", help="Reproducible LLM training recipes.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("kit-cli"))


def main() -> None:
    app()

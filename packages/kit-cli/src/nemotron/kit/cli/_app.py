"""The root `nemotron` Typer app and `main()`, the console-script entry with the error policy.

Error policy: a `NemotronError` prints `Error: <one line>` on stderr and exits with its
`exit_code` (2 for `UserError`, 1 for `RunError`); `NEMOTRON_FULL_ERROR=1` re-raises it for the
traceback. Usage errors (unknown command/option, with a "Did you mean" when one is close) print
one line plus where to find help, exit 2.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from typing import Annotated

import typer
from typer._click import exceptions as click_exceptions

from nemotron.kit.artifacts.errors import NemotronError
from nemotron.kit.cli._profiles import given_default_profile
from nemotron.kit.cli._root import ADMIN_PANEL, RootGroup

__all__ = ["app", "main", "run_cli"]

FULL_ERROR_ENV = "NEMOTRON_FULL_ERROR"

app = typer.Typer(
    name="nemotron",
    cls=RootGroup,
    help="Reproducible LLM training recipes: data prep -> pretrain -> SFT -> RL.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
# The admin groups (artifacts, jobs, env) are RootGroup's: built when used, like recipe groups.


_KIT_DISTRIBUTIONS = (
    "nemotron",
    "kit-cli",
    "kit-artifacts",
    "kit-config",
    "kit-run",
    "kit-lineage",
)


@app.command(rich_help_panel=ADMIN_PANEL)
def version() -> None:
    """Print the versions of the installed kit packages and recipe packages."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    from nemotron.kit.cli._discovery import recipe_entry_points

    recipes = sorted({entry.distribution for entry in recipe_entry_points()})
    for dist in (*_KIT_DISTRIBUTIONS, *(r for r in recipes if r not in _KIT_DISTRIBUTIONS)):
        try:
            typer.echo(f"{dist} {dist_version(dist)}")
        except PackageNotFoundError:
            typer.echo(f"{dist} (not installed)")


def _version_option(value: bool) -> None:
    if value:
        version()
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print every kit and recipe package's version and exit.",
            callback=_version_option,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Reproducible LLM training recipes: data prep -> pretrain -> SFT -> RL."""


def _usage_error_line(err: click_exceptions.UsageError) -> str:
    where = err.ctx.command_path if err.ctx is not None else "nemotron"
    return f"Error: {err.format_message()} (see '{where} --help')"


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Run the app on `argv` (default `sys.argv[1:]`) and return the exit code."""
    command = typer.main.get_command(app)
    args = given_default_profile(sys.argv[1:] if argv is None else argv)
    try:
        result = command.main(args=args, prog_name="nemotron", standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as err:
        assert err.ctx is not None
        typer.echo(err.ctx.get_help(), nl=False)
        return 0
    except click_exceptions.UsageError as err:
        typer.echo(_usage_error_line(err), err=True)
        return err.exit_code
    except click_exceptions.ClickException as err:
        err.show()
        return err.exit_code
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        return 1
    except NemotronError as err:
        if os.environ.get(FULL_ERROR_ENV, "") not in ("", "0"):
            raise
        typer.echo(f"Error: {err}", err=True)
        return int(err.exit_code)
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point of `nemotron`.

    `gc.freeze()` keeps the collector off what exists now: first the start-up's objects (they
    live as long as the process), then, before exiting, everything (the interpreter's exit
    then skips a full collection of ~40k objects: ~50 ms of a local stage's launch overhead).
    """
    gc.freeze()
    code = run_cli()
    gc.freeze()
    sys.exit(code)

"""The root click group: built-in commands plus admin and recipe groups loaded only when used.

Listing (`nemotron --help`, completion) shows every registered recipe group from its entry-point
metadata without importing it; a group whose module cannot even be located is listed with that
error. The module is imported when the group is actually invoked (`nemotron nano3 ...`); an
import failure then becomes a one-line `RecipeLoadError`. The admin groups (`artifacts`, `jobs`,
`env`) are Typer apps turned into click groups when first asked for: a stage run builds none.
"""

from __future__ import annotations

import importlib
import importlib.util
from difflib import get_close_matches
from typing import Any

import typer
from typer import _click
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

from nemotron.kit.cli._discovery import RecipeEntryPoint, recipe_entry_points
from nemotron.kit.cli._plain_params import plain_strings
from nemotron.kit.cli.errors import RecipeLoadError

__all__ = ["ADMIN_PANEL", "RECIPES_PANEL", "RootGroup", "SuggestingGroup", "load_recipe_group"]

RECIPES_PANEL = "Recipes"
ADMIN_PANEL = "Admin"
_ADMIN_GROUPS = {
    "artifacts": "nemotron.kit.cli._admin_artifacts",
    "jobs": "nemotron.kit.cli._admin_jobs",
    "env": "nemotron.kit.cli._admin_env",
}
"""Admin group name -> the module defining it as `<name>_app`, in listing order."""


class SuggestingGroup(TyperGroup):
    """A Typer group: lean rich help, and "No such command" suggests the closest listed name."""

    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        return plain_strings(super().get_params(ctx))

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        if self.rich_markup_mode is None:
            super().format_help(ctx, formatter)
            return
        from nemotron.kit.cli._render import print_help

        print_help(self, ctx)

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as err:
            matches = get_close_matches(args[0], self.list_commands(ctx), n=3) if args else []
            if matches:
                names = ", ".join(repr(m) for m in matches)
                err.message = f"{err.message.rstrip('.')}. Did you mean {names}?"
            raise


def load_recipe_group(entry: RecipeEntryPoint) -> _click.Command:
    """Import a recipe group's entry point and return it as a click command named `entry.name`.

    Raises:
        RecipeLoadError: The import failed or the target is not a Typer app / click command.
    """
    try:
        obj: Any = importlib.import_module(entry.module)
        for part in filter(None, entry.attr.split(".")):
            obj = getattr(obj, part)
        if isinstance(obj, typer.Typer):
            command = typer.main.get_command(obj)
        elif isinstance(obj, _click.Command):
            command = obj
        else:
            raise TypeError(f"{entry.value} is a {type(obj).__name__}, not a typer.Typer")
    except Exception as err:
        raise RecipeLoadError(entry.name, entry.value, entry.distribution, err) from err
    command.name = entry.name
    return command


class _RecipeStub(TyperCommand):
    """What listings show for a recipe group that has not been imported."""

    def __init__(self, entry: RecipeEntryPoint, problem: str | None) -> None:
        help_text = entry.summary or f"Recipe group from {entry.distribution}."
        if problem:
            help_text = f"failed to load: {problem}"
        super().__init__(
            entry.name, help=help_text, short_help=help_text, rich_help_panel=RECIPES_PANEL
        )
        self.entry = entry


def _locate_problem(entry: RecipeEntryPoint) -> str | None:
    """Why the group's module cannot be found, without executing it (None when it can)."""
    try:
        if importlib.util.find_spec(entry.module) is None:
            return f"no module named {entry.module!r} (entry point {entry.value})"
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return None


def _admin_group(name: str) -> _click.Command:
    """The admin group `name` as a click group in the Admin panel."""
    group = typer.main.get_group(
        getattr(importlib.import_module(_ADMIN_GROUPS[name]), f"{name}_app")
    )
    group.name, group.rich_help_panel = name, ADMIN_PANEL
    return group


class RootGroup(SuggestingGroup):
    """`nemotron`: built-in admin commands plus the recipe groups of installed packages."""

    def _entries(self) -> dict[str, RecipeEntryPoint]:
        taken = {*self.commands, *_ADMIN_GROUPS}
        return {e.name: e for e in recipe_entry_points() if e.name not in taken}

    def list_commands(self, ctx: _click.Context) -> list[str]:
        own = [name for name in super().list_commands(ctx) if name not in _ADMIN_GROUPS]
        return [*self._entries(), *own, *_ADMIN_GROUPS]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in _ADMIN_GROUPS:
            self.commands[cmd_name] = _admin_group(cmd_name)
            return self.commands[cmd_name]
        entry = self._entries().get(cmd_name)
        return None if entry is None else _RecipeStub(entry, _locate_problem(entry))

    def _click_resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        entry = self._entries().get(args[0]) if args else None
        if entry is not None:
            return entry.name, load_recipe_group(entry), args[1:]
        return super()._click_resolve_command(ctx, args)

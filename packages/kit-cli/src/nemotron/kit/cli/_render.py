"""A lean rich help renderer for the commands `nemotron --help` times.

Typer's renderer (`typer.rich_utils`) pulls in rich's Markdown, Syntax and Traceback (~80 ms
here) before printing a line; this one uses only Console, Panel, Table and Text, keeps Typer's
look (usage, help, option and command panels grouped by `rich_help_panel`) and adds the stage's
own panels.
"""

from __future__ import annotations

from collections.abc import Sequence

from typer import _click
from typer.core import TyperGroup

__all__ = ["Panel", "print_help"]

Panel = tuple[str, list[tuple[str, str]]]


def _param_panels(command: _click.Command, ctx: _click.Context) -> dict[str, list[tuple[str, str]]]:
    panels: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        default = "Arguments" if param.param_type_name == "argument" else "Options"
        panel = getattr(param, "rich_help_panel", None) or default
        panels.setdefault(panel, []).append(record)
    return panels


def _command_panels(group: TyperGroup, ctx: _click.Context) -> dict[str, list[tuple[str, str]]]:
    panels: dict[str, list[tuple[str, str]]] = {}
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if sub is None or sub.hidden:
            continue
        panel = getattr(sub, "rich_help_panel", None) or "Commands"
        panels.setdefault(panel, []).append((name, sub.get_short_help_str(limit=300)))
    return panels


def print_help(command: _click.Command, ctx: _click.Context, extra: Sequence[Panel] = ()) -> None:
    """Print `command`'s help: usage, help text, parameter and command panels, then `extra`."""
    from rich import box
    from rich.console import Console
    from rich.panel import Panel as RichPanel
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False, emoji=False)  # emoji codes: ~2 ms to load, never used
    console.print()
    console.print(Text(" " + command.get_usage(ctx), style="bold"))
    console.print()
    if command.help:
        console.print(Text(" " + command.help.strip().replace("\n", "\n ")))
        console.print()
    panels = _param_panels(command, ctx)
    if isinstance(command, TyperGroup):
        panels.update(_command_panels(command, ctx))
    panels.update(dict(extra))
    for title, rows in panels.items():
        if not rows:
            continue
        table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for left, right in rows:
            table.add_row(Text(left), Text(right))
        console.print(
            RichPanel(
                table, title=Text(title), title_align="left", border_style="dim", box=box.ROUNDED
            )
        )

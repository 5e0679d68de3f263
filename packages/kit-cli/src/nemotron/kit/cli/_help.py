"""Extra help panels of a stage: configs, artifact inputs, env.toml profiles, examples."""

from __future__ import annotations

from typer import _click

from nemotron.kit.cli._profiles import profile_rows
from nemotron.kit.cli._stage import Stage

__all__ = ["print_stage_panels", "stage_panels"]


def stage_panels(stage: Stage, *, profiles: bool = True) -> list[tuple[str, list[tuple[str, str]]]]:
    """The panels as (title, rows of (left, right)) for both renderers and the docs."""
    panels: list[tuple[str, list[tuple[str, str]]]] = []
    configs = [
        (
            name + (" (default)" if name == stage.default_config else ""),
            stage.config_description(name),
        )
        for name in stage.config_names()
    ]
    if configs:
        panels.append(("Configs (-c NAME)", configs))
    if stage.inputs:
        rows = []
        for item in stage.inputs:
            text = f"{item.type}" + (f": {item.help}" if item.help else "")
            if item.produced_by:
                text += f" (made by `{item.produced_by}`)"
            rows.append((item.key, text))
        panels.append(("Artifact inputs", rows))
    if profiles:
        panels.append(profile_rows())
    if stage.examples:
        panels.append(("Examples", [(example, "") for example in stage.examples]))
    return panels


def print_stage_panels(
    stage: Stage, ctx: _click.Context, formatter: _click.HelpFormatter, *, rich: bool
) -> None:
    """Render the panels after Typer's help: rich panels, or plain click sections."""
    panels = stage_panels(stage)
    if not rich:
        for title, rows in panels:
            with formatter.section(title):
                formatter.write_dl(rows)
        return
    from rich import box
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table
    from typer.rich_utils import _get_rich_console

    console = _get_rich_console()
    for title, rows in panels:
        table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False, expand=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for left, right in rows:
            table.add_row(escape(left), right if title.startswith("Profiles") else escape(right))
        console.print(
            Panel(
                table, title=escape(title), title_align="left", border_style="dim", box=box.ROUNDED
            )
        )

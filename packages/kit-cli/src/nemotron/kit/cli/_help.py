"""The extra help panels of a stage: configs, artifact inputs, env.toml profiles, examples."""

from __future__ import annotations

from nemotron.kit.cli._profiles import profile_rows
from nemotron.kit.cli._stage import Stage

__all__ = ["stage_panels"]


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
            text = f"{item.type}" + ("" if item.required else " (optional)")
            text += f": {item.help}" if item.help else ""
            if item.produced_by:
                text += f" (made by `{item.produced_by}`)"
            rows.append((item.key, text))
        panels.append(("Artifact inputs", rows))
    if profiles:
        panels.append(profile_rows())
    if stage.examples:
        panels.append(("Examples", [(example, "") for example in stage.examples]))
    return panels

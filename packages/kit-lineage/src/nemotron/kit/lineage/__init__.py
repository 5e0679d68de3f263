"""Lineage: which artifacts each run consumed and produced, locally and in W&B.

- Trackers: `FileTracker` (default; a record per run next to the registry), `WandbTracker`
  (W&B artifacts and run links, on top of the file tracker), `NoOpTracker`. The current tracker
  (`set_lineage_tracker`) hears every `use_artifact()` and `artifact.save()` in the process.
- The graph: `LineageGraph.from_registry()` answers ancestors/descendants of `Name:vN` and the
  runs that produced/consumed it, and renders as a text tree, mermaid or JSON.
- The seed's W&B helpers: `init_wandb_if_configured`, `add_wandb_tags`, `finish_wandb`.

`wandb` is imported only when W&B is actually used.
"""

from nemotron.kit.artifacts import LineageHook, get_lineage_tracker, set_lineage_tracker
from nemotron.kit.lineage._file_tracker import FileTracker
from nemotron.kit.lineage._graph import Direction, LineageGraph, LineageNode
from nemotron.kit.lineage._records import RunArtifact, RunRecord
from nemotron.kit.lineage._render import render_json, render_mermaid, render_text
from nemotron.kit.lineage._tracker import LineageTracker, NoOpTracker, ensure_tracker
from nemotron.kit.lineage._wandb_helpers import (
    add_wandb_tags,
    finish_wandb,
    init_wandb_if_configured,
)
from nemotron.kit.lineage._wandb_settings import WandbSettings, wandb_settings_from
from nemotron.kit.lineage._wandb_tracker import WandbTracker

__all__ = [
    "Direction",
    "FileTracker",
    "LineageGraph",
    "LineageHook",
    "LineageNode",
    "LineageTracker",
    "NoOpTracker",
    "RunArtifact",
    "RunRecord",
    "WandbSettings",
    "WandbTracker",
    "add_wandb_tags",
    "ensure_tracker",
    "finish_wandb",
    "get_lineage_tracker",
    "init_wandb_if_configured",
    "render_json",
    "render_mermaid",
    "render_text",
    "set_lineage_tracker",
    "wandb_settings_from",
]

"""The lineage hook slot: one process-wide tracker told about every artifact used or published.

kit-lineage's trackers (file, W&B) implement `LineageHook`; kit-artifacts only calls it.
Errors raised by a tracker propagate to the caller of `use_artifact()` / `save()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from nemotron.kit.artifacts._models import Artifact


@runtime_checkable
class LineageHook(Protocol):
    """What a lineage tracker implements to hear about artifacts."""

    def artifact_used(self, artifact: Artifact) -> None:
        """Called after `use_artifact()` resolved `artifact` as an input of the current run."""

    def artifact_published(self, artifact: Artifact) -> None:
        """Called after `artifact.save()` published `artifact` (with name and version set)."""


_tracker: LineageHook | None = None


def set_lineage_tracker(tracker: LineageHook | None) -> None:
    """Install `tracker` as the process-wide lineage hook (`None` removes it)."""
    global _tracker
    if tracker is not None and not isinstance(tracker, LineageHook):
        raise TypeError(
            f"{type(tracker).__name__} is not a LineageHook: it needs "
            "artifact_used(artifact) and artifact_published(artifact)"
        )
    _tracker = tracker


def get_lineage_tracker() -> LineageHook | None:
    """The installed lineage hook, or `None`."""
    return _tracker

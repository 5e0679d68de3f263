"""The `LineageTracker` interface, its no-op implementation, and the process-wide default.

A tracker is kit-artifacts' lineage hook: once it is the current tracker
(`set_lineage_tracker`), every `use_artifact(...)`, `${art:...}` resolution and `artifact.save()`
in the process reports to it, so recipes record lineage without passing anything around.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import TypeVar

from nemotron.kit.artifacts import Artifact, get_lineage_tracker, set_lineage_tracker, use_artifact
from nemotron.kit.artifacts.errors import UserError

__all__ = ["LineageTracker", "NoOpTracker", "ensure_tracker"]

A = TypeVar("A", bound=Artifact)


class LineageTracker(abc.ABC):
    """Records which artifacts a run consumed and produced.

    Subclasses implement the two hook methods, `run_id`, `active` and `finish`; `use_artifact`
    and `log_artifact` are the calls a script makes when it holds a tracker explicitly.
    """

    @property
    @abc.abstractmethod
    def run_id(self) -> str:
        """Id of the run this tracker records (kit's run id, `NEMOTRON_RUN_ID`)."""

    @property
    @abc.abstractmethod
    def active(self) -> bool:
        """True until `finish` was called."""

    @abc.abstractmethod
    def artifact_used(self, artifact: Artifact) -> None:
        """Record `artifact` as an input of this run (kit-artifacts' hook)."""

    @abc.abstractmethod
    def artifact_published(self, artifact: Artifact) -> None:
        """Record `artifact` (already published, inputs filled) as an output of this run."""

    @abc.abstractmethod
    def finish(self, exit_code: int = 0) -> None:
        """Close the run record with its exit code; later calls do nothing."""

    def use_artifact(self, ref: str, cls: type[A] = Artifact) -> A:  # type: ignore[assignment]
        """Load an artifact by URI or path and record it as an input of this run.

        Args:
            ref: `art://Name:latest`, `art://Name:v3`, `art://Name:alias`, or a path.
            cls: the artifact class to load as.

        Returns:
            The loaded artifact.
        """
        artifact = use_artifact(ref, cls)
        if get_lineage_tracker() is not self:
            self.artifact_used(artifact)
        return artifact

    def log_artifact(
        self, artifact: A, name: str | None = None, aliases: tuple[str, ...] = ()
    ) -> A:
        """Record a produced artifact; publishes it first when it has no version yet.

        Args:
            artifact: the produced artifact; its `inputs` are its lineage.
            name: registry name, needed only when the artifact is not published yet.
            aliases: extra aliases when publishing.

        Returns:
            The published artifact.
        """
        if artifact.version is None:
            if name is None:
                raise UserError(
                    f"log_artifact: artifact at {artifact.path} is not published; "
                    "pass name=... or call artifact.save(name=...) first"
                )
            published = artifact.save(name=name, aliases=aliases)
            if get_lineage_tracker() is not self:
                self.artifact_published(published)
            return published
        self.artifact_published(artifact)
        return artifact

    def __enter__(self) -> LineageTracker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(0 if exc_type is None else 1)


class NoOpTracker(LineageTracker):
    """A tracker that records nothing, for scripts that opt out of lineage."""

    def __init__(self, run_id: str = "") -> None:
        self._run_id = run_id
        self._active = True

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def active(self) -> bool:
        return self._active

    def artifact_used(self, artifact: Artifact) -> None:
        return None

    def artifact_published(self, artifact: Artifact) -> None:
        return None

    def finish(self, exit_code: int = 0) -> None:
        self._active = False


def ensure_tracker() -> LineageTracker:
    """The active current tracker; installs a new `FileTracker` when there is none.

    A finished tracker is replaced. A hook that is not a `LineageTracker` (someone else's)
    stays installed, and a `FileTracker` that is not installed is returned.
    """
    from nemotron.kit.lineage._file_tracker import FileTracker

    current = get_lineage_tracker()
    if isinstance(current, LineageTracker) and current.active:
        return current
    tracker = FileTracker()
    if current is None or isinstance(current, LineageTracker):
        set_lineage_tracker(tracker)
    return tracker

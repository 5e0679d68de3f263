"""Errors of the Nano 3 training stages.

    NemotronError
    ├── UserError
    │   ├── TrainingLibraryMissingError   Megatron-Bridge / NeMo-RL not importable here
    │   ├── CheckpointNotFoundError       no checkpoint (or not the step asked) in a folder
    │   └── StageConfigError              a stage config lacks what the stage needs
    └── RunError
        └── StageFailedError              a stage of `nano3 pipe` failed; names it and its logs

Each `str(err)` is one line: what is wrong, where, and how to fix it.
"""

from __future__ import annotations

from nemotron.kit.artifacts.errors import RunError, UserError

__all__ = [
    "CheckpointNotFoundError",
    "StageConfigError",
    "StageFailedError",
    "TrainingLibraryMissingError",
]


class TrainingLibraryMissingError(UserError):
    """The training library a stage calls (Megatron-Bridge, NeMo-RL) cannot be imported here."""

    def __init__(
        self, *, stage: str, library: str, requirement: str, image: str, reason: str
    ) -> None:
        self.stage = stage
        self.library = library
        self.requirement = requirement
        self.image = image
        self.reason = reason
        super().__init__(
            f"nano3 {stage}: {library} is not importable here ({reason}); run it on a profile "
            f"whose container_image has it (`nemotron nano3 {stage} --run <profile>`; an image "
            f"built as docs/training.md says, e.g. {image}) or, on a GPU machine, "
            f"`pip install -r {requirement}`"
        )


class CheckpointNotFoundError(UserError):
    """A folder holds no checkpoint in the expected layout, or not the step asked for."""

    def __init__(self, path: str, problem: str, fix: str) -> None:
        self.path = path
        self.problem = problem
        self.fix = fix
        super().__init__(f"{path}: {problem}; {fix}")


class StageConfigError(UserError):
    """A stage config lacks a key the stage needs, or has a value it cannot use."""

    def __init__(self, key: str, problem: str, fix: str, source: str | None = None) -> None:
        self.key = key
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {problem}; {fix}")


class StageFailedError(RunError):
    """A stage of a chained run failed: the chain stops here."""

    def __init__(self, stage: str, state: str, logs: str) -> None:
        self.stage = stage
        self.state = state
        self.logs = logs
        super().__init__(
            f"nano3 pipe: stage '{stage}' ended {state}; the later stages were not run "
            f"(logs: {logs})"
        )

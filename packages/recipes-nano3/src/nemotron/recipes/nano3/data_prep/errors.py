"""Errors of the Nano 3 data prep stages.

    UserError (nemotron.kit.artifacts.errors)
    ├── DataPrepConfigError      a config key has a value the stage cannot use
    ├── InputDataError           a bad record or file: names file:line and the fix
    ├── TokenizerLoadError       the tokenizer cannot be loaded from the given path or name
    ├── OutputInUseError         another run holds the output folder of the same config
    └── OptionalDependencyError  an extra (ray, datasets, tiktoken) is not installed
    RunError
    ├── ShardFailedError         a worker failed on a shard for a reason that is not the input's
    └── ArrayJobFailedError      a job of engine=slurm-array (a task or the merge) did not succeed

Every error keeps its constructor arguments, so it crosses process boundaries (pool and Ray
workers) intact.
"""

from __future__ import annotations

from typing import Any

from nemotron.kit.artifacts.errors import RunError, UserError


class _Reconstructible:
    """Pickles as `type(self)(*constructor arguments)`."""

    _init_args: tuple[Any, ...] = ()

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return (type(self), self._init_args)


class DataPrepConfigError(_Reconstructible, UserError):
    """A config key has a value the stage cannot use."""

    def __init__(self, key: str, message: str) -> None:
        self._init_args = (key, message)
        self.key = key
        super().__init__(f"config key `{key}`: {message}")


class InputDataError(_Reconstructible, UserError):
    """A record or file of the input is unusable; `line` is 1-based (0 for the whole file)."""

    def __init__(self, file: str, line: int, reason: str) -> None:
        self._init_args = (file, line, reason)
        self.file, self.line, self.reason = file, line, reason
        if not line:  # the whole file: skipping records would not help
            super().__init__(f"{file}: {reason}")
            return
        super().__init__(
            f"{file}:{line}: {reason} (fix the input, or set on_bad_record=skip to skip and "
            "count bad records)"
        )


class TokenizerLoadError(_Reconstructible, UserError):
    """The tokenizer cannot be loaded."""

    def __init__(self, spec: str, reason: str) -> None:
        self._init_args = (spec, reason)
        self.spec = spec
        super().__init__(
            f"tokenizer `{spec}`: {reason} (give a tokenizer.json path, a folder holding one, "
            "a Hugging Face hub name, or tiktoken:<encoding>)"
        )


class OutputInUseError(_Reconstructible, UserError):
    """Another run holds the lock of the output folder."""

    def __init__(self, folder: str, holder: str) -> None:
        self._init_args = (folder, holder)
        self.folder = folder
        super().__init__(
            f"output folder {folder} is in use by another data prep ({holder}); wait for it to "
            "finish (then rerun to reuse its result), or choose another output_dir"
        )


class OptionalDependencyError(_Reconstructible, UserError):
    """An optional integration is needed but not installed."""

    def __init__(self, what: str, extra: str) -> None:
        self._init_args = (what, extra)
        self.extra = extra
        super().__init__(
            f'{what} needs an optional dependency: pip install "recipes-nano3[{extra}]"'
        )


class ShardFailedError(_Reconstructible, RunError):
    """A worker failed on a shard."""

    def __init__(self, shard: str, reason: str) -> None:
        self._init_args = (shard, reason)
        self.shard = shard
        super().__init__(f"shard {shard} failed: {reason} (rerun the same command to resume)")


class ArrayJobFailedError(_Reconstructible, RunError):
    """A job of `run.engine=slurm-array` ended FAILED or CANCELLED."""

    def __init__(self, job: str, state: str, log_tail: str) -> None:
        self._init_args = (job, state, log_tail)
        self.job, self.state, self.log_tail = job, state, log_tail
        last = log_tail.strip().splitlines()[-1:] or ["no output"]
        super().__init__(
            f"job {job} ended {state}: {last[0]} (`nemotron jobs logs {job}`; finished shards "
            "stay recorded, so the same command resumes)"
        )

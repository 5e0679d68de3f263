"""`nemotron nano3 pipe`: data prep -> pretrain -> SFT -> RL as one experiment.

Every step runs through `_pipe_step`, which points a per-pipe alias (`pipe-<id>`) at the
artifact versions the step published; the next steps read `art://<name>:pipe-<id>` instead of
`:latest`, so each consumes exactly what the previous step produced even if another run publishes
the same names meanwhile. On Slurm all steps are submitted at once, each `afterok` the one before;
attached, the pipe follows them in order and a failed step stops the chain (the later jobs are
cancelled) with an error naming the step and its logs.
"""

from __future__ import annotations

import shlex
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nemotron.kit.artifacts import ArtURI, InvalidURIError, parse_ref
from nemotron.recipes.nano3.train.errors import StageConfigError, StageFailedError

__all__ = ["PipeStep", "pipe_outputs", "plan_pipe", "render_pipe_lineage", "run_pipe"]

STEP_MODULE = "nemotron.recipes.nano3.train._pipe_step"


@dataclass(frozen=True)
class PipeStep:
    """One stage of the pipe and the command line its job runs."""

    name: str
    module: str
    config_file: Path
    overrides: tuple[str, ...]
    alias: str
    publishes: str | None = None
    """Name of the artifact the step publishes (from its config), when the config names one."""

    def args(self) -> list[str]:
        """Arguments of the `_pipe_step` module for this step."""
        return [
            "--alias",
            self.alias,
            "--",
            self.module,
            "--config",
            str(self.config_file),
            *self.overrides,
        ]


def plan_pipe(
    stages: Sequence[tuple[str, Any, Sequence[str]]],
    config: str | None,
    pipe_id: str | None = None,
) -> list[PipeStep]:
    """The steps of one pipe run.

    Args:
        stages: (step name, kit-cli `Stage`, config keys pinned to the pipe alias) in run order.
        config: Config name (or path) used for every stage (`tiny`, `default`, ...).
        pipe_id: Id of this pipe run (default: a new one).
    """
    from nemotron.kit.config import load_config

    alias = f"pipe-{pipe_id or uuid.uuid4().hex[:8]}"
    steps = []
    for name, stage, pinned in stages:
        config_file = stage.resolve_config(config)
        cfg = load_config(config_file)
        overrides = tuple(f"{key}={_pin(cfg, key, alias, config_file)}" for key in pinned)
        publishes = _published_name(cfg)
        steps.append(PipeStep(name, stage.module, config_file, overrides, alias, publishes))
    return steps


def _published_name(cfg: Any) -> str | None:
    from omegaconf import OmegaConf

    for key in ("artifact_name", "run.publish_as"):  # data prep configs / training configs
        value = OmegaConf.select(cfg, key, throw_on_resolution_failure=False)
        if isinstance(value, str):
            return value
    return None


def _pin(cfg: Any, key: str, alias: str, config_file: Path) -> str:
    """`art://NAME:<pipe alias>` for the registry name the config's `key` reads."""
    from omegaconf import OmegaConf

    value = OmegaConf.select(cfg, key)
    if not isinstance(value, str):
        problem = f"is {value!r}, not an art:// URI"
    else:
        try:
            uri = parse_ref(value)
        except InvalidURIError as err:
            problem = f"is {value!r}: {err.reason}"
        else:
            if uri.name is not None:
                return str(ArtURI(uri.name, alias))
            problem = f"is {value!r}, a path: the pipe can only pin a registry name to its alias"
    raise StageConfigError(
        key, problem, "give the pipe stages art://NAME inputs", source=str(config_file)
    )


def run_pipe(
    steps: Sequence[PipeStep],
    profile: str | None,
    *,
    dry_run: bool = False,
    detach: bool = False,
    echo: Callable[[str], Any] = print,
) -> list[Any]:
    """Launch the steps (dry run: render them); returns the kit-run jobs."""
    from nemotron.kit.run import launch

    echo(
        f"# nano3 pipe: {len(steps)} steps on profile {profile or 'local'!r}, "
        f"artifacts pinned with alias {steps[0].alias if steps else '-'}"
    )
    jobs: list[Any] = []
    submit_all = not dry_run and _is_slurm(profile)
    for index, step in enumerate(steps):
        after = steps[index - 1].name if index else None
        echo(
            f"## step {index + 1}/{len(steps)}: {step.name}"
            + (f" (afterok {after})" if after else "")
        )
        echo(f"#  {shlex.join([step.module, '--config', str(step.config_file), *step.overrides])}")
        job = launch(
            STEP_MODULE,
            step.args(),
            profile=profile or "local",
            name=f"nano3-pipe-{step.name}",
            depends_on=jobs[-1:] if submit_all else (),
            detach=submit_all,
            dry_run=dry_run,
            check=False,
            echo=None if dry_run or submit_all else echo,
        )
        jobs.append(job)
        if dry_run:
            echo((job.rendered or shlex.join(job.record.command)).rstrip())
        elif submit_all:
            echo(f"#  submitted {job.id}")
        else:
            _stop_if_failed(step, job, [])
    if submit_all and not detach:
        for step, job in zip(steps, jobs, strict=True):
            job.wait()
            _stop_if_failed(step, job, jobs)
    return jobs


def _stop_if_failed(step: PipeStep, job: Any, jobs: Sequence[Any]) -> None:
    state = job.status()
    if state == "SUCCEEDED":
        return
    for later in jobs:
        if later.status() not in ("SUCCEEDED", "FAILED", "CANCELLED"):
            later.cancel()
    logs = ", ".join(str(p) for p in job.log_files()) or str(job.folder)
    raise StageFailedError(step.name, state, logs)


def _is_slurm(profile: str | None) -> bool:
    if not profile or profile == "local":
        return False
    from nemotron.kit.run import SlurmProfile, load_env_profile

    return isinstance(load_env_profile(profile), SlurmProfile)


def pipe_outputs(alias: str) -> list[Any]:
    """Every artifact version the pipe's steps published (those `alias` points at), oldest first."""
    from nemotron.kit.artifacts import get_registry

    registry = get_registry()
    found = []
    for name in registry.list_names():
        version = registry.aliases(name).get(alias)
        if version is not None:
            found.append(registry.resolve(name, version))
    return sorted(found, key=lambda artifact: artifact.created_at)


def render_pipe_lineage(alias: str) -> str:
    """The artifacts the pipe published and their lineage trees (kit-lineage's text renderer).

    One tree per artifact that no other output of the pipe was made from, so each source
    dataset, tokenizer and intermediate artifact appears under what was built from it.
    """
    from nemotron.kit.artifacts import get_registry
    from nemotron.kit.lineage import LineageGraph

    outputs = pipe_outputs(alias)
    if not outputs:
        return f"# nano3 pipe: nothing is pinned with alias {alias} in {get_registry().root}\n"
    graph = LineageGraph.from_registry()
    refs = [ArtURI(artifact.name, artifact.version).short for artifact in outputs]
    inner = {node.id for ref in refs for node in graph.ancestors(ref)}
    lines = [f"# nano3 pipe: {len(outputs)} artifacts published (alias {alias})"]
    lines += [f"{a.uri}  [{a.type}]  {a.path}" for a in outputs]
    lines.append("# lineage")
    trees = [graph.to_text(ref) for ref in refs if graph.node(ref).id not in inner]
    return "\n".join(lines) + "\n" + "\n".join(trees)

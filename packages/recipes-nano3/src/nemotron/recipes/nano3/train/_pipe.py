"""`nemotron nano3 pipe`: data prep -> pretrain -> SFT -> RL as one experiment.

Every step runs through `nano3._pipe_step`, which points a per-pipe alias (`pipe-<id>`) at the
artifact versions the step published; the next steps read `art://<name>:pipe-<id>` instead of
`:latest`, so each consumes exactly what the previous step produced even if another run publishes
the same names meanwhile. Every other input is checked and pinned to its `vN` by kit-cli's stage
planner, as for a single stage, and each job gets its composed config shipped with it. The steps
are a kit-run `JobChain`: on Slurm all are submitted at once, each `afterok` the one before;
attached, the pipe follows them in order and a failed step stops the chain (the later jobs are
cancelled) with an error naming the step and its logs. Each stage's declared launcher holds:
a data prep is one task, whatever the profile's size.
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

STEP_MODULE = "nemotron.recipes.nano3._pipe_step"


@dataclass(frozen=True)
class PipeStep:
    """One stage of the pipe, planned by kit-cli's stage planner (inputs checked and pinned)."""

    name: str
    plan: Any
    """The kit-cli `StagePlan` (composed config, pinned inputs, resolved config, launcher)."""
    alias: str
    publishes: str | None = None
    """Name of the artifact the step publishes (from its config), when the config names one."""

    @property
    def overrides(self) -> tuple[str, ...]:
        """What the job gets after `--config`: the pipe's alias pins, then the planner's."""
        return tuple(self.plan.overrides)

    def launch_kwargs(self) -> dict[str, Any]:
        """kit-run `launch` arguments: the stage module wrapped by `_pipe_step`."""
        kwargs = self.plan.launch_kwargs(f"nano3-pipe-{self.name}")
        module = kwargs.pop("script_or_module")
        kwargs["args"] = ["--alias", self.alias, "--", module, *kwargs["args"]]
        return kwargs

    def describe(self) -> str:
        """The stage command line, its shipped config shown by the file it was composed from."""
        return shlex.join(
            [self.plan.stage.module, "--config", str(self.plan.config_file), *self.overrides]
        )


def plan_pipe(
    stages: Sequence[tuple[str, Any, Sequence[str]]],
    config: str | None,
    pipe_id: str | None = None,
    *,
    profile: str | None = None,
    dry_run: bool = False,
) -> list[PipeStep]:
    """The steps of one pipe run, each through kit-cli's stage planner.

    Args:
        stages: (step name, kit-cli `Stage`, config keys pinned to the pipe alias) in run order.
        config: Config name (or path) used for every stage (`tiny`, `default`, ...).
        pipe_id: Id of this pipe run (default: a new one).
        profile: env.toml profile the steps run on (None: here).
        dry_run: Plan for a dry run (unpublished inputs warn instead of failing).
    """
    from nemotron.kit.cli import StageOptions, plan_stage
    from nemotron.kit.config import load_config

    alias = f"pipe-{pipe_id or uuid.uuid4().hex[:8]}"
    steps = []
    for name, stage, pinned in stages:
        config_file = stage.resolve_config(config)
        cfg = load_config(config_file)
        overrides = tuple(f"{key}={_pin(cfg, key, alias, config_file)}" for key in pinned)
        options = StageOptions(
            config=str(config_file), run=profile, dry_run=dry_run, overrides=overrides
        )
        pending = {key: f"published by an earlier step of this pipe ({alias})" for key in pinned}
        plan = plan_stage(stage, options, pending=pending)
        steps.append(PipeStep(name, plan, alias, _published_name(cfg)))
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
    """Launch the steps as a kit-run `JobChain` (dry run: render them); returns the jobs.

    Raises:
        StageFailedError: attached, a step did not succeed (the later steps were cancelled).
    """
    from nemotron.kit.cli import print_warnings
    from nemotron.kit.run import JobChain
    from nemotron.kit.run.errors import ChainStepFailedError

    echo(
        f"# nano3 pipe: {len(steps)} steps on profile {profile or 'local'!r}, "
        f"artifacts pinned with alias {steps[0].alias if steps else '-'}"
    )
    chain = JobChain(profile, detach=detach, dry_run=dry_run, echo=echo)
    try:
        for index, step in enumerate(steps):
            after = steps[index - 1].name if index else None
            echo(
                f"## step {index + 1}/{len(steps)}: {step.name}"
                + (f" (afterok {after})" if after else "")
            )
            echo(f"#  {step.describe()}")
            print_warnings(step.plan)
            job = chain.submit(step.name, STEP_MODULE, **step.launch_kwargs())
            if chain.scheduled and not dry_run:
                echo(f"#  submitted {job.id} (Slurm job {job.record.backend_id})")
        if not detach:
            chain.follow()
    except ChainStepFailedError as err:
        raise StageFailedError(err.step, err.state, ", ".join(err.logs)) from err
    return chain.jobs


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

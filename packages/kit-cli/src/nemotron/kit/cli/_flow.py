"""What a stage command does: config -> overrides -> inputs -> validate -> launch -> report.

Imported only when a stage runs (never for `--help`). A local dry run stays in this process and
imports no execution backend; a dry run on a profile asks kit-run to render the submission (the
sbatch script for Slurm) without submitting it.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import typer

from nemotron.kit.cli._stage import ArtifactInput, Stage, StageOptions
from nemotron.kit.cli.errors import MissingInputError

__all__ = ["StagePlan", "plan_stage", "run_stage"]


class StagePlan:
    """Everything decided before launching: config file, resolved config, command, profile."""

    def __init__(
        self,
        stage: Stage,
        options: StageOptions,
        config_file: Path,
        cfg: Any,
        resolved: dict[str, Any],
        profile: Any,
    ) -> None:
        self.stage = stage
        self.options = options
        self.config_file = config_file
        self.cfg = cfg
        self.resolved = resolved
        self.profile = profile

    @property
    def profile_name(self) -> str:
        return self.options.profile or "local"

    def argv(self, python: str) -> list[str]:
        return self.stage.command_line(python, self.config_file, self.options.overrides)


def _check_input(item: ArtifactInput, cfg: Any) -> None:
    from omegaconf import OmegaConf

    from nemotron.kit.config import resolve_to_container

    parent_key, _, leaf = item.key.rpartition(".")
    parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
    hint = f"run `{item.produced_by}` first, or " if item.produced_by else ""
    fix = f"{hint}set {item.key}=art://NAME:latest or a path"
    if parent is None or leaf not in parent:
        raise MissingInputError(item.key, None, item.type, "the config has no such key", fix)
    value = resolve_to_container(parent)[leaf] if OmegaConf.is_config(parent) else parent[leaf]
    if value in (None, "", "???"):
        if not item.required:
            return
        raise MissingInputError(item.key, value, item.type, "not set", fix)
    if not isinstance(value, str):
        raise MissingInputError(item.key, value, item.type, "expected an art:// URI or a path", fix)
    if value.startswith("art://"):
        from nemotron.kit.artifacts import Artifact
        from nemotron.kit.artifacts.errors import UserError

        try:
            Artifact.from_uri(value)
        except UserError as err:
            raise MissingInputError(item.key, value, item.type, str(err), fix) from err
    elif "://" not in value and not Path(value).expanduser().exists():
        raise MissingInputError(item.key, value, item.type, "no such file or folder", fix)


def plan_stage(stage: Stage, options: StageOptions) -> StagePlan:
    """Load and check everything a launch needs, raising the first user error found."""
    from nemotron.kit.config import (
        apply_hydra_overrides,
        compose,
        load_config,
        resolve_to_container,
        to_typed,
    )

    config_file = stage.resolve_config(options.config)
    overrides = list(options.overrides)
    if stage.config_class is not None:  # what the job's own `cli(Config, ...)` will build
        cfg = compose(stage.config_class, config_file, overrides)
    else:
        cfg = load_config(config_file)
        cfg = apply_hydra_overrides(cfg, overrides) if overrides else cfg
    for item in stage.inputs:
        _check_input(item, cfg)
    resolved = resolve_to_container(cfg)
    if stage.config_class is not None:
        to_typed(stage.config_class, cfg)
    profile = None
    if options.profile:
        from nemotron.kit.run import load_env_profile

        profile = load_env_profile(options.profile)
    return StagePlan(stage, options, config_file, cfg, resolved, profile)


def _print_config(plan: StagePlan) -> None:
    import yaml

    from nemotron.kit.config import redact

    typer.echo(f"# config: {plan.config_file}")
    if plan.options.overrides:
        typer.echo(f"# overrides: {shlex.join(plan.options.overrides)}")
    typer.echo(yaml.safe_dump(redact(plan.resolved), sort_keys=False).rstrip())


def _dry_run(plan: StagePlan, command_path: str) -> int:
    typer.echo(f"# {command_path}: dry run, nothing is executed")
    _print_config(plan)
    if plan.profile is None:
        typer.echo("# would run here (local defaults):")
        typer.echo(shlex.join(plan.argv(sys.executable)))
        return 0
    job = _launch(plan, command_path, dry_run=True)
    typer.echo(f"# would submit to profile {plan.profile_name!r}:")
    typer.echo((job.rendered or shlex.join(job.record.command)).rstrip())
    return 0


def _launch(plan: StagePlan, command_path: str, *, dry_run: bool = False) -> Any:
    from nemotron.kit.run import launch

    stage = plan.stage
    return launch(
        stage.module or str(stage.script),
        ["--config", str(plan.config_file), *plan.options.overrides],
        profile=plan.profile if plan.profile is not None else "local",
        name=command_path.removeprefix("nemotron ").replace(" ", "-"),
        config=plan.cfg,
        config_source=plan.config_file,
        config_overrides=plan.options.overrides,
        detach=plan.options.detached,
        dry_run=dry_run,
        check=False,
        echo=None if dry_run else typer.echo,
    )


def _produced(job_id: str) -> list[Any]:
    """Artifacts whose producer run is this job (newest version of each name last)."""
    from nemotron.kit.artifacts import get_registry

    registry = get_registry()
    found = []
    for name in registry.list_names():
        for artifact in registry.list_versions(name):
            producer = getattr(artifact, "producer", None)
            if producer is not None and producer.run_id == job_id:
                found.append(artifact)
    return found


def _report_artifacts(job_id: str) -> None:
    produced = _produced(job_id)
    if not produced:
        typer.echo(f"job {job_id} published no artifacts")
        return
    typer.echo(f"artifacts produced by {job_id}:")
    for artifact in produced:
        typer.echo(f"  {artifact.uri:<40} {type(artifact).__name__:<24} {artifact.path}")


def run_stage(stage: Stage, options: StageOptions, *, command_path: str) -> int:
    """Run one stage invocation and return the exit code."""
    plan = plan_stage(stage, options)
    if options.dry_run:
        return _dry_run(plan, command_path)
    if not options.detached:
        typer.echo(f"# {command_path}: running on profile {plan.profile_name!r}", err=True)
    job = _launch(plan, command_path)
    if options.detached:
        typer.echo(f"submitted {job.id} to profile {plan.profile_name!r}")
        typer.echo(f"  follow: nemotron jobs logs -f {job.id}")
        typer.echo(f"  status: nemotron jobs status {job.id}")
        return 0
    _report_artifacts(job.id)
    job.raise_for_state()
    return 0

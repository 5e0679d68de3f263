"""What a stage command does: config -> overrides -> inputs -> validate -> launch -> report.

Imported only when a stage runs (never for `--help`). A local dry run stays in this process and
imports no execution backend; a dry run on a profile asks kit-run to render the submission (the
sbatch script for Slurm) without submitting it.

On a profile the job does not read the config file from this machine: the composed config
(`defaults:` merged, interpolations such as `${oc.env:...}` and `${art:...}` kept so they resolve
on the job side, secrets masked) is shipped with the job as a kit-run `JobFile`, and the job's
`--config` names its job-side path. Overrides stay on the command line.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import typer

from nemotron.kit.cli._stage import ArtifactInput, Stage, StageOptions
from nemotron.kit.cli.errors import MissingInputError

__all__ = ["StagePlan", "plan_stage", "run_stage", "shipped_config"]


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


def shipped_config(config_file: Path) -> tuple[str, list[str]]:
    """The composed config a job gets as YAML text, and the keys whose secrets were masked.

    `defaults:` are merged; interpolations stay as written (they resolve on the job side).
    A secret-named key keeps an interpolation (`${oc.env:HF_TOKEN}`: the value travels as an
    environment variable) and has a literal value masked as `***` (kit-artifacts' `redact`).
    """
    import yaml
    from omegaconf import OmegaConf

    from nemotron.kit.artifacts import secrets
    from nemotron.kit.config import load_config

    masked: list[str] = []
    data = OmegaConf.to_container(load_config(config_file), resolve=False)
    header = f"# composed from {config_file.name} by nemotron; secrets masked as ***\n"
    clean = secrets.redact(data, masked=masked)
    return header + yaml.safe_dump(clean, sort_keys=False), masked


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
    from nemotron.kit.artifacts import ArtifactNotFoundError, parse_ref, resolve
    from nemotron.kit.artifacts.errors import UserError

    try:
        uri = parse_ref(value)
        if uri.path is not None and "://" in uri.path:
            return  # remote data: checked where it is read
        resolve(uri, item.type)
    except ArtifactNotFoundError as err:
        reason = "no such file or folder" if err.root is None else str(err)
        raise MissingInputError(item.key, value, item.type, reason, fix) from err
    except UserError as err:
        raise MissingInputError(item.key, value, item.type, str(err), fix) from err


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
    profile = None
    if options.profile:  # where it runs is checked before what it reads
        from nemotron.kit.run import load_env_profile, registry_root

        profile = load_env_profile(options.profile)
        root = registry_root(profile)
        if root is not None:  # the profile's jobs publish there: inputs and results are there
            from nemotron.kit.artifacts import set_registry

            set_registry(root)
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
        typed: Any = to_typed(stage.config_class, cfg)
        check = getattr(typed, "check", None)
        if callable(check):  # the stage's own rules, before anything is launched
            check()
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
    for job_side, copy in job.record.files.items():
        typer.echo(f"# ships the composed config {copy} as {job_side} (the job's --config)")
    typer.echo(f"# would submit to profile {plan.profile_name!r}:")
    typer.echo((job.rendered or shlex.join(job.record.command)).rstrip())
    return 0


def _config_arg(plan: StagePlan) -> Any:
    """The job's `--config` value: the local file here, a shipped copy on a profile."""
    if plan.profile is None:
        return str(plan.config_file)
    from nemotron.kit.run import JobFile

    text, masked = shipped_config(plan.config_file)
    for key in masked:
        typer.echo(
            f"warning: {plan.config_file}: {key} holds a secret; the shipped config has *** "
            "(pass it as an env var: ${oc.env:VAR})",
            err=True,
        )
    return JobFile(plan.config_file.with_suffix(".yaml").name, text)


def _launch(plan: StagePlan, command_path: str, *, dry_run: bool = False) -> Any:
    from nemotron.kit.run import launch

    stage = plan.stage
    return launch(
        stage.module or str(stage.script),
        ["--config", _config_arg(plan), *plan.options.overrides],
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


def _report_artifacts(job_id: str) -> None:
    from nemotron.kit.artifacts import get_registry

    produced = get_registry().produced_by(job_id)
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

"""The stage planner: compose -> check inputs -> pin -> validate -> ship -> record -> launch.

Every job of a stage goes through `plan_stage` (a stage command, each `pipe` step):

1. compose the config (`-c`, `defaults:`, overrides) the way the job's own `cli()` will;
2. check each declared input: the artifact exists and is of the declared type (a
   `ModelArtifact` given where an `SFTDataArtifact` is expected is refused); a path is checked
   where the job reads it (a cluster reached over ssh: there, over SFTP);
3. pin each `art://NAME[:latest|:alias]` input to the exact `art://NAME:vN` checked, as an
   override after the user's, so the job reads that version even if `latest` moves before it
   starts;
4. validate into the stage's typed config;
5. ship the composed config with the job as a kit-run `JobFile` (interpolations kept so they
   resolve on the job side, secrets masked): the job's `--config` is its job-side copy, never
   a path on this machine;
6. record (kit-run saves the resolved config, pins included, with the job) and launch with
   the stage's declared launcher (one task, torchrun or Ray).

A dry run shows the whole plan even when inputs are not published yet, with one warning line
per unresolved input; a real run refuses them. Imported only when a stage runs.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from nemotron.kit.cli._stage import ArtifactInput, Stage, StageOptions
from nemotron.kit.cli.errors import MissingInputError

if TYPE_CHECKING:
    from nemotron.kit.run import ClusterFiles

__all__ = [
    "PlannedInput",
    "StagePlan",
    "job_name",
    "plan_stage",
    "print_warnings",
    "run_stage",
    "shipped_config",
]


@dataclass(frozen=True)
class PlannedInput:
    """One declared artifact input as planned: what the config gave and what the job reads."""

    key: str
    value: Any
    pinned: str | None = None
    """`art://NAME:vN`: the exact version checked, which the job is told to read."""
    note: str = ""
    """Why it is not pinned, when it is pending: the step of the chain producing it."""
    problem: MissingInputError | None = None
    """Why it does not resolve (not published yet, no such path): a dry run warns, a run refuses."""
    checked_on: str | None = None
    """The cluster a path was found on (over ssh) when this machine lacks it: `${art:...}` of it
    resolve in the job, not here."""


@dataclass
class StagePlan:
    """Everything decided before launching: config, pinned inputs, resolved config, profile."""

    stage: Stage
    options: StageOptions
    config_file: Path
    cfg: Any
    resolved: dict[str, Any]
    profile: Any
    inputs: list[PlannedInput] = field(default_factory=list)
    wandb: dict[str, Any] = field(default_factory=dict)
    """env.toml's `[wandb]` when the stage's config takes it under `run.wandb` (shipped there)."""
    env: dict[str, str] = field(default_factory=dict)
    """Variables for the job (W&B project/entity/mode; its API key, a secret)."""

    @property
    def profile_name(self) -> str:
        return self.profile.name if self.profile is not None else "local"

    @property
    def pins(self) -> tuple[str, ...]:
        """Overrides pinning each `art://` input to the version checked (after the user's)."""
        return tuple(f"{i.key}={i.pinned}" for i in self.inputs if i.pinned)

    @property
    def overrides(self) -> tuple[str, ...]:
        """Everything the job gets after `--config`: the user's overrides, then the pins."""
        return (*self.options.overrides, *self.pins)

    @property
    def warnings(self) -> list[str]:
        return [str(i.problem) for i in self.inputs if i.problem is not None]

    def argv(self, python: str) -> list[str]:
        return self.stage.command_line(python, self.config_file, self.overrides)

    def job_args(self) -> list[Any]:
        """`--config <shipped composed config> OVERRIDES...` as kit-run `launch` args."""
        return ["--config", _shipped(self.config_file, self.wandb), *self.overrides]

    def launch_kwargs(self, name: str) -> dict[str, Any]:
        """What kit-run's `launch` (or a `JobChain` step) needs to run this stage as `name`."""
        stage = self.stage
        return {
            "script_or_module": stage.module or str(stage.script),
            "args": self.job_args(),
            "name": name,
            "config": self.resolved,
            "config_source": self.config_file,
            "config_overrides": self.overrides,
            "launcher": stage.launcher,
            "env": self.env,
        }


def shipped_config(
    config_file: Path, wandb: Mapping[str, Any] | None = None
) -> tuple[str, list[str]]:
    """The composed config a job gets as YAML text, and the keys whose secrets were masked.

    `defaults:` are merged; interpolations stay as written (they resolve on the job side).
    A secret-named key keeps an interpolation (`${oc.env:HF_TOKEN}`: the value travels as an
    environment variable) and has a literal value masked as `***` (kit-artifacts' `redact`).
    `wandb` (env.toml's `[wandb]`) goes under `run.wandb`, the file's own keys winning.
    """
    import yaml
    from omegaconf import OmegaConf

    from nemotron.kit.artifacts import secrets
    from nemotron.kit.config import load_config

    masked: list[str] = []
    data = OmegaConf.to_container(load_config(config_file), resolve=False)
    if wandb and isinstance(data, dict):
        from nemotron.kit.cli._wandb import merged_run_wandb

        run = data.setdefault("run", {})
        run["wandb"] = merged_run_wandb(wandb, run.get("wandb"))
    header = f"# composed from {config_file.name} by nemotron; secrets masked as ***\n"
    clean = secrets.redact(data, masked=masked)
    return header + yaml.safe_dump(clean, sort_keys=False), masked


def _check_input(
    item: ArtifactInput, cfg: Any, pending: Mapping[str, str], files: ClusterFiles | None = None
) -> PlannedInput:
    """Check one declared input; return what the job will read.

    A path is checked where the job reads it: with `files` (the cluster's, over ssh), there.
    Raises MissingInputError for a config that cannot be right (no such key, not a string, a
    malformed URI, an artifact of the wrong type). Whatever may yet appear (an artifact not
    published, a missing path) comes back `unresolved` so a dry run can still show the plan.
    """
    from omegaconf import OmegaConf

    from nemotron.kit.artifacts import (
        ArtifactNotFoundError,
        ArtifactTypeError,
        InvalidURIError,
        VersionNotFoundError,
        parse_ref,
        resolve,
    )
    from nemotron.kit.artifacts.errors import UserError
    from nemotron.kit.run.errors import ExecutorError

    parent_key, _, leaf = item.key.rpartition(".")
    parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
    hint = f"run `{item.produced_by}` first, or " if item.produced_by else ""
    fix = f"{hint}set {item.key}=art://NAME:latest or a path"
    if parent is None or leaf not in parent:
        raise MissingInputError(item.key, None, item.type, "the config has no such key", fix)
    value = OmegaConf.select(cfg, item.key, throw_on_missing=False)

    def missing(reason: str) -> MissingInputError:
        return MissingInputError(item.key, value, item.type, reason, fix)

    if value in (None, "", "???"):
        if not item.required:
            return PlannedInput(item.key, value)
        return PlannedInput(item.key, value, problem=missing("not set"))
    if not isinstance(value, str):
        raise MissingInputError(item.key, value, item.type, "expected an art:// URI or a path", fix)
    if item.key in pending:
        return PlannedInput(item.key, value, note=pending[item.key])
    try:
        uri = parse_ref(value)
    except InvalidURIError as err:
        raise MissingInputError(item.key, value, item.type, err.reason, fix) from err
    if uri.path is not None and "://" in uri.path:
        return PlannedInput(item.key, value)  # remote data: checked where it is read
    remote = files if uri.path is not None else None
    try:
        artifact = resolve(uri, item.type, files=remote)
    except ArtifactNotFoundError as err:
        reason = "no such file or folder" if err.root is None else str(err)
        if err.root is None and remote is not None:
            reason += f" on {remote.where} (the cluster, where the job reads it)"
        return PlannedInput(item.key, value, problem=missing(reason))
    except ExecutorError as err:  # the cluster cannot be reached: a dry run still shows the plan
        return PlannedInput(item.key, value, problem=missing(f"not checked on the cluster: {err}"))
    except VersionNotFoundError as err:
        return PlannedInput(item.key, value, problem=missing(str(err)))
    except ArtifactTypeError as err:
        reason = f"{err.source} is a {err.found}, expected {err.expected}"
        raise MissingInputError(item.key, value, item.type, reason, fix) from err
    except UserError as err:  # of another type, corrupt: no later run can fix it
        raise MissingInputError(item.key, value, item.type, str(err), fix) from err
    if uri.name is None or artifact.version is None:  # a path is one version already
        return PlannedInput(item.key, value, checked_on=remote.where if remote else None)
    return PlannedInput(item.key, value, pinned=str(uri._replace(selector=artifact.version)))


def _leniently_resolved(node: Any) -> Any:
    """Plain data with every interpolation resolved that can be; the others kept as written."""
    from omegaconf import DictConfig, ListConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    raw = OmegaConf.to_container(node, resolve=False)
    keys = range(len(node)) if isinstance(node, ListConfig) else list(node.keys())
    out: dict[Any, Any] = {}
    for key in keys:
        try:
            value = node[key]
        except OmegaConfBaseException:
            out[key] = raw[key]  # type: ignore[index]
            continue
        is_node = isinstance(value, DictConfig | ListConfig)
        out[key] = _leniently_resolved(value) if is_node else value
    return list(out.values()) if isinstance(node, ListConfig) else out


def plan_stage(
    stage: Stage, options: StageOptions, *, pending: Mapping[str, str] | None = None
) -> StagePlan:
    """Compose the config, check and pin its inputs, validate: everything a launch needs.

    Args:
        stage: The stage to plan.
        options: Its options (config, profile, dry run, overrides).
        pending: Input keys produced by an earlier step of the same chain (the pipe), with a
            note saying which: they are not resolvable yet and are left as given.

    Raises:
        UserError: the first problem found (profile, config, overrides, an input of the wrong
            type, and, unless it is a dry run, an input that does not resolve).
    """
    from omegaconf import OmegaConf

    from nemotron.kit.cli._wandb import env_table, job_env, merged_run_wandb
    from nemotron.kit.config import (
        apply_hydra_overrides,
        compose,
        load_config,
        resolve_to_container,
        to_typed,
    )

    config_file = stage.resolve_config(options.config)
    profile = files = None
    if options.profile:  # where it runs is checked before what it reads
        from nemotron.kit.cli._profiles import chosen_profile
        from nemotron.kit.run import cluster_files, load_env_profile, registry_root

        profile = load_env_profile(chosen_profile(options.profile))
        files = cluster_files(profile)  # path inputs are checked where the jobs read them
        root = registry_root(profile)
        if root is not None:  # the profile's jobs publish there: inputs and results are there
            from nemotron.kit.artifacts import set_registry

            set_registry(root)

    table = env_table()
    wandb: dict[str, Any] = {}

    if stage.config_class is not None:  # what the job's own `cli(Config, ...)` will build
        cfg = compose(stage.config_class, config_file, [])
    else:
        cfg = load_config(config_file)
    run = OmegaConf.select(cfg, "run")
    if table and OmegaConf.is_dict(run) and "wandb" in run:  # the stage takes W&B settings
        wandb.update(table)  # as the shipped config will have it, under the overrides
        own = OmegaConf.to_container(run, resolve=False)
        assert isinstance(own, dict)
        merged = merged_run_wandb(table, own.get("wandb"))
        OmegaConf.update(cfg, "run.wandb", merged, force_add=True)
    if options.overrides:
        cfg = apply_hydra_overrides(cfg, list(options.overrides))
    inputs = [_check_input(item, cfg, pending or {}, files) for item in stage.inputs]
    plan = StagePlan(stage, options, config_file, cfg, {}, profile, inputs, wandb)
    unresolved = [i.problem for i in inputs if i.problem is not None]
    if unresolved and not options.dry_run:
        raise unresolved[0]
    if plan.pins:  # the job applies them after the user's overrides: so does the plan
        plan.cfg = cfg = apply_hydra_overrides(cfg, list(plan.pins))
    lenient = bool(unresolved or pending or any(i.checked_on for i in inputs))
    plan.resolved = _leniently_resolved(cfg) if lenient else resolve_to_container(cfg)
    if stage.config_class is not None:
        typed: Any = to_typed(stage.config_class, plan.resolved if lenient else cfg)
        check = getattr(typed, "check", None)
        if callable(check):  # the stage's own rules, before anything is launched
            check()
    plan.env = job_env(table, plan.resolved)
    return plan


def _print_config(plan: StagePlan) -> None:
    import yaml

    from nemotron.kit.config import redact

    typer.echo(f"# config: {plan.config_file}")
    if plan.options.overrides:
        typer.echo(f"# overrides: {shlex.join(plan.options.overrides)}")
    for item in plan.inputs:
        if item.pinned:
            typer.echo(f"# input {item.key}: {item.value} -> {item.pinned} (pinned)")
        elif item.note:
            typer.echo(f"# input {item.key}: {item.value} ({item.note})")
        elif item.checked_on:
            typer.echo(f"# input {item.key}: {item.value} (found on {item.checked_on})")
    typer.echo(yaml.safe_dump(redact(plan.resolved), sort_keys=False).rstrip())


def print_warnings(plan: StagePlan) -> None:
    """One `warning:` line (stderr) per input a real run would refuse."""
    for warning in plan.warnings:
        typer.echo(f"warning: {warning} (a real run refuses)", err=True)


def _dry_run(plan: StagePlan, command_path: str) -> int:
    typer.echo(f"# {command_path}: dry run, nothing is executed")
    _print_config(plan)
    print_warnings(plan)
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


def _shipped(config_file: Path, wandb: Mapping[str, Any]) -> Any:
    """The composed config as a kit-run `JobFile`: the job reads this copy, never our file."""
    from nemotron.kit.run import JobFile

    text, masked = shipped_config(config_file, wandb)
    for key in masked:
        typer.echo(
            f"warning: {config_file}: {key} holds a secret; the shipped config has *** "
            "(pass it as an env var: ${oc.env:VAR})",
            err=True,
        )
    return JobFile(config_file.with_suffix(".yaml").name, text)


def job_name(command_path: str) -> str:
    """`nemotron nano3 sft` -> `nano3-sft`."""
    return command_path.removeprefix("nemotron ").replace(" ", "-")


def _launch(plan: StagePlan, command_path: str, *, dry_run: bool = False) -> Any:
    from nemotron.kit.run import launch

    return launch(
        **plan.launch_kwargs(job_name(command_path)),
        profile=plan.profile if plan.profile is not None else "local",
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

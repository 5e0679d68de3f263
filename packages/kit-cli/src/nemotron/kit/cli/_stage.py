"""The recipe-stage builder: `RecipeApp.stage(...)` declares a `nemotron <recipe> <stage>` command.

A stage is data (`Stage`): the module or script to run, its config folder, the artifact inputs it
expects and examples. Every stage command gets the same options, accepted on the stage and on
any recipe group above it (`nemotron nano3 -d sft` == `nemotron nano3 sft -d`):

    -c/--config NAME|PATH   a name resolves to <config_dir>/<NAME>.yaml (.yml/.toml/.json)
    -r/--run PROFILE        submit to an env.toml profile and stay attached
    -b/--batch PROFILE      submit detached; prints the job id
    -d/--dry-run            print the resolved config and what would run; run nothing
    KEY=VALUE ...           Hydra overrides, anywhere on the line

The command body (`nemotron.kit.cli._flow.run_stage`) is imported only when a stage runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import typer
from typer import _click
from typer.core import TyperCommand

from nemotron.kit.cli._plain_params import plain_strings
from nemotron.kit.cli._root import SuggestingGroup
from nemotron.kit.cli.errors import ConflictingOptionsError, UnknownConfigError

__all__ = ["ArtifactInput", "RecipeApp", "RecipeGroup", "Stage", "StageCommand", "StageOptions"]

CONFIG_SUFFIXES = (".yaml", ".yml", ".toml", ".json")
Launcher = Literal["task", "torchrun", "ray"]
"""kit-run's `launch(launcher=...)` values (kit-run is not imported for `--help`)."""


@dataclass(frozen=True)
class ArtifactInput:
    """An artifact a stage reads: shown in its help, checked before anything is launched.

    Attributes:
        key: Dotted config key holding the reference (`art://Name:latest`, a path, or a
            `${art:Name,path}` interpolation), e.g. `"data.path"`.
        type: The artifact type expected, e.g. `"SFTDataArtifact"`.
        help: One line describing the input.
        produced_by: The command that produces it, used in the fix hint when it is missing.
        required: When False, an empty (null) value is accepted and not checked.
    """

    key: str
    type: str
    help: str = ""
    produced_by: str = ""
    required: bool = True


@dataclass(frozen=True)
class Stage:
    """A recipe stage: what runs, with which configs, reading which artifacts.

    Attributes:
        name: Command name (`sft`).
        help: One paragraph for `--help`; its first line is the short help.
        module: Python module run as `python -m MODULE --config FILE OVERRIDES...`.
        script: Or a script path run as `python SCRIPT --config FILE OVERRIDES...`.
        config_dir: Folder of named configs; `-c tiny` means `<config_dir>/tiny.yaml`.
        default_config: Config name used when `-c` is not given.
        inputs: Artifact inputs, for help and the pre-launch check.
        examples: Example command lines for help.
        config_class: Optional dataclass the resolved config must validate into; its
            `check()` method, if it has one, runs too (raising a UserError) before any launch.
        launcher: How its job's processes start: `task` (exactly one process: data prep),
            `torchrun` (nodes x GPUs of the profile: Megatron-Bridge) or `ray` (NeMo-RL).
    """

    name: str
    help: str = ""
    module: str | None = None
    script: Path | None = None
    config_dir: Path | None = None
    default_config: str = "default"
    inputs: tuple[ArtifactInput, ...] = ()
    examples: tuple[str, ...] = ()
    config_class: type | None = None
    launcher: Launcher = "task"

    def __post_init__(self) -> None:
        if (self.module is None) == (self.script is None):
            raise ValueError(f"stage {self.name!r}: give exactly one of module= or script=")
        if self.launcher not in get_args(Launcher):
            raise ValueError(
                f"stage {self.name!r}: launcher {self.launcher!r}; "
                f"use one of {', '.join(get_args(Launcher))}"
            )

    def config_names(self) -> list[str]:
        """Names of the configs in `config_dir` (sorted; empty without a folder)."""
        if self.config_dir is None or not self.config_dir.is_dir():
            return []
        return sorted(
            {
                p.stem
                for p in self.config_dir.iterdir()
                if p.suffix in CONFIG_SUFFIXES and not p.name.startswith("_") and p.is_file()
            }
        )

    def config_description(self, name: str) -> str:
        """The first sentence of a named config's leading `# comment` block, or ''.

        A line continues onto the next comment line until it ends with a period or the next
        line starts a new sentence (a capital letter).
        """
        path = self._named(name)
        try:
            lines = path.read_text(encoding="utf-8").lstrip().splitlines() if path else []
        except OSError:
            return ""
        text = ""
        for line in lines:
            if not line.startswith("#"):
                break
            part = line.lstrip("#").strip()
            if text and (text.endswith(".") or part[:1].isupper()):
                break
            text = f"{text} {part}".strip()
        return text

    def _named(self, name: str) -> Path | None:
        if self.config_dir is None:
            return None
        for suffix in CONFIG_SUFFIXES:
            candidate = self.config_dir / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
        return None

    def resolve_config(self, value: str | None) -> Path:
        """Turn `-c NAME|PATH` (or the default) into an existing config file.

        Raises:
            UnknownConfigError: Neither a named config nor an existing file.
        """
        value = value or self.default_config
        named = None if ("/" in value or value.endswith(CONFIG_SUFFIXES)) else self._named(value)
        if named is not None:
            return named.resolve()
        path = Path(value).expanduser()
        if path.is_file():
            return path.resolve()
        raise UnknownConfigError(value, self.config_dir, self.config_names())

    def command_line(self, python: str, config_file: Path, overrides: Sequence[str]) -> list[str]:
        """The exact argv a job runs."""
        target = ["-m", self.module] if self.module else [str(self.script)]
        return [python, *target, "--config", str(config_file), *overrides]


@dataclass(frozen=True)
class StageOptions:
    """The global options of one stage invocation, merged over the recipe groups above it."""

    config: str | None = None
    run: str | None = None
    batch: str | None = None
    dry_run: bool = False
    overrides: tuple[str, ...] = field(default_factory=tuple)

    @property
    def profile(self) -> str | None:
        """The env.toml profile to submit to, or None to run here."""
        return self.run or self.batch

    @property
    def detached(self) -> bool:
        return self.batch is not None


def _complete_config(ctx: typer.Context, incomplete: str) -> list[str]:
    stage = getattr(getattr(ctx.command, "callback", None), "__nemotron_stage__", None)
    names = stage.config_names() if isinstance(stage, Stage) else []
    return [n for n in names if n.startswith(incomplete)]


def _complete_profile(incomplete: str) -> list[str]:
    from nemotron.kit.cli._profiles import profile_names

    return [n for n in profile_names() if n.startswith(incomplete)]


_PANEL = "Run options"
ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "-c",
        "--config",
        metavar="NAME|PATH",
        help="Config name from the stage's config folder (listed below) or a file path.",
        autocompletion=_complete_config,
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
RunOpt = Annotated[
    str | None,
    typer.Option(
        "-r",
        "--run",
        metavar="PROFILE",
        help="Submit to this env.toml profile (alone: [cli] default_profile, else local) and stay attached: stream logs, exit with the job's status.",
        autocompletion=_complete_profile,
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
BatchOpt = Annotated[
    str | None,
    typer.Option(
        "-b",
        "--batch",
        metavar="PROFILE",
        help="Submit to this env.toml profile (alone: [cli] default_profile, else local) detached: print the job id and how to follow it.",
        autocompletion=_complete_profile,
        rich_help_panel=_PANEL,
        show_default=False,
    ),
]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "-d",
        "--dry-run",
        help="Print the plan (resolved config, inputs pinned to vN, what would run; unpublished inputs as warnings); execute nothing.",
        rich_help_panel=_PANEL,
    ),
]
OverridesArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="KEY=VALUE",
        help="Hydra overrides (key=value, +key=value, ~key), anywhere on the line.",
        show_default=False,
    ),
]

_OPTION_NAMES = ("config", "run", "batch", "dry_run")


def collect_options(ctx: _click.Context, overrides: Sequence[str]) -> StageOptions:
    """Merge the options given on every recipe group on the way down to the stage.

    A value given closer to the stage wins; `--dry-run` anywhere turns dry run on.

    Raises:
        ConflictingOptionsError: `--run` and `--batch` were both given.
    """
    chain: list[_click.Context] = []
    current: _click.Context | None = ctx
    while current is not None:
        chain.append(current)
        current = current.parent
    merged: dict[str, Any] = {}
    for level in reversed(chain):
        for name in _OPTION_NAMES:
            value = level.params.get(name)
            if value not in (None, False):
                merged[name] = value
    options = StageOptions(**merged, overrides=tuple(overrides))
    if options.run and options.batch:
        raise ConflictingOptionsError("--run", "--batch")
    return options


class StageCommand(TyperCommand):
    """A stage's click command: Typer's help plus panels for configs, profiles, inputs, examples."""

    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        return plain_strings(super().get_params(ctx))

    @property
    def stage(self) -> Stage:
        stage: Stage = self.callback.__nemotron_stage__  # type: ignore[union-attr]
        return stage

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        from nemotron.kit.cli._help import stage_panels

        panels = stage_panels(self.stage)
        if self.rich_markup_mode is None:
            super().format_help(ctx, formatter)
            for title, rows in panels:
                with formatter.section(title):
                    formatter.write_dl(rows)
            return
        from nemotron.kit.cli._render import print_help

        print_help(self, ctx, panels)


class RecipeGroup(SuggestingGroup):
    """A recipe group (`nano3`, `nano3 data prep`): subcommands are stages or groups."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        from nemotron.kit.cli._profiles import default_before_command

        return super().parse_args(ctx, default_before_command(args, self.list_commands(ctx)))


def _group_options(
    config: ConfigOpt = None, run: RunOpt = None, batch: BatchOpt = None, dry_run: DryRunOpt = False
) -> None:
    """Options given here apply to the stage named after them (read back by collect_options)."""


def _stage_callback(stage: Stage) -> Any:
    def command(
        ctx: typer.Context,
        overrides: OverridesArg = None,
        config: ConfigOpt = None,
        run: RunOpt = None,
        batch: BatchOpt = None,
        dry_run: DryRunOpt = False,
    ) -> None:
        from nemotron.kit.cli._flow import run_stage

        options = collect_options(ctx, overrides or ())
        code = run_stage(stage, options, command_path=ctx.command_path)
        if code:
            raise typer.Exit(code)

    command.__doc__ = stage.help
    command.__name__ = f"stage_{stage.name}"
    command.__nemotron_stage__ = stage  # type: ignore[attr-defined]
    return command


class RecipeApp(typer.Typer):
    """A recipe group: `RecipeApp("nano3", help=...)`, then `.stage(...)` and `.group(...)`.

    Register it under the `nemotron.recipes` entry-point group
    (`nano3 = "nemotron.recipes.nano3.cli:app"`) to appear as `nemotron nano3`.
    """

    def __init__(self, name: str, *, help: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("rich_markup_mode", "rich")
        super().__init__(name=name, help=help, cls=RecipeGroup, add_completion=False, **kwargs)
        self.callback()(_group_options)
        self.stages: dict[str, Stage] = {}
        self.groups: dict[str, RecipeApp] = {}

    def stage(
        self,
        name: str,
        *,
        help: str,
        module: str | None = None,
        script: str | Path | None = None,
        config_dir: str | Path | None = None,
        default_config: str = "default",
        inputs: Sequence[ArtifactInput] = (),
        examples: Sequence[str] = (),
        config_class: type | None = None,
        launcher: Launcher = "task",
        panel: str | None = None,
    ) -> Stage:
        """Declare a stage command `name` and return its `Stage`.

        Args:
            name: Command name.
            help: Help paragraph (first line is the short help).
            module: Module to run with `python -m` (or give `script`).
            script: Script path to run with `python` (or give `module`).
            config_dir: Folder of named configs.
            default_config: Config name used without `-c`.
            inputs: Artifact inputs the stage expects.
            examples: Example command lines shown in help.
            config_class: Dataclass the resolved config must validate into.
            launcher: `task` (one process, the default), `torchrun` or `ray`.
            panel: Help panel to list the stage under in its group's help.
        """
        spec = Stage(
            name=name,
            help=help,
            module=module,
            script=Path(script) if script is not None else None,
            config_dir=Path(config_dir) if config_dir is not None else None,
            default_config=default_config,
            inputs=tuple(inputs),
            examples=tuple(examples),
            config_class=config_class,
            launcher=launcher,
        )
        self.command(name, cls=StageCommand, help=help, rich_help_panel=panel)(
            _stage_callback(spec)
        )
        self.stages[name] = spec
        return spec

    def group(self, name: str, *, help: str = "", panel: str | None = None) -> RecipeApp:
        """Declare a nested group (`nemotron nano3 data prep ...`) and return it."""
        sub = RecipeApp(name, help=help)
        self.add_typer(sub, name=name, rich_help_panel=panel)
        self.groups[name] = sub
        return sub

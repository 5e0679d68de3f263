"""`nemotron env list|show|check`: the env.toml profiles in effect."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["env_app"]

env_app = typer.Typer(
    name="env",
    help="Inspect and validate env.toml execution profiles.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

EnvFileOpt = Annotated[
    str | None,
    typer.Option(
        "--env-file",
        metavar="PATH",
        help="env.toml to use (default: $NEMOTRON_ENV_FILE, else found upward).",
    ),
]


@env_app.command("list")
def list_profiles(env_file: EnvFileOpt = None) -> None:
    """List the profiles of env.toml with their executor kind and description."""
    from nemotron.kit.run import load_env

    env = load_env(env_file)
    if env.path is None:
        typer.echo("no env.toml found; stages run here with the local defaults. Looked in:")
        for path in env.searched:
            typer.echo(f"  {path}")
        return
    typer.echo(f"# {env.path}")
    for name in env.profile_names:
        try:
            profile = env.profile(name)
            kind = type(profile).__struct_config__.tag
            typer.echo(f"{name:<24} {kind:<9} {profile.description}".rstrip())
        except Exception as err:
            typer.echo(f"{name:<24} {'invalid':<9} {err}")


@env_app.command("show")
def show_profile(
    name: Annotated[str, typer.Argument(help="Profile name.")], env_file: EnvFileOpt = None
) -> None:
    """Show one profile after `extends` is resolved (secrets masked), as TOML."""
    import msgspec
    import tomlkit

    from nemotron.kit.config import redact
    from nemotron.kit.run import load_env

    profile = load_env(env_file).profile(name)
    data = {k: v for k, v in msgspec.to_builtins(profile).items() if v not in (None, [], {})}
    typer.echo(tomlkit.dumps({name: redact(data)}), nl=False)


@env_app.command("check")
def check(env_file: EnvFileOpt = None) -> None:
    """Validate every profile and settings table; report all problems at once (exit 2 if any)."""
    from nemotron.kit.run import check_env, load_env

    env = load_env(env_file)
    problems: list[object] = list(check_env(env_file))
    if env.path is not None and env.wandb:  # kit-lineage owns the [wandb] schema
        from nemotron.kit.lineage import wandb_settings_from
        from nemotron.kit.lineage.errors import WandbConfigError

        try:
            wandb_settings_from({"wandb": env.wandb})
        except WandbConfigError as err:
            problems.append(f"{env.path}: [wandb] {err.key}: {err}")
    if env.path is None and not problems:
        typer.echo("no env.toml found: nothing to check (stages run here with the local defaults)")
        return
    for problem in problems:
        typer.echo(f"{problem}", err=True)
    if problems:
        typer.echo(f"{env.path}: {len(problems)} problem(s)", err=True)
        raise typer.Exit(2)
    typer.echo(f"{env.path}: {len(env.profile_names)} profile(s) OK")

"""`nemotron artifacts list|show|lineage|verify|alias|rm`: the artifact registry.

REF is `Name` (latest), `Name:vN`, `Name:N`, `Name:ALIAS` or `art://Name:...`. The registry is
the active one: `$NEMOTRON_ARTIFACTS_ROOT`, else `~/.nemotron/artifacts`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from nemotron.kit.artifacts.errors import UserError

__all__ = ["artifacts_app", "split_ref"]

artifacts_app = typer.Typer(
    name="artifacts",
    help="Browse, verify, tag and delete published artifacts; show their lineage.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

RefArg = Annotated[
    str, typer.Argument(metavar="REF", help="Name, Name:vN, Name:ALIAS or art://Name:...")
]


class BadRefError(UserError):
    """REF is not `Name[:version|alias]`."""

    def __init__(self, ref: str, reason: str) -> None:
        self.ref = ref
        super().__init__(f"artifact reference {ref!r}: {reason}; use Name, Name:vN or Name:ALIAS")


def split_ref(ref: str) -> tuple[str, str | None]:
    """`art://Name:v3` / `Name:v3` / `Name` -> (name, selector or None for latest)."""
    text = ref.removeprefix("art://")
    name, sep, selector = text.partition(":")
    if not name or (sep and not selector):
        raise BadRefError(ref, "empty name or version")
    return name, selector or None


def _registry() -> Any:
    from nemotron.kit.artifacts import get_registry

    return get_registry()


@artifacts_app.command("list")
def list_(
    name: Annotated[str | None, typer.Argument(help="List this name's versions.")] = None,
) -> None:
    """List artifact names (latest version, type, aliases) or one name's versions."""
    registry = _registry()
    if name is None:
        names = registry.list_names()
        if not names:
            typer.echo(f"no artifacts in {registry.root}")
            return
        typer.echo(f"{'NAME':<32} {'LATEST':<8} {'TYPE':<24} ALIASES")
        for item in names:
            latest = registry.latest_version(item)
            if latest is None:
                continue
            kind = type(registry.resolve(item, latest)).__name__
            aliases = ", ".join(f"{a}->v{v}" for a, v in registry.aliases(item).items())
            typer.echo(f"{item:<32} {'v' + str(latest):<8} {kind:<24} {aliases}".rstrip())
        return
    aliases = registry.aliases(name)
    versions = registry.list_versions(name)
    if not versions:
        registry.resolve(name)  # raises the not-found error with suggestions
    typer.echo(f"{'URI':<36} {'TYPE':<24} {'CREATED':<26} {'RUN':<40} PATH")
    for art in versions:
        tags = [a for a, v in aliases.items() if v == art.version]
        run = art.producer.run_id if art.producer is not None else "-"
        uri = art.uri + (f" ({', '.join(tags)})" if tags else "")
        typer.echo(
            f"{uri:<36} {type(art).__name__:<24} {art.created_at!s:<26} {run:<40} {art.path}"
        )


@artifacts_app.command("show")
def show(ref: RefArg) -> None:
    """Print an artifact's metadata (type, path, inputs, producer run, digest) as JSON."""
    import json

    import msgspec

    name, selector = split_ref(ref)
    artifact = _registry().resolve(name, selector)
    data = {"uri": artifact.uri, "type": type(artifact).__name__, **msgspec.to_builtins(artifact)}
    typer.echo(json.dumps(data, indent=2, default=str))


@artifacts_app.command("lineage")
def lineage(
    ref: RefArg,
    descendants: Annotated[
        bool, typer.Option("--descendants", help="Show what was made from REF instead.")
    ] = False,
    fmt: Annotated[
        Literal["text", "mermaid", "json"],
        typer.Option("--format", "-f", help="text tree, mermaid flowchart or JSON."),
    ] = "text",
) -> None:
    """Show what REF was made from (or, with --descendants, what was made from it)."""
    from nemotron.kit.lineage import LineageGraph

    name, selector = split_ref(ref)
    target = f"{name}:{selector or 'latest'}"
    graph = LineageGraph.from_registry(_registry())
    direction: Literal["ancestors", "descendants"] = "descendants" if descendants else "ancestors"
    if fmt == "text":
        typer.echo(graph.to_text(target, direction))
        return
    sub = graph.subgraph(target, direction)
    typer.echo(sub.to_mermaid() if fmt == "mermaid" else sub.to_json())


@artifacts_app.command("verify")
def verify(ref: RefArg) -> None:
    """Recompute the content digest of REF's data and compare (exit 1 on mismatch)."""
    name, selector = split_ref(ref)
    registry = _registry()
    artifact = registry.resolve(name, selector)
    if registry.verify(name, artifact.version):
        typer.echo(f"{artifact.uri}: OK ({artifact.digest})")
        return
    typer.echo(f"{artifact.uri}: digest MISMATCH: the data at {artifact.path} changed", err=True)
    raise typer.Exit(1)


@artifacts_app.command("alias")
def alias(
    ref: RefArg,
    name: Annotated[str, typer.Argument(metavar="ALIAS", help="Alias to set (or remove).")],
    remove: Annotated[bool, typer.Option("--remove", help="Remove ALIAS instead.")] = False,
) -> None:
    """Point ALIAS at REF's version (e.g. `alias Model:v3 best`), or remove it."""
    artifact_name, selector = split_ref(ref)
    registry = _registry()
    if remove:
        registry.untag(artifact_name, name)
        typer.echo(f"removed alias {artifact_name}:{name}")
        return
    version = registry.alias(artifact_name, selector, name)
    typer.echo(f"art://{artifact_name}:{name} -> v{version}")


@artifacts_app.command("rm")
def rm(
    ref: RefArg,
    force: Annotated[
        bool, typer.Option("--force", help="Also remove aliases pointing at the version.")
    ] = False,
) -> None:
    """Delete one version (Name:vN or Name:ALIAS; its number is never reused)."""
    name, selector = split_ref(ref)
    if selector is None or selector == "latest":
        raise BadRefError(ref, "name the version to delete explicitly")
    registry = _registry()
    version = registry.resolve(name, selector).version
    registry.delete(name, version, force=force)
    typer.echo(f"deleted art://{name}:v{version}")

"""`nemotron artifacts list|show|lineage|verify|alias|rm`: the artifact registry.

REF is anything kit-artifacts' `parse_ref` reads: `Name` (latest), `Name:vN`, `Name:N`,
`Name:ALIAS`, `art://Name:...`, or `art:///abs/path` / a path to a published artifact's data.
The registry is the active one: `$NEMOTRON_ARTIFACTS_ROOT`, else env.toml's `[artifacts] root`
(the one the project's cluster jobs publish to), else `~/.nemotron/artifacts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from nemotron.kit.artifacts.errors import UserError, clip

if TYPE_CHECKING:
    from nemotron.kit.artifacts import Artifact, ArtURI, CorruptMetadataError

__all__ = ["artifacts_app"]

artifacts_app = typer.Typer(
    name="artifacts",
    help="Browse, verify, tag and delete published artifacts; show their lineage.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@artifacts_app.callback()
def _project_registry() -> None:
    """Without NEMOTRON_ARTIFACTS_ROOT, env.toml's `[artifacts] root` is the registry."""
    import os

    if os.environ.get("NEMOTRON_ARTIFACTS_ROOT"):
        return
    from nemotron.kit.run import load_env

    root = load_env().artifacts.root
    if root:
        from nemotron.kit.artifacts import set_registry

        set_registry(root)


RefArg = Annotated[
    str,
    typer.Argument(
        metavar="REF", help="Name, Name:vN, Name:ALIAS, art://Name:... or art:///abs/path"
    ),
]


class UnpublishedRefError(UserError):
    """A path REF whose artifact is not a registry version, given where one is needed."""

    def __init__(self, ref: str, command: str) -> None:
        self.ref = ref
        super().__init__(
            f"artifact reference {clip(ref)!r} is not a published version (its metadata has no "
            f"registry name and version): `nemotron artifacts {command}` needs Name:vN"
        )


def _registry() -> Any:
    from nemotron.kit.artifacts import get_registry

    return get_registry()


def _parse(ref: str) -> ArtURI:
    from nemotron.kit.artifacts import parse_ref

    return parse_ref(ref)


def _version_of(ref: str, command: str) -> tuple[str, Any]:
    """(name, selector) REF names; a path REF is read to find its published name and version."""
    uri = _parse(ref)
    if uri.name is not None:
        return uri.name, uri.selector
    from nemotron.kit.artifacts import resolve

    artifact = resolve(uri)
    if artifact.name is None or artifact.version is None:
        raise UnpublishedRefError(ref, command)
    return artifact.name, artifact.version


def _warn_corrupt(bad: list[CorruptMetadataError]) -> None:
    for err in bad:
        typer.echo(f"warning: skipped {err}", err=True)
    if bad:
        typer.echo(
            f"warning: {len(bad)} corrupt record(s) skipped; remove one with "
            "`nemotron artifacts rm NAME:vN`",
            err=True,
        )


@artifacts_app.command("list")
def list_(
    name: Annotated[str | None, typer.Argument(help="List this name's versions.")] = None,
) -> None:
    """List artifact names (latest version, type, aliases) or one name's versions."""

    registry = _registry()
    bad: list[CorruptMetadataError] = []
    if name is None:
        names = registry.list_names()
        if not names:
            typer.echo(f"no artifacts in {registry.root}")
            return
        typer.echo(f"{'NAME':<32} {'LATEST':<8} {'TYPE':<24} ALIASES")
        for item in names:
            versions = registry.list_versions(item, bad=bad)
            if not versions:
                continue
            latest = versions[-1]
            aliases = ", ".join(f"{a}->v{v}" for a, v in registry.aliases(item).items())
            row = f"{item:<32} {'v' + str(latest.version):<8} {type(latest).__name__:<24} {aliases}"
            typer.echo(row.rstrip())
        _warn_corrupt(bad)
        return
    aliases = registry.aliases(name)
    versions = registry.list_versions(name, bad=bad)
    if not versions and not bad:
        registry.resolve(name)  # raises the not-found error with suggestions
    typer.echo(f"{'URI':<36} {'TYPE':<24} {'CREATED':<26} {'RUN':<40} PATH")
    for art in versions:
        tags = [a for a, v in aliases.items() if v == art.version]
        run = art.producer.run_id if art.producer is not None else "-"
        uri = art.uri + (f" ({', '.join(tags)})" if tags else "")
        typer.echo(
            f"{uri:<36} {type(art).__name__:<24} {art.created_at!s:<26} {run:<40} {art.path}"
        )
    _warn_corrupt(bad)


@artifacts_app.command("show")
def show(ref: RefArg) -> None:
    """Print an artifact's metadata (type, path, inputs, producer run, digest) as JSON."""
    import json

    import msgspec

    from nemotron.kit.artifacts import resolve

    artifact = resolve(ref)
    data = {"uri": artifact.uri, "type": type(artifact).__name__, **msgspec.to_builtins(artifact)}
    typer.echo(json.dumps(data, indent=2, default=str))


def _lineage_id(ref: str) -> str:
    """The lineage node id of REF: `Name:SEL` for a registry ref, the version a path holds."""
    uri = _parse(ref)
    if uri.name is not None:
        return uri.short
    from nemotron.kit.artifacts import resolve

    return resolve(uri).uri


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

    target = _lineage_id(ref)
    graph = LineageGraph.from_registry(_registry())
    _warn_corrupt(graph.skipped)
    direction: Literal["ancestors", "descendants"] = "descendants" if descendants else "ancestors"
    if fmt == "text":
        typer.echo(graph.to_text(target, direction))
        return
    sub = graph.subgraph(target, direction)
    typer.echo(sub.to_mermaid() if fmt == "mermaid" else sub.to_json())


@artifacts_app.command("verify")
def verify(ref: RefArg) -> None:
    """Recompute the content digest of REF's data and compare (exit 1 naming each missing or
    changed file)."""
    from nemotron.kit.artifacts import digest_problems, resolve

    artifact: Artifact = resolve(ref)
    problems = digest_problems(artifact)
    if not problems:
        typer.echo(f"{artifact.uri}: OK ({artifact.digest})")
        return
    for problem in problems:
        typer.echo(f"{artifact.uri}: {problem} (data at {artifact.path})", err=True)
    raise typer.Exit(1)


@artifacts_app.command("alias")
def alias(
    ref: RefArg,
    name: Annotated[str, typer.Argument(metavar="ALIAS", help="Alias to set (or remove).")],
    remove: Annotated[
        bool,
        typer.Option(
            "--remove",
            help="Remove ALIAS instead (refused if REF names a version ALIAS does not point at).",
        ),
    ] = False,
) -> None:
    """Point ALIAS at REF's version (e.g. `alias Model:v3 best`), or remove it."""
    from nemotron.kit.artifacts import ArtURI

    artifact_name, selector = _version_of(ref, "alias")
    registry = _registry()
    if remove:
        pinned = selector if isinstance(selector, int) else None
        if pinned is None and selector != "latest":  # `Name:best` names the alias's own target
            pinned = registry.version_number(artifact_name, selector)
        registry.untag(artifact_name, name, pinned)
        typer.echo(f"removed alias {ArtURI(artifact_name, name)}")
        return
    version = registry.alias(artifact_name, selector, name)
    typer.echo(f"{ArtURI(artifact_name, name)} -> v{version}")


@artifacts_app.command("rm")
def rm(
    ref: RefArg,
    force: Annotated[
        bool, typer.Option("--force", help="Also remove aliases pointing at the version.")
    ] = False,
) -> None:
    """Delete one version (Name:vN or Name:ALIAS; its number is never reused).

    A version whose record is corrupt can be deleted too (by number).
    """
    from nemotron.kit.artifacts import ArtURI, VersionInUseError

    name, selector = _version_of(ref, "rm")
    if selector == "latest":
        raise UserError(
            f"refusing to delete {clip(ref)!r}: name the version to delete explicitly "
            "(Name:vN or Name:ALIAS); `nemotron artifacts list NAME` shows them"
        )
    registry = _registry()
    version = registry.version_number(name, selector)
    try:
        registry.delete(name, version, force=force)
    except VersionInUseError as err:
        fix = (
            f"remove them first (`nemotron artifacts alias {name}:v{version} ALIAS --remove`) "
            "or delete with --force"
        )
        raise VersionInUseError(err.name, err.version, err.aliases, fix) from None
    typer.echo(f"deleted {ArtURI(name, version)}")

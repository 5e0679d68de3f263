"""Errors of nemotron.kit.artifacts, and the roots every kit package's errors derive from.

    NemotronError                 anything kit raises on purpose
    ├── UserError                 a mistake the user can fix (bad name, file, key); CLI exit 2
    │   └── ... (per package)
    └── RunError                  a failure while doing the work (job failed, I/O); CLI exit 1

`str(err)` is one line that says what is wrong, where, and how to fix it.
"""

from __future__ import annotations


class NemotronError(Exception):
    """Base of every error kit raises on purpose."""

    exit_code = 1


class UserError(NemotronError):
    """A mistake in the user's input: printed as one line, exit code 2."""

    exit_code = 2


class RunError(NemotronError):
    """A failure while running (a job failed, storage broke): exit code 1."""


# ---------------------------------------------------------------- kit-artifacts errors
#
#   UserError
#   ├── ArtifactNotFoundError     no artifact of that name / at that path (with suggestions)
#   ├── VersionNotFoundError      the name exists, the version does not (lists versions)
#   │   └── AliasNotFoundError    ... nor the alias (lists the aliases)
#   ├── AliasMismatchError        removing NAME:vN's alias that points at another version
#   ├── InvalidNameError          artifact or alias name unsafe (`../x`, `/`, empty, ...)
#   ├── InvalidURIError           not an art:// URI we understand
#   ├── CorruptMetadataError      metadata.json / registry record unreadable (file + problem)
#   ├── ArtifactTypeError         metadata of another type than the class asked for
#   ├── VersionInUseError         delete refused: aliases point at the version
#   ├── NoDigestError             verify asked for an artifact published without a digest
#   ├── RegistryRootError         the registry root cannot be opened (unknown scheme, extra missing)
#   └── RegistryReadOnlyError     the registry cannot be written (permissions, read-only mount)
#   RunError
#   └── RegistryError             the registry storage failed (I/O, exhausted retries)

MAX_ECHO = 200
"""Echoed user input (names, URIs, paths) is cut to this many characters (a 3000-character
name stays readable; real paths fit)."""


def clip(text: object, limit: int = MAX_ECHO) -> str:
    """`repr`-free text of user input, cut to `limit` characters with a note of the rest."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def quoted(text: object) -> str:
    """User input quoted for a message, cut to a sane length (see `clip`)."""
    return repr(clip(text))


def _versions_text(versions: list[int]) -> str:
    """`[1, 2, 3, 7]` -> `v1..v3, v7` so a 100k-version list stays one short line."""
    if not versions:
        return "none"
    parts: list[str] = []
    start = prev = versions[0]
    for v in [*versions[1:], None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        parts.append(f"v{start}" if start == prev else f"v{start}..v{prev}")
        if v is not None:
            start = prev = v
    text = ", ".join(parts[:10])
    return text + (f", ... ({len(parts) - 10} more ranges)" if len(parts) > 10 else "")


class ArtifactNotFoundError(UserError):
    """No artifact with this name in the registry (or no artifact data at this path)."""

    def __init__(self, name: str, root: str | None, suggestions: list[str] | None = None) -> None:
        self.name = name
        self.root = root
        self.suggestions = list(suggestions or [])
        if root is None:
            message = f"no artifact at {clip(name)}: the path does not exist; check the path or URI"
        else:
            hint = (
                f"did you mean {', '.join(repr(s) for s in self.suggestions)}?"
                if self.suggestions
                else "publish it first (run the stage that makes it, or artifact.save(name=...)) "
                "or check the registry root (NEMOTRON_ARTIFACTS_ROOT, env.toml [artifacts] root)"
            )
            message = f"artifact {quoted(name)} not found in registry {root}: {hint}"
        super().__init__(message)


class VersionNotFoundError(UserError):
    """The artifact exists but not the version or alias asked for."""

    def __init__(self, name: str, version: str, available: list[int]) -> None:
        self.name = name
        self.version = version
        self.available = list(available)
        super().__init__(
            f"artifact {quoted(name)} has no version {quoted(version)}; existing versions: "
            f"{_versions_text(self.available)} (use :latest, :vN or an alias)"
        )


class AliasNotFoundError(VersionNotFoundError):
    """The artifact exists but has no alias of this name."""

    def __init__(self, name: str, alias: str, aliases: dict[str, int]) -> None:
        self.name = name
        self.version = alias
        self.alias = alias
        self.available = sorted(set(aliases.values()))
        known = ", ".join(f"{a}->v{v}" for a, v in sorted(aliases.items())[:10]) or "none"
        UserError.__init__(
            self,
            f"artifact {quoted(name)} has no alias {quoted(alias)}; its aliases: {known} "
            "(set one with `nemotron artifacts alias NAME:vN ALIAS`)",
        )


class AliasMismatchError(UserError):
    """Removing `NAME:vN`'s alias while the alias points at another version."""

    def __init__(self, name: str, alias: str, asked: int, actual: int) -> None:
        self.name = name
        self.alias = alias
        self.asked = asked
        self.actual = actual
        super().__init__(
            f"alias {quoted(alias)} of {name} points at v{actual}, not v{asked}: nothing removed; "
            f"to remove it anyway name its version ({name}:v{actual}) or just the name ({name})"
        )


class InvalidNameError(UserError):
    """An artifact or alias name that is empty, too long or could escape the registry."""

    def __init__(self, name: str, reason: str, kind: str = "artifact name") -> None:
        self.name = name
        self.reason = reason
        self.kind = kind
        super().__init__(
            f"invalid {kind} {quoted(name)}: {reason}; use letters, digits, '.', '_' and '-' "
            "starting with a letter or digit (at most 128 characters)"
        )


class InvalidURIError(UserError):
    """A string that is not an `art://` URI of a supported form."""

    def __init__(self, uri: str, reason: str) -> None:
        self.uri = uri
        self.reason = reason
        super().__init__(
            f"invalid artifact reference {quoted(uri)}: {reason}; expected "
            "[art://]NAME[:latest|:vN|:ALIAS] or art:///absolute/path"
        )


class CorruptMetadataError(UserError):
    """A metadata file that is missing, truncated or does not match the schema."""

    def __init__(self, file: str, problem: str) -> None:
        self.file = file
        self.problem = problem
        super().__init__(
            f"corrupt artifact metadata {file}: {problem}; restore or re-save the artifact"
        )


class ArtifactTypeError(UserError):
    """The metadata is of a type the requested class cannot load."""

    def __init__(self, source: str, expected: str, found: str) -> None:
        self.source = source
        self.expected = expected
        self.found = found
        super().__init__(
            f"{source} holds a {found!r} artifact, not a {expected!r}; "
            f"load it with {found}.load(...) or Artifact.load(...)"
        )


class VersionInUseError(UserError):
    """Deleting a version that aliases still point at."""

    def __init__(self, name: str, version: int, aliases: list[str], fix: str = "") -> None:
        self.name = name
        self.version = version
        self.aliases = list(aliases)
        fix = fix or "untag those aliases first or delete with force=True"
        super().__init__(
            f"artifact {name}:v{version} is aliased as {', '.join(self.aliases)}; {fix}"
        )


class NoDigestError(UserError):
    """Verifying an artifact that was published without a content digest."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(
            f"artifact {clip(uri)} has no content digest to verify: it was published without "
            "one; publish a new version with a digest (data prep stages record one; in Python "
            "save(..., digest=True))"
        )


class RegistryRootError(UserError):
    """The registry root is a URL no installed fsspec backend can open."""

    def __init__(self, root: str, problem: str) -> None:
        self.root = root
        self.problem = problem
        super().__init__(
            f"artifact registry root {quoted(root)}: {problem}; set NEMOTRON_ARTIFACTS_ROOT "
            "(or the profile's registry root) to a folder or a supported URL"
        )


class RegistryReadOnlyError(UserError):
    """The registry refused a write (permissions, read-only mount)."""

    def __init__(self, root: str, problem: str) -> None:
        self.root = root
        self.problem = problem
        super().__init__(
            f"artifact registry {root} is not writable ({problem}); fix its permissions or set "
            "NEMOTRON_ARTIFACTS_ROOT to a writable folder"
        )


class RegistryError(RunError):
    """The registry storage failed (I/O error, too much contention)."""

    def __init__(self, root: str, problem: str) -> None:
        self.root = root
        self.problem = problem
        super().__init__(f"artifact registry {root}: {problem}")

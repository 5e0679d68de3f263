"""Resolving interpolations: `${oc.env:...}`, key references and `${art:NAME,FIELD}`.

`${art:NAME,FIELD}` reads the artifact named by `run.NAME` (an `art://` URI, a bare
`Name:version`, or a path: kit-artifacts' `parse_ref` decides) or by a direct `art://...` URI,
through kit-artifacts' `use_artifact` (`resolve` + recording it as an input of the current run). FIELD is `path` (the
default), `version`, `uri`, any attribute of the artifact, or a key of its `metadata`.
Nothing touches the registry until such an interpolation is actually resolved, and each
config resolves a given reference once (so `latest` means one version for the whole config).
"""

from __future__ import annotations

import re
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from nemotron.kit.artifacts.errors import NemotronError
from nemotron.kit.config._keys import IdentityWeakMap
from nemotron.kit.config.errors import (
    ArtifactReferenceError,
    InterpolationError,
    MissingEnvVarError,
)

_ENV_MISSING = re.compile(r"Environment variable '([^']+)' not found")
_ARTIFACTS = IdentityWeakMap()  # root config -> {reference: artifact}


def resolve_to_container(cfg: DictConfig | ListConfig) -> Any:
    """Resolve every interpolation and return plain dicts/lists (`???` stays as is).

    Raises:
        InterpolationError: one line naming the key and the fix (a missing env var, an
            unknown `${art:...}` artifact, a reference to a missing key).
    """
    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    except OmegaConfBaseException as exc:
        raise translate_interpolation_error(exc) from exc


def translate_interpolation_error(exc: OmegaConfBaseException) -> InterpolationError:
    """Turn an OmegaConf resolution error into one line naming the key and the fix."""
    key = str(getattr(exc, "full_key", "") or "?")
    cause: BaseException | None = exc
    while cause is not None:  # OmegaConf re-raises resolver errors; the original is chained
        if isinstance(cause, InterpolationError):
            return cause
        if isinstance(cause, NemotronError):
            return InterpolationError(key, str(cause))
        cause = cause.__cause__ or cause.__context__
    message = str(exc).splitlines()[0]
    if (m := _ENV_MISSING.search(message)) is not None:
        return MissingEnvVarError(key, m[1])
    return InterpolationError(key, message)


def _art_resolver(name: str, field: str = "path", *, _root_: Any, _node_: Any) -> Any:
    key = getattr(_node_, "_get_full_key", lambda _k: "?")(None) or "?"
    ref = _reference(str(name), _root_, key)
    cache = _ARTIFACTS.get(_root_)
    if cache is None:
        cache = {}
        _ARTIFACTS.set(_root_, cache)
    if ref not in cache:
        from nemotron.kit.artifacts import use_artifact

        try:
            cache[ref] = use_artifact(ref)
        except NemotronError as exc:
            raise ArtifactReferenceError(key, f"${{art:{name},{field}}}: {exc}") from exc
    return _field(cache[ref], str(field), key, str(name))


def _reference(name: str, root: Any, key: str) -> str:
    """The reference `${art:NAME,...}` reads: a direct one, else the value of `run.NAME`."""
    if name.startswith("art://") or "/" in name:
        return name
    run = root.get("run") if isinstance(root, DictConfig) else None
    value = run.get(name) if isinstance(run, DictConfig) else None
    if not isinstance(value, str) or not value:
        raise ArtifactReferenceError(
            key,
            f"${{art:{name},...}} needs `run.{name}` set to an artifact "
            f"(e.g. run.{name}: art://{name}:latest) or a direct art:// URI",
        )
    return value  # kit-artifacts' parse_ref decides: art://, bare Name:vN, or a path


def _field(artifact: Any, field: str, key: str, name: str) -> Any:
    import msgspec

    if field == "uri":
        return getattr(artifact, "uri", None)
    extras = {
        **(getattr(artifact, "extra", None) or {}),
        **(getattr(artifact, "metadata", None) or {}),
    }
    attribute = getattr(artifact, field, None) if not field.startswith("_") else None
    if attribute is not None or (hasattr(artifact, field) and field not in extras):
        value = attribute
    elif field in extras:
        value = extras[field]
    else:
        names = [*getattr(type(artifact), "__struct_fields__", ()), "uri", *sorted(extras)]
        raise ArtifactReferenceError(
            key, f"artifact '{name}' has no field '{field}'; it has {', '.join(names)}"
        )
    return msgspec.to_builtins(value, enc_hook=str)


def register_resolvers() -> None:
    """Register `${art:...}` once per process (OmegaConf resolvers are global)."""
    if not OmegaConf.has_resolver("art"):
        OmegaConf.register_new_resolver("art", _art_resolver)

"""Typed, versioned, path-centric artifacts with `art://` URIs and an embedded registry.

An artifact is data at a `path` plus typed metadata (a msgspec Struct) written as
`metadata.json` beside the data. `save()` publishes it as the next immutable version of a
name in the active registry; `load()`, `from_uri()` and `use_artifact()` read it back.
`ArtURI` is the one artifact reference: `parse_ref()` reads any reference a user writes
(`art://NAME:vN`, bare `NAME:vN`, `art:///abs/path`, a path) and `str()` formats it;
`resolve(ref, expected_type)` turns one into the artifact, checking its type.

Names are imported on first use (msgspec itself takes longer to import than the interpreter
starts), so `import nemotron.kit.artifacts` stays instant.
"""

from __future__ import annotations

import importlib

from nemotron.kit.artifacts.errors import (
    AliasMismatchError,
    AliasNotFoundError,
    ArtifactNotFoundError,
    ArtifactTypeError,
    CorruptMetadataError,
    InvalidNameError,
    InvalidURIError,
    NemotronError,
    NoDigestError,
    RegistryError,
    RegistryReadOnlyError,
    RegistryRootError,
    RunError,
    UserError,
    VersionInUseError,
    VersionNotFoundError,
)

TYPE_CHECKING = False  # not `from typing import ...`: typing alone costs more than this package
if TYPE_CHECKING:
    from typing import Any

    from nemotron.kit.artifacts._digest import DigestWriter, check_files, compute_digest
    from nemotron.kit.artifacts._lineage import (
        LineageHook,
        get_lineage_tracker,
        set_lineage_tracker,
    )
    from nemotron.kit.artifacts._models import (
        Artifact,
        ModelArtifact,
        PretrainBlendsArtifact,
        SFTDataArtifact,
        SplitJsonlDataArtifact,
        registered_types,
    )
    from nemotron.kit.artifacts._names import ArtURI, check_name, parse_ref, parse_uri
    from nemotron.kit.artifacts._records import ArtifactRef, InputDatasetInfo, InputRef, RunInfo
    from nemotron.kit.artifacts._registry import (
        Registry,
        default_root,
        digest_problems,
        get_registry,
        resolve,
        set_registry,
        use_artifact,
        verify_digest,
    )
    from nemotron.kit.artifacts._run import current_run, record_input, reset_run, run_inputs

_LAZY = {
    "Artifact": "_models",
    "PretrainBlendsArtifact": "_models",
    "SFTDataArtifact": "_models",
    "SplitJsonlDataArtifact": "_models",
    "ModelArtifact": "_models",
    "registered_types": "_models",
    "ArtURI": "_names",
    "parse_uri": "_names",
    "parse_ref": "_names",
    "check_name": "_names",
    "ArtifactRef": "_records",
    "InputDatasetInfo": "_records",
    "InputRef": "_records",
    "RunInfo": "_records",
    "Registry": "_registry",
    "get_registry": "_registry",
    "set_registry": "_registry",
    "default_root": "_registry",
    "use_artifact": "_registry",
    "resolve": "_registry",
    "verify_digest": "_registry",
    "digest_problems": "_registry",
    "current_run": "_run",
    "reset_run": "_run",
    "record_input": "_run",
    "run_inputs": "_run",
    "LineageHook": "_lineage",
    "set_lineage_tracker": "_lineage",
    "get_lineage_tracker": "_lineage",
    "compute_digest": "_digest",
    "DigestWriter": "_digest",
    "check_files": "_digest",
}

__all__ = [
    "AliasMismatchError",
    "AliasNotFoundError",
    "ArtURI",
    "Artifact",
    "ArtifactNotFoundError",
    "ArtifactRef",
    "ArtifactTypeError",
    "CorruptMetadataError",
    "DigestWriter",
    "InputDatasetInfo",
    "InputRef",
    "InvalidNameError",
    "InvalidURIError",
    "LineageHook",
    "ModelArtifact",
    "NemotronError",
    "NoDigestError",
    "PretrainBlendsArtifact",
    "Registry",
    "RegistryError",
    "RegistryReadOnlyError",
    "RegistryRootError",
    "RunError",
    "RunInfo",
    "SFTDataArtifact",
    "SplitJsonlDataArtifact",
    "UserError",
    "VersionInUseError",
    "VersionNotFoundError",
    "check_files",
    "check_name",
    "compute_digest",
    "current_run",
    "default_root",
    "digest_problems",
    "get_lineage_tracker",
    "get_registry",
    "parse_ref",
    "parse_uri",
    "record_input",
    "registered_types",
    "reset_run",
    "resolve",
    "run_inputs",
    "set_lineage_tracker",
    "set_registry",
    "use_artifact",
    "verify_digest",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Typed, versioned, path-centric artifacts (skeleton; filled in by the kit-artifacts issue)."""

import msgspec

__all__ = [
    "Artifact",
    "InputDatasetInfo",
    "ModelArtifact",
    "PretrainBlendsArtifact",
    "SFTDataArtifact",
    "SplitJsonlDataArtifact",
]


class Artifact(msgspec.Struct, kw_only=True):
    path: str


class PretrainBlendsArtifact(Artifact, kw_only=True):
    total_tokens: int = 0


class SFTDataArtifact(Artifact, kw_only=True):
    pack_size: int = 4096


class SplitJsonlDataArtifact(Artifact, kw_only=True):
    pass


class ModelArtifact(Artifact, kw_only=True):
    step: int = 0
    loss: float | None = None


class InputDatasetInfo(msgspec.Struct, kw_only=True):
    uri: str

"""The publish latch: a cancel and a job's first publish exclude each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemotron.kit.artifacts import ModelArtifact, Registry
from nemotron.kit.artifacts.publish_point import (
    LATCH_ENV,
    PublishCancelledError,
    claim_cancel,
    latch_state,
)


def test_a_cancel_first_refuses_every_publish(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    latch = tmp_path / "publish.latch"
    monkeypatch.setenv(LATCH_ENV, str(latch))
    registry.publish(ModelArtifact(path=tmp_path, step=1), "before")  # no cancel yet: published
    assert latch_state(latch) == "publishing"
    assert claim_cancel(latch) is False  # past the publish point: the cancel loses

    other = tmp_path / "other.latch"
    monkeypatch.setenv(LATCH_ENV, str(other))
    assert latch_state(other) is None
    assert claim_cancel(other) is True and claim_cancel(other) is True
    with pytest.raises(PublishCancelledError, match="cancelled before it published"):
        registry.publish(ModelArtifact(path=tmp_path, step=2), "after")
    with pytest.raises(PublishCancelledError):
        registry.alias("before", 1, "best")
    assert registry.list_names() == ["before"] and registry.aliases("before") == {}
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".tmp") == []


def test_without_a_latch_nothing_is_checked(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LATCH_ENV, raising=False)
    assert registry.publish(ModelArtifact(path=tmp_path, step=1), "free").version == 1

"""W&B failures never stop a job: one warning, W&B skipped, lineage kept in the local record.

Uses the real wandb library in offline mode in this process (the conftest sets
`WANDB_MODE=offline`; test_wandb_offline.py proves offline runs touch no network).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nemotron.kit.artifacts import Artifact, PretrainBlendsArtifact, set_lineage_tracker
from nemotron.kit.lineage import (
    FileTracker,
    LineageGraph,
    WandbTracker,
    finish_wandb,
    get_lineage_tracker,
    init_wandb_if_configured,
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("NEMOTRON_RUN_ID", "flaky-run")
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb-data"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    yield
    finish_wandb(1)
    set_lineage_tracker(None)


def _artifact(tmp_path: Path, name: str) -> Artifact:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "x.bin").write_bytes(b"x" * 10)
    return Artifact(path=str(folder))


def test_wandb_failure_warns_once_and_keeps_lineage_locally(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = init_wandb_if_configured({"wandb": {"project": "p", "mode": "offline"}}, job_type="t")
    tracker = get_lineage_tracker()
    assert isinstance(tracker, WandbTracker) and isinstance(tracker.base, FileTracker)
    assert tracker.wandb_run is run

    _artifact(tmp_path, "ok").save(name="Ok")  # W&B still fine
    run.finish()  # the W&B run dies under the job
    with caplog.at_level(logging.WARNING, logger="nemotron.kit.lineage"):
        _artifact(tmp_path, "a").save(name="A")
        _artifact(tmp_path, "b").save(name="B")
    warnings = [r for r in caplog.records if r.name == "nemotron.kit.lineage"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    message = warnings[0].getMessage()
    assert message.startswith("W&B log A:v1 failed") and "flaky-run.json" in message
    assert tracker.failed

    finish_wandb(0)
    assert not tracker.active
    record = LineageGraph.from_registry().runs["flaky-run"]
    assert [a.ref for a in record.produced] == ["Ok:v1", "A:v1", "B:v1"]
    assert record.exit_code == 0 and record.wandb is not None and record.wandb["id"] == run.id


def test_tokenizer_named_only_by_field_becomes_its_own_artifact(
    tmp_path: Path, read_wandb: Callable[[Path], list[Any]]
) -> None:
    run = init_wandb_if_configured({"wandb": {"project": "p", "mode": "offline"}})
    folder = _artifact(tmp_path, "blend").path
    PretrainBlendsArtifact(path=folder, tokenizer="nvidia/Tok").save(name="Blend")
    finish_wandb(0)  # returns once wandb has written the run's log out
    run_folder = Path(run.dir).parent
    assert run_folder.is_relative_to(os.environ["WANDB_DIR"])  # this test's dir, not a stale one
    records = read_wandb(next(run_folder.glob("run-*.wandb")))
    arts = {
        r.artifact.name: r.artifact for r in records if r.WhichOneof("record_type") == "artifact"
    }
    assert set(arts) == {"tokenizer-nvidia-Tok", "Blend"}
    tok = arts["tokenizer-nvidia-Tok"]
    assert tok.type == "tokenizer" and tok.use_after_commit
    assert {c.path: c.ref for c in tok.manifest.contents}["source"] == "hf://nvidia/Tok"


def test_a_wandb_without_the_offline_use_call_warns_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Offline inputs need wandb's private `Run._log_artifact`; a wandb without it is named."""
    from wandb.sdk.wandb_run import Run

    monkeypatch.delattr(Run, "_log_artifact")  # what a wandb release that drops it looks like
    init_wandb_if_configured({"wandb": {"project": "p", "mode": "offline"}})
    folder = _artifact(tmp_path, "blend").path
    with caplog.at_level(logging.WARNING, logger="nemotron.kit.lineage"):
        PretrainBlendsArtifact(path=folder, tokenizer="nvidia/Tok").save(name="Blend")
        _artifact(tmp_path, "more").save(name="More")
    warnings = [r.getMessage() for r in caplog.records if r.name == "nemotron.kit.lineage"]
    assert len(warnings) == 1, warnings
    assert "WandbApiChangedError" in warnings[0]
    assert "has no Run._log_artifact(is_user_created=..., use_after_commit=...)" in warnings[0]
    finish_wandb(0)
    record = LineageGraph.from_registry().runs["flaky-run"]
    assert [a.ref for a in record.produced] == ["Blend:v1", "More:v1"]

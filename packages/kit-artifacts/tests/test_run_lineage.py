"""Run context, recorded inputs, producer info, and the lineage hook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nemotron.kit.artifacts import (
    Artifact,
    ArtifactRef,
    InputDatasetInfo,
    LineageHook,
    ModelArtifact,
    PretrainBlendsArtifact,
    current_run,
    get_lineage_tracker,
    record_input,
    run_inputs,
    set_lineage_tracker,
    use_artifact,
)
from nemotron.kit.artifacts.secrets import is_secret_key, redact_argv


class RecordingTracker:
    """A real LineageHook implementation that keeps what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def artifact_used(self, artifact: Artifact) -> None:
        self.events.append(("used", artifact.uri))

    def artifact_published(self, artifact: Artifact) -> None:
        self.events.append(("published", artifact.uri))


def test_run_id_from_env_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    generated = current_run().run_id
    assert generated and current_run() is current_run()
    monkeypatch.setenv("NEMOTRON_RUN_ID", "job-42")
    assert current_run().run_id == "job-42"
    current_run().config_digest = "xxh3_128:abc"  # what kit-config does
    assert current_run().config_digest == "xxh3_128:abc"


def test_run_info_captures_git_host_user_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    (repo / "f.txt").write_text("1")
    subprocess.run([*git, "-C", str(repo), "add", "f.txt"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "x"], check=True)
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    monkeypatch.chdir(repo)
    monkeypatch.setattr(sys, "argv", ["train.py", "wandb.api_key=SECRET", "lr=1e-4"])
    run = current_run()
    assert (run.git_commit, run.git_dirty) == (head, False)
    assert run.argv == ["train.py", "wandb.api_key=***", "lr=1e-4"]
    assert run.host and run.user and run.started_at is not None
    monkeypatch.setenv("NEMOTRON_RUN_ID", "second")
    (repo / "f.txt").write_text("2")
    assert current_run().git_dirty is True


def test_no_git_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert (current_run().git_commit, current_run().git_dirty) == (None, None)


def test_secret_keys_are_whole_words() -> None:
    secret = ["HF_TOKEN", "wandb.api_key", "apiKey", "--hf-token", "client_secret", "db.password"]
    plain = ["total_tokens", "tokenizer", "num_tokens", "keys", "api", "secretary_name"]
    assert [is_secret_key(k) for k in secret] == [True] * len(secret)
    assert [is_secret_key(k) for k in plain] == [False] * len(plain)


def test_redact_argv_forms() -> None:
    argv = ["x", "--token", "abc", "--hf-token=abc", "HF_TOKEN=abc", "password", "--lr", "1"]
    assert redact_argv(argv) == [
        "x",
        "--token",
        "***",
        "--hf-token=***",
        "HF_TOKEN=***",
        "password",
        "--lr",
        "1",
    ]


def test_use_artifact_records_inputs_and_save_fills_lineage(tmp_path: Path) -> None:
    tracker = RecordingTracker()
    assert isinstance(tracker, LineageHook)
    PretrainBlendsArtifact(path=tmp_path / "blend", total_tokens=9).save(name="blend")
    set_lineage_tracker(tracker)
    assert get_lineage_tracker() is tracker
    data = use_artifact("art://blend:latest", PretrainBlendsArtifact)
    assert data.total_tokens == 9
    use_artifact("art://blend:v1")  # the same version is recorded once
    source = InputDatasetInfo(uri="hf://nvidia/Nemotron-CC", split="train")
    record_input(source)
    extra = ArtifactRef(name="tok", version=3, type="Artifact", path="/tok")
    model = ModelArtifact(path=tmp_path / "ckpt", step=10, inputs=[extra])
    model.save(name="ModelArtifact-pretrain")
    assert model.inputs == [data.ref(), source, extra]
    assert model.producer is not None and model.producer.run_id == current_run().run_id
    assert model.producer.ended_at is not None
    assert tracker.events == [
        ("used", "art://blend:v1"),
        ("used", "art://blend:v1"),
        ("published", "art://ModelArtifact-pretrain:v1"),
    ]
    reloaded = ModelArtifact.from_uri("art://ModelArtifact-pretrain:v1")
    assert reloaded.inputs == model.inputs and reloaded.producer == model.producer
    assert run_inputs() == [data.ref(), source]


def test_use_artifact_by_path_and_artifact_inputs(tmp_path: Path) -> None:
    Artifact(path=tmp_path / "raw").save(name="raw")
    used = use_artifact(tmp_path / "raw")
    assert run_inputs() == [used.ref()]
    downstream = Artifact(path=tmp_path / "out", inputs=[used])  # type: ignore[list-item]
    downstream.save(name="out")
    assert downstream.inputs == [used.ref()]


def test_non_tracker_is_refused() -> None:
    with pytest.raises(TypeError, match="not a LineageHook"):
        set_lineage_tracker(object())  # type: ignore[arg-type]


def test_tracker_errors_reach_the_caller(tmp_path: Path) -> None:
    class Broken(RecordingTracker):
        def artifact_published(self, artifact: Artifact) -> None:
            raise RuntimeError("tracker down")

    set_lineage_tracker(Broken())
    with pytest.raises(RuntimeError, match="tracker down"):
        Artifact(path=tmp_path / "a").save(name="a")
    assert Artifact.from_uri("art://a").version == 1  # the publish itself happened

"""Artifact classes, metadata.json round trips, type dispatch and corrupt files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest

from nemotron.kit.artifacts import (
    Artifact,
    ArtifactNotFoundError,
    ArtifactRef,
    ArtifactTypeError,
    CorruptMetadataError,
    InputDatasetInfo,
    ModelArtifact,
    PretrainBlendsArtifact,
    SFTDataArtifact,
    SplitJsonlDataArtifact,
    UserError,
    registered_types,
)


def test_seed_example_works_as_written(tmp_path: Path) -> None:
    output_dir = tmp_path / "ckpt"  # a Path, as in the seed's dataclass config
    model = ModelArtifact(path=output_dir, step=10000, loss=2.5)
    model.save(name="ModelArtifact-pretrain")
    assert model.version == 1
    assert model.uri == "art://ModelArtifact-pretrain:v1"
    assert model.path == str(output_dir)

    blends = tmp_path / "blends"
    PretrainBlendsArtifact(path=blends, total_tokens=1_000_000, train_tokens=900_000).save()
    data = PretrainBlendsArtifact.load(blends)
    assert f"Training on {data.total_tokens:,} tokens" == "Training on 1,000,000 tokens"
    latest = PretrainBlendsArtifact.from_uri("art://PretrainBlendsArtifact:latest")
    assert (latest.path, latest.total_tokens, latest.version) == (str(blends), 1_000_000, 1)


def test_typed_subclass_fields_round_trip(tmp_path: Path) -> None:
    src = InputDatasetInfo(uri="hf://nvidia/x", name="x", split="train", weight=0.5, rows=10)
    cases: list[Artifact] = [
        PretrainBlendsArtifact(
            path=tmp_path / "p",
            train=["/d/train_0"],
            valid=["/d/valid_0"],
            total_tokens=7,
            num_shards=1,
            tokenizer="tok",
            blend_path="/d/blend.json",
            source_datasets=[src],
        ),
        SFTDataArtifact(
            path=tmp_path / "s",
            pack_size=8192,
            training_path="/d/t.npy",
            training_tokens=5,
            source_datasets=[src],
        ),
        SplitJsonlDataArtifact(
            path=tmp_path / "r",
            train_path="/d/train.jsonl",
            train_count=3,
            manifest_path="/d/manifest.json",
        ),
        ModelArtifact(path=tmp_path / "m", step=3, loss=1.25, format="hf"),
    ]
    for original in cases:
        original.save(name=f"case-{original.type}")
        loaded = Artifact.load(original.path)  # base class dispatches on the type tag
        assert type(loaded) is type(original)
        assert loaded == original


def test_user_subclass_registers_itself(tmp_path: Path) -> None:
    class EvalResultsArtifact(Artifact, kw_only=True):
        accuracy: float = 0.0

    class Renamed(Artifact, kw_only=True):
        artifact_type: ClassVar[str] = "custom.Renamed"

    assert registered_types()["EvalResultsArtifact"] is EvalResultsArtifact
    EvalResultsArtifact(path=tmp_path / "e", accuracy=0.9).save(name="evals")
    loaded = Artifact.from_uri("art://evals:v1")
    assert isinstance(loaded, EvalResultsArtifact) and loaded.accuracy == 0.9
    renamed = Renamed(path=tmp_path / "r")
    assert renamed.type == "custom.Renamed"
    assert isinstance(Artifact.load(renamed.save(name="renamed").path), Renamed)


def test_unknown_type_loads_as_artifact_with_everything_kept(tmp_path: Path) -> None:
    folder = tmp_path / "alien"
    folder.mkdir()
    content = {
        "schema_version": 1,
        "path": str(folder),
        "type": "AlienArtifact",
        "metadata": {"note": "kept"},
        "tentacles": 8,
        "nested": {"a": [1, 2]},
    }
    (folder / "metadata.json").write_text(json.dumps(content))
    loaded = Artifact.load(folder)
    assert type(loaded) is Artifact
    assert loaded.type == "AlienArtifact"
    assert loaded.metadata == {"note": "kept"}
    assert loaded.extra == {"tentacles": 8, "nested": {"a": [1, 2]}}
    loaded.save(name="alien")  # writes the unknown fields back unchanged
    rewritten = json.loads((folder / "metadata.json").read_text())
    assert rewritten["tentacles"] == 8 and rewritten["type"] == "AlienArtifact"
    assert "extra" not in rewritten
    with pytest.raises(ArtifactTypeError, match="'AlienArtifact' artifact, not a 'ModelArtifact'"):
        ModelArtifact.load(folder)


def test_wrong_type_for_the_class_asked(tmp_path: Path) -> None:
    ModelArtifact(path=tmp_path / "m", step=1).save(name="m")
    with pytest.raises(ArtifactTypeError) as info:
        PretrainBlendsArtifact.load(tmp_path / "m")
    err = info.value
    assert (err.expected, err.found) == ("PretrainBlendsArtifact", "ModelArtifact")
    assert isinstance(err, UserError) and "\n" not in str(err)
    with pytest.raises(ArtifactTypeError):
        PretrainBlendsArtifact.from_uri("art://m:latest")


def test_older_schema_without_version_field_still_loads(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "metadata.json").write_text(json.dumps({"path": str(folder), "step": 5}))
    loaded = ModelArtifact.load(folder)
    assert loaded.step == 5 and loaded.type == "ModelArtifact"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"schema_version": 1, "path": "/x", "type": "ModelArt', "truncated JSON"),
        (b"", "truncated JSON"),
        (b"not json", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'{"schema_version": 1, "path": "/x", "type": 3}', "field 'type' is missing"),
        (
            b'{"schema_version": 1, "path": "/x", "type": "ModelArtifact", "step": "ten"}',
            "Expected `int`, got `str` - at `$.step`",
        ),
        (b'{"schema_version": 99, "path": "/x", "type": "ModelArtifact"}', "upgrade kit-artifacts"),
    ],
)
def test_corrupt_metadata_names_file_and_problem(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "metadata.json").write_bytes(content)
    with pytest.raises(CorruptMetadataError) as info:
        Artifact.load(folder)
    assert info.value.file == str(folder / "metadata.json")
    assert problem in info.value.problem
    assert str(folder / "metadata.json") in str(info.value) and "\n" not in str(info.value)


def test_missing_data_and_missing_metadata(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFoundError, match="the path does not exist"):
        Artifact.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorruptMetadataError, match="file is missing"):
        Artifact.load(tmp_path / "empty")


def test_single_file_artifact_keeps_metadata_beside_it(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text('{"q": 1}\n')
    SplitJsonlDataArtifact(path=data, train_count=1).save(name="rl")
    assert (tmp_path / "train.jsonl.metadata.json").is_file()
    assert SplitJsonlDataArtifact.load(data).train_count == 1
    assert SplitJsonlDataArtifact.load(tmp_path / "train.jsonl.metadata.json").path == str(data)


def test_inputs_are_a_tagged_union(tmp_path: Path) -> None:
    ref = ArtifactRef(name="blend", version=2, type="PretrainBlendsArtifact", path="/d")
    ds = InputDatasetInfo(uri="hf://x", revision="abc")
    ModelArtifact(path=tmp_path / "m", inputs=[ref, ds]).save(name="m")
    raw = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert [i["kind"] for i in raw["inputs"]] == ["artifact", "dataset"]
    loaded = ModelArtifact.load(tmp_path / "m")
    assert loaded.inputs == [ref, ds]
    assert ref.uri == "art://blend:v2"


def test_metadata_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    for step in range(3):
        ModelArtifact(path=folder, step=step).save(name="m")
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json"]
    assert ModelArtifact.load(folder).step == 2


def test_secret_named_metadata_is_masked(tmp_path: Path) -> None:
    art = Artifact(path=tmp_path / "a", metadata={"wandb": {"api_key": "k-123"}, "HF_TOKEN": "t"})
    art.save(name="a")
    text = (tmp_path / "a" / "metadata.json").read_text()
    assert "k-123" not in text and '"t"' not in text
    assert Artifact.load(tmp_path / "a").metadata == {
        "wandb": {"api_key": "***"},
        "HF_TOKEN": "***",
    }


def test_metadata_temp_file_goes_beside_the_folder_never_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """metadata.json is written through a temp file in the folder's parent, so a kill during
    the write can leave nothing temporary inside a published folder."""
    from nemotron.kit.artifacts import _atomic

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "x.bin").write_bytes(b"1")
    real = _atomic.write_file_synced
    temps: list[str] = []
    monkeypatch.setattr(_atomic, "write_file_synced", lambda p, d: (temps.append(p), real(p, d)))
    ModelArtifact(path=str(folder), step=1).save(name="m")
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "x.bin"]
    beside = [t for t in temps if "metadata.json" in t]
    assert beside and all(Path(t).parent == tmp_path for t in beside)

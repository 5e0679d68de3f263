"""One artifact reference: `parse_ref` reads every form, `str(ArtURI)` formats it, `resolve`
checks the type, `produced_by` finds a run's versions, corrupt records are skipped and deletable."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from nemotron.kit.artifacts import (
    AliasMismatchError,
    AliasNotFoundError,
    Artifact,
    ArtifactTypeError,
    ArtURI,
    CorruptMetadataError,
    InvalidURIError,
    ModelArtifact,
    PretrainBlendsArtifact,
    Registry,
    RegistryReadOnlyError,
    RegistryRootError,
    RunInfo,
    UserError,
    VersionNotFoundError,
    parse_ref,
    resolve,
)
from nemotron.kit.artifacts.errors import MAX_ECHO


@pytest.mark.parametrize(
    ("ref", "parsed", "text"),
    [
        ("Model", ArtURI("Model", "latest"), "art://Model:latest"),
        ("Model:v3", ArtURI("Model", 3), "art://Model:v3"),
        ("Model:3", ArtURI("Model", 3), "art://Model:v3"),
        ("art://Model:3", ArtURI("Model", 3), "art://Model:v3"),
        ("Model:best", ArtURI("Model", "best"), "art://Model:best"),
        ("art:///abs/ckpt", ArtURI(path="/abs/ckpt"), "art:///abs/ckpt"),
        ("/abs/ckpt", ArtURI(path="/abs/ckpt"), "art:///abs/ckpt"),
        ("file:///abs/ckpt", ArtURI(path="/abs/ckpt"), "art:///abs/ckpt"),
        ("s3://bucket/x", ArtURI(path="s3://bucket/x"), "s3://bucket/x"),
    ],
)
def test_every_form_parses_and_formats_canonically(ref: str, parsed: ArtURI, text: str) -> None:
    assert parse_ref(ref) == parsed
    assert str(parsed) == text
    assert parse_ref(str(parsed)) == parsed  # the formatted text reads back the same


def test_relative_paths_need_a_separator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_ref("./data") == ArtURI(path=str(tmp_path / "data"))
    assert parse_ref("sub/data") == ArtURI(path=str(tmp_path / "sub" / "data"))
    assert parse_ref("~/x").path == os.path.expanduser("~/x")
    assert parse_ref("data").name == "data"  # bare: a registry name


def test_short_and_pinned() -> None:
    assert parse_ref("art://M:7").short == "M:v7" and parse_ref("M").short == "M:latest"
    assert parse_ref("M:v2").pinned and parse_ref("/x").pinned
    assert not parse_ref("M").pinned and not parse_ref("M:best").pinned


@pytest.mark.parametrize("ref", ["", "M:", "M:v1:x", "M:v0", "a b"])
def test_bad_refs_are_one_line_user_errors(ref: str) -> None:
    with pytest.raises(InvalidURIError) as info:
        parse_ref(ref)
    assert isinstance(info.value, UserError) and "\n" not in str(info.value)


def test_echoed_input_is_cut() -> None:
    with pytest.raises(InvalidURIError) as info:
        parse_ref("x" * 5000 + ":v1")
    message = str(info.value)
    assert len(message) < 400 and f"({5003 - MAX_ECHO} more characters)" in message


def test_resolve_checks_the_type_by_class_or_tag(registry: Registry, data_dir: Path) -> None:
    ModelArtifact(path=data_dir, step=5).save(name="ckpt")
    assert resolve("ckpt:v1", ModelArtifact).step == 5
    assert resolve("art://ckpt", "ModelArtifact").version == 1
    assert resolve(str(data_dir)).uri == "art://ckpt:v1"  # the path holds the published version
    with pytest.raises(ArtifactTypeError) as info:
        resolve("ckpt", PretrainBlendsArtifact)
    assert str(info.value).startswith("art://ckpt:v1 holds a 'ModelArtifact' artifact")
    with pytest.raises(ArtifactTypeError):
        resolve("ckpt", "SFTDataArtifact")


def test_resolve_by_tag_of_an_unimported_class(registry: Registry, data_dir: Path) -> None:
    registry.publish(Artifact(path=str(data_dir), type="RecipeOnlyArtifact"), "r")
    assert resolve("r", "RecipeOnlyArtifact").type == "RecipeOnlyArtifact"
    with pytest.raises(ArtifactTypeError):
        resolve("r", "ModelArtifact")


def test_produced_by_reads_only_that_runs_index(registry: Registry, data_dir: Path) -> None:
    def publish(name: str, run: str) -> Artifact:
        producer = RunInfo(run_id=run)
        return registry.publish(ModelArtifact(path=str(data_dir), producer=producer), name)

    publish("a", "job-1")
    publish("b", "job-2")
    publish("a", "job-1")
    publish("c", "odd/run id")
    assert [a.uri for a in registry.produced_by("job-1")] == ["art://a:v1", "art://a:v2"]
    assert [a.uri for a in registry.produced_by("odd/run id")] == ["art://c:v1"]
    assert registry.produced_by("job-3") == []
    registry.delete("a", 1)
    assert [a.uri for a in registry.produced_by("job-1")] == ["art://a:v2"]
    assert registry.list_names() == ["a", "b", "c"]  # the index is no artifact name


def _corrupt(registry: Registry, name: str, n: int) -> None:
    Path(registry.root, name, "versions", str(n), "artifact.json").write_text("{not json")


def test_corrupt_records_are_skipped_when_asked_and_deletable(
    registry: Registry, data_dir: Path
) -> None:
    for name in ("Bad", "Bad", "Good"):
        registry.publish(ModelArtifact(path=str(data_dir)), name)
    _corrupt(registry, "Bad", 1)
    with pytest.raises(CorruptMetadataError):
        registry.list_versions("Bad")
    bad: list[CorruptMetadataError] = []
    assert [a.version for a in registry.list_versions("Bad", bad=bad)] == [2]
    assert len(bad) == 1 and "Bad/versions/1/artifact.json" in bad[0].file
    assert registry.versions("Bad") == [1, 2]
    registry.delete("Bad", 1)
    assert registry.versions("Bad") == [2] and registry.list_versions("Bad") != []


def test_alias_problems_are_named_as_such(registry: Registry, data_dir: Path) -> None:
    for _ in range(2):
        registry.publish(ModelArtifact(path=str(data_dir)), "A")
    registry.alias("A", 2, "best")
    with pytest.raises(AliasNotFoundError) as info:
        registry.resolve("A", "nope")
    assert "has no alias 'nope'; its aliases: best->v2" in str(info.value)
    assert isinstance(info.value, VersionNotFoundError)  # still a "not found" for old callers
    with pytest.raises(AliasMismatchError, match="points at v2, not v1"):
        registry.untag("A", "best", 1)
    assert registry.aliases("A") == {"best": 2}
    registry.untag("A", "best", 2)
    assert registry.aliases("A") == {}


def test_read_only_registry_is_one_user_error(
    registry: Registry, data_dir: Path, read_only: Callable[[Path], Path]
) -> None:
    registry.publish(ModelArtifact(path=str(data_dir)), "A")
    registry.alias("A", 1, "keep")
    frozen = Registry(read_only(Path(registry.root)))
    for call in (
        lambda: frozen.alias("A", 1, "best"),
        lambda: frozen.untag("A", "keep"),
        lambda: frozen.delete("A", 1, force=True),
    ):
        with pytest.raises(RegistryReadOnlyError) as info:
            call()
        assert "is not writable" in str(info.value) and info.value.exit_code == 2
    assert frozen.aliases("A") == {"keep": 1} and frozen.versions("A") == [1]


@pytest.mark.parametrize(
    ("root", "says"),
    [
        ("bogus://x/reg", "unknown URL scheme"),
        ("s3://bucket/reg", 'pip install "kit-artifacts[remote]" s3fs'),
    ],
)
def test_unusable_roots_are_one_user_error(root: str, says: str) -> None:
    pytest.importorskip("fsspec")
    if root.startswith("s3://"):
        try:
            import s3fs  # noqa: F401
        except ImportError:
            pass
        else:
            pytest.skip("s3fs is installed here")
    with pytest.raises(RegistryRootError) as info:
        Registry(root)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_produced_by_on_an_fsspec_root(memory_registry: Registry, data_dir: Path) -> None:
    published = memory_registry.publish(
        ModelArtifact(path=str(data_dir), producer=RunInfo(run_id="job-9")), "m"
    )
    assert [a.uri for a in memory_registry.produced_by("job-9")] == [published.uri]
    assert resolve("m:v1", ModelArtifact, registry=memory_registry).version == 1
    assert memory_registry.list_names() == ["m"]


def test_resolve_a_path_on_another_machines_files(registry: Registry, data_dir: Path) -> None:
    """`files=`: the path is read where a job reads it (a cluster's files; here fsspec's
    in-memory file system stands for them), never on this machine."""
    from fsspec.implementations.memory import MemoryFileSystem

    ModelArtifact(path=data_dir, step=5).save(name="ckpt")
    there = MemoryFileSystem()
    folder = f"/cluster-{os.getpid()}/ckpt"
    there.pipe_file(f"{folder}/metadata.json", (data_dir / "metadata.json").read_bytes())
    there.pipe_file(f"{folder}-no-metadata/weights.bin", b"w")
    try:
        found = resolve(folder, ModelArtifact, files=there)
        assert (found.step, found.path) == (5, folder)
        assert not Path(folder).exists()  # not read here
        with pytest.raises(ArtifactTypeError):
            resolve(folder, "SFTDataArtifact", files=there)
        with pytest.raises(CorruptMetadataError, match="file is missing"):
            resolve(f"{folder}-no-metadata", files=there)
        with pytest.raises(UserError, match="the path does not exist"):
            resolve(str(data_dir), files=there)  # here, not there
    finally:
        there.rm(f"/cluster-{os.getpid()}", recursive=True)

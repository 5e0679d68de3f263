"""The registry: publish, resolve, list, aliases, delete, verify, copy mode, other roots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nemotron.kit.artifacts import (
    Artifact,
    ArtifactNotFoundError,
    InvalidURIError,
    ModelArtifact,
    NoDigestError,
    PretrainBlendsArtifact,
    Registry,
    RegistryError,
    RunError,
    UserError,
    VersionInUseError,
    VersionNotFoundError,
    get_registry,
    set_registry,
)


def _publish(reg: Registry, path: Path, name: str, n: int, **kw: object) -> list[int]:
    out = []
    for i in range(n):
        art = reg.publish(ModelArtifact(path=str(path), step=i), name, **kw)  # type: ignore[arg-type]
        assert art.version is not None
        out.append(art.version)
    return out


def test_default_root_follows_env_and_set_registry(tmp_path: Path, data_dir: Path) -> None:
    assert get_registry().root == os.environ["NEMOTRON_ARTIFACTS_ROOT"]
    other = tmp_path / "second-root"
    set_registry(other)
    ModelArtifact(path=data_dir).save(name="m")
    assert (other / "m" / "versions" / "1" / "artifact.json").is_file()
    assert not Path(os.environ["NEMOTRON_ARTIFACTS_ROOT"], "m").exists()
    set_registry(None)
    with pytest.raises(ArtifactNotFoundError):
        Artifact.from_uri("art://m")
    assert Registry(other).resolve("m").version == 1


def test_versions_latest_and_exact(registry: Registry, data_dir: Path) -> None:
    assert _publish(registry, data_dir, "m", 3) == [1, 2, 3]
    assert registry.resolve("m").version == 3
    assert registry.resolve("m", "v2", cls=ModelArtifact).step == 1
    assert registry.resolve("m", 1).version == 1
    assert ModelArtifact.from_uri("art://m:v2").uri == "art://m:v2"
    assert [a.version for a in registry.list_versions("m")] == [1, 2, 3]
    assert [a.step for a in registry.list_versions("m")] == [0, 1, 2]  # type: ignore[attr-defined]
    assert registry.list_names() == ["m"]


def test_versions_are_immutable_references_by_default(registry: Registry, data_dir: Path) -> None:
    v1 = registry.publish(ModelArtifact(path=str(data_dir), step=1), "m")
    registry.publish(ModelArtifact(path=str(data_dir), step=2), "m")
    assert v1.path == str(data_dir)  # a reference: no copy
    assert not (Path(registry.root) / "m" / "versions" / "1" / "data").exists()
    assert registry.resolve("m", 1, cls=ModelArtifact).step == 1


def test_copy_mode_copies_data_into_the_version(registry: Registry, data_dir: Path) -> None:
    art = ModelArtifact(path=data_dir, step=4).save(name="m", copy=True, digest=True)
    copied = Path(registry.root) / "m" / "versions" / "1" / "data"
    assert art.path == str(copied)
    assert (copied / "sub" / "b.txt").read_text() == "hello"
    (data_dir / "a.bin").write_bytes(b"changed")  # the source can change; the copy cannot
    assert registry.verify("m", 1) is True
    assert ModelArtifact.load(copied).version == 1


def test_copy_mode_single_file(registry: Registry, tmp_path: Path) -> None:
    data = tmp_path / "t.jsonl"
    data.write_text("{}\n")
    art = Artifact(path=data).save(name="f", copy=True)
    assert Path(art.path).read_text() == "{}\n" and Path(art.path).name == "t.jsonl"
    assert registry.resolve("f").path == art.path


def test_aliases_move_atomically_and_resolve(registry: Registry, data_dir: Path) -> None:
    ModelArtifact(path=data_dir, step=1).save(name="m", aliases=["best", "prod"])
    ModelArtifact(path=data_dir, step=2).save(name="m")
    assert registry.aliases("m") == {"best": 1, "prod": 1}
    assert ModelArtifact.from_uri("art://m:best").step == 1
    registry.alias("m", "latest", "best")
    assert registry.resolve("m", "best").version == 2
    registry.untag("m", "prod")
    assert registry.aliases("m") == {"best": 2}
    with pytest.raises(VersionNotFoundError, match="no alias 'prod'"):
        registry.resolve("m", "prod")
    with pytest.raises(VersionNotFoundError):
        registry.untag("m", "prod")
    assert not any(
        p.name.startswith(".") for p in (Path(registry.root) / "m" / "aliases").iterdir()
    )


def test_delete_refuses_aliased_version_unless_forced(registry: Registry, data_dir: Path) -> None:
    _publish(registry, data_dir, "m", 3)
    registry.alias("m", 3, "best")
    with pytest.raises(VersionInUseError) as info:
        registry.delete("m", 3)
    assert (info.value.version, info.value.aliases) == (3, ["best"])
    registry.delete("m", 2)
    assert registry.versions("m") == [1, 3]
    with pytest.raises(VersionNotFoundError) as missing:
        registry.resolve("m", 2)
    assert missing.value.available == [1, 3] and "v1, v3" in str(missing.value)
    registry.delete("m", 3, force=True)
    assert registry.aliases("m") == {} and registry.resolve("m").version == 1
    # numbers are never reused: the next publish is v4
    assert registry.publish(Artifact(path=str(data_dir)), "m").version == 4


def test_delete_removes_copied_data_only(registry: Registry, data_dir: Path) -> None:
    art = Artifact(path=data_dir).save(name="c", copy=True)
    Artifact(path=data_dir).save(name="r")
    registry.delete("c", 1)
    registry.delete("r", 1)
    assert not Path(art.path).exists()
    assert (data_dir / "a.bin").exists()  # referenced data is the user's
    with pytest.raises(VersionNotFoundError, match="existing versions: none"):
        registry.resolve("c")


def test_verify_detects_changed_data(registry: Registry, data_dir: Path) -> None:
    art = Artifact(path=data_dir).save(name="d", digest=True)
    assert art.digest is not None and art.digest.startswith("xxh3_128:")
    assert registry.verify("d") is True
    (data_dir / "sub" / "b.txt").write_text("HELLO")
    assert registry.verify("d") is False
    Artifact(path=data_dir).save(name="nodigest")
    with pytest.raises(NoDigestError):
        registry.verify("nodigest")


def test_not_found_errors_suggest_and_list(registry: Registry, data_dir: Path) -> None:
    Artifact(path=data_dir).save(name="ModelArtifact-pretrain")
    with pytest.raises(ArtifactNotFoundError) as info:
        Artifact.from_uri("art://ModelArtifact-pretrian:latest")
    assert info.value.suggestions == ["ModelArtifact-pretrain"]
    assert "did you mean 'ModelArtifact-pretrain'?" in str(info.value)
    with pytest.raises(VersionNotFoundError) as missing:
        registry.resolve("ModelArtifact-pretrain", "v9")
    assert missing.value.available == [1] and "existing versions: v1" in str(missing.value)
    with pytest.raises(InvalidURIError):
        Artifact.from_uri("art://ModelArtifact-pretrain:v1:x")
    for err in (info.value, missing.value):
        assert isinstance(err, UserError) and "\n" not in str(err)


def test_from_uri_absolute_path_and_plain_path(data_dir: Path) -> None:
    PretrainBlendsArtifact(path=data_dir, total_tokens=3).save(name="b")
    assert PretrainBlendsArtifact.from_uri(f"art://{data_dir}").total_tokens == 3
    assert PretrainBlendsArtifact.from_uri(data_dir).version == 1


def test_latest_survives_stale_damaged_or_backwards_pointer(
    registry: Registry, data_dir: Path
) -> None:
    _publish(registry, data_dir, "m", 5)
    pointer = Path(registry.root) / "m" / "latest"
    pointer.write_text("2\n")  # a slow publisher wrote an older number last
    assert registry.resolve("m").version == 5
    pointer.write_text("garbage")
    assert registry.resolve("m").version == 5
    pointer.unlink()
    assert registry.resolve("m").version == 5
    assert registry.publish(Artifact(path=str(data_dir)), "m").version == 6
    assert pointer.read_text().strip() == "6"


def test_leftover_staging_is_ignored_and_cleaned(registry: Registry, data_dir: Path) -> None:
    _publish(registry, data_dir, "m", 1)
    staging = Path(registry.root) / "m" / ".staging"
    dead = staging / "otherhost-1-abc-version"
    dead.mkdir(parents=True)
    (dead / "artifact.json").write_text('{"half": ')
    os.utime(dead, (0, 0))  # older than a day
    mine_dead = staging / f"{os.uname().nodename.replace('-', '_')}-999999999-abc-version"
    mine_dead.mkdir()
    assert registry.versions("m") == [1] and registry.list_names() == ["m"]
    _publish(registry, data_dir, "m", 1)
    assert list(staging.iterdir()) == []


def test_publish_failures_leave_nothing_visible(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFoundError, match="the path does not exist"):
        registry.publish(Artifact(path=str(tmp_path / "missing")), "m", copy=True)
    unreadable = tmp_path / "unreadable"
    (unreadable / "sub").mkdir(parents=True)
    os.symlink(tmp_path / "gone", unreadable / "sub" / "dangling")  # copytree fails on it
    with pytest.raises(RegistryError, match="publishing 'm' failed") as info:
        registry.publish(Artifact(path=str(unreadable)), "m", copy=True)
    assert isinstance(info.value, RunError) and info.value.root == registry.root
    assert registry.list_versions("m") == []
    assert list((Path(registry.root) / "m" / ".staging").iterdir()) == []


def test_remote_data_path_keeps_metadata_beside_it(registry: Registry) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe_file("/bench-data/ckpt/w.bin", b"w")
    fs.pipe_file("/bench-data/t.jsonl", b"{}")
    ModelArtifact(path="memory://bench-data/ckpt", step=3).save(name="remote")
    Artifact(path="memory://bench-data/t.jsonl").save(name="remote-file")
    assert fs.isfile("/bench-data/ckpt/metadata.json")
    assert fs.isfile("/bench-data/t.jsonl.metadata.json")
    assert ModelArtifact.load("memory://bench-data/ckpt").step == 3
    assert ModelArtifact.from_uri("art://remote").path == "memory://bench-data/ckpt"
    fs.rm("/bench-data", recursive=True)


def test_errors_classify(tmp_path: Path) -> None:
    assert issubclass(RegistryError, RunError)
    assert issubclass(VersionNotFoundError, UserError)


# ---------------------------------------------------------------------- fsspec roots
def test_memory_root_full_cycle(memory_registry: Registry, data_dir: Path) -> None:
    reg = memory_registry
    set_registry(reg)
    first = ModelArtifact(path=data_dir, step=1).save(name="m", aliases=["best"], digest=True)
    second = ModelArtifact(path=data_dir, step=2).save(name="m", copy=True)
    assert (first.version, second.version) == (1, 2)
    assert second.path == f"{reg.root}/m/versions/2/data"
    assert reg.store.read("m/versions/2/data/sub/b.txt") == b"hello"
    assert ModelArtifact.from_uri("art://m:latest").step == 2
    assert ModelArtifact.from_uri("art://m:best").step == 1
    assert reg.list_names() == ["m"] and reg.versions("m") == [1, 2]
    assert reg.verify("m", 1) is True
    with pytest.raises(VersionInUseError):
        reg.delete("m", 1)
    reg.delete("m", 2)
    assert reg.resolve("m").version == 1
    assert reg.publish(Artifact(path=str(data_dir)), "m").version == 3
    with pytest.raises(ArtifactNotFoundError, match="did you mean 'm'"):
        reg.resolve("mm")


def test_memory_root_skips_claimed_but_unpublished_versions(
    memory_registry: Registry, data_dir: Path
) -> None:
    reg = memory_registry
    reg.publish(Artifact(path=str(data_dir)), "m")
    reg.store.write_atomic("m/versions/2/.claim", b"a publisher that died")
    assert reg.resolve("m").version == 1 and reg.versions("m") == [1]
    assert reg.publish(Artifact(path=str(data_dir)), "m").version == 3


def test_file_url_root_is_local(tmp_path: Path, data_dir: Path) -> None:
    reg = Registry(f"file://{tmp_path}/r")
    assert reg.root == f"{tmp_path}/r"
    reg.publish(Artifact(path=str(data_dir)), "m")
    assert (tmp_path / "r" / "m" / "latest").read_text().strip() == "1"

"""`nemotron artifacts ...` against a real registry: corrupt records, alias removal, path refs,
read-only registries and the flags the messages name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nemotron.kit.artifacts import ModelArtifact, Registry, SplitJsonlDataArtifact

Cli = Callable[..., Any]


@pytest.fixture
def registry(cli_env: dict[str, str]) -> Registry:
    """The registry the CLI subprocesses use (the root conftest isolates it per test)."""
    return Registry(cli_env["NEMOTRON_ARTIFACTS_ROOT"])


def _publish(reg: Registry, data: Path, name: str, **kw: object) -> ModelArtifact:
    data.mkdir(parents=True, exist_ok=True)
    return reg.publish(ModelArtifact(path=str(data), **kw), name)  # type: ignore[arg-type]


def _one_error_line(result: object, code: int = 2) -> str:
    assert result.code == code, (result.out, result.err)  # type: ignore[attr-defined]
    lines = result.err.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    return lines[0]


def test_one_corrupt_record_breaks_nothing_else(
    cli: Cli, registry: Registry, tmp_path: Path
) -> None:
    good = _publish(registry, tmp_path / "g", "Good")
    _publish(registry, tmp_path / "b", "Bad", inputs=[good.ref()])
    Path(registry.root, "Bad", "versions", "1", "artifact.json").write_text("{oops")

    listing = cli("artifacts", "list")
    assert listing.code == 0, listing.err
    assert "Good" in listing.out and "Bad " not in listing.out
    assert "Bad/versions/1/artifact.json" in listing.err and "artifacts rm NAME:vN" in listing.err

    lineage = cli("artifacts", "lineage", "Good", "--descendants")
    assert lineage.code == 0, lineage.err
    assert "Good:v1" in lineage.out and "skipped" in lineage.err

    assert cli("artifacts", "list", "Bad").code == 0
    removed = cli("artifacts", "rm", "Bad:v1")
    assert removed.code == 0 and "deleted art://Bad:v1" in removed.out, removed.err
    clean = cli("artifacts", "list")
    assert clean.err == "" and "Bad" not in clean.out


def test_alias_remove_refuses_another_versions_alias(
    cli: Cli, registry: Registry, tmp_path: Path
) -> None:
    for _ in range(2):
        _publish(registry, tmp_path / "a", "A")
    registry.alias("A", 2, "best")
    line = _one_error_line(cli("artifacts", "alias", "A:v1", "best", "--remove"))
    assert "alias 'best' of A points at v2, not v1" in line
    assert registry.aliases("A") == {"best": 2}
    missing = _one_error_line(cli("artifacts", "alias", "A:v1", "nope", "--remove"))
    assert "has no alias 'nope'" in missing
    assert cli("artifacts", "alias", "A:v2", "best", "--remove").code == 0
    assert registry.aliases("A") == {}


def test_rm_of_an_aliased_version_names_the_cli_flag(
    cli: Cli, registry: Registry, tmp_path: Path
) -> None:
    _publish(registry, tmp_path / "a", "A")
    registry.alias("A", 1, "best")
    line = _one_error_line(cli("artifacts", "rm", "A:v1"))
    assert "--force" in line and "force=True" not in line
    assert cli("artifacts", "rm", "A:v1", "--force").code == 0
    assert registry.versions("A") == []


def test_art_path_refs_work_in_every_command(cli: Cli, registry: Registry, tmp_path: Path) -> None:
    data = tmp_path / "ckpt"
    _publish(registry, data, "M")
    ModelArtifact(path=data).save(name="M", digest=True)  # v2, with a digest
    ref = f"art://{data}"
    show = cli("artifacts", "show", ref)
    assert show.code == 0 and '"uri": "art://M:v2"' in show.out, show.err
    assert cli("artifacts", "verify", ref).out.startswith("art://M:v2: OK")
    assert cli("artifacts", "lineage", ref).code == 0
    assert cli("artifacts", "alias", ref, "best").out.strip() == "art://M:best -> v2"
    assert cli("artifacts", "alias", ref, "best", "--remove").code == 0
    assert cli("artifacts", "rm", ref).out.strip() == "deleted art://M:v2"
    unpublished = tmp_path / "loose"
    ModelArtifact(path=unpublished).save(name="L")
    Path(unpublished, "metadata.json").write_text('{"type": "ModelArtifact", "path": "x"}')
    line = _one_error_line(cli("artifacts", "rm", f"art://{unpublished}"))
    assert "is not a published version" in line


def test_long_input_is_cut_in_the_message(cli: Cli) -> None:
    line = _one_error_line(cli("artifacts", "show", "N" * 3000))
    assert len(line) < 600 and "more characters" in line


def test_read_only_registry_is_one_line(
    cli: Cli,
    registry: Registry,
    tmp_path: Path,
    read_only: Callable[[Path], Path],
) -> None:
    _publish(registry, tmp_path / "a", "A")
    registry.alias("A", 1, "keep")
    frozen = str(read_only(Path(registry.root)))
    env = {"NEMOTRON_ARTIFACTS_ROOT": frozen}
    for args in (
        ("alias", "A:v1", "best"),
        ("alias", "A", "keep", "--remove"),
        ("rm", "A:v1", "--force"),
    ):
        line = _one_error_line(cli("artifacts", *args, env=env))
        assert "is not writable" in line and "OSError" not in line
    assert registry.aliases("A") == {"keep": 1} and registry.versions("A") == [1]


@pytest.mark.parametrize(
    ("root", "says"),
    [("bogus://x", "unknown URL scheme"), ("s3://bucket/reg", "kit-artifacts[remote]")],
)
def test_unusable_registry_roots(cli: Cli, root: str, says: str) -> None:
    line = _one_error_line(cli("artifacts", "list", env={"NEMOTRON_ARTIFACTS_ROOT": root}))
    assert says in line


def test_stage_input_check_reads_bare_refs_and_checks_the_type(
    cli: Cli, registry: Registry, tmp_path: Path
) -> None:
    data = tmp_path / "rl"
    data.mkdir()
    registry.publish(SplitJsonlDataArtifact(path=str(data)), "demo-data")
    _publish(registry, tmp_path / "m", "demo-model")
    ok = cli("demo", "train", "-c", "tiny", "-d", "data=demo-data:v1")
    assert ok.code == 0, ok.err
    wrong = _one_error_line(cli("demo", "train", "-c", "tiny", "-d", "data=demo-model:v1"))
    assert "input data='demo-model:v1'" in wrong
    assert "is a ModelArtifact, expected SplitJsonlDataArtifact" in wrong
    missing = _one_error_line(cli("demo", "train", "-c", "tiny", "data=./nowhere"))
    assert "no such file or folder" in missing  # a dry run warns instead (test_planner.py)

"""Names, aliases, version selectors and art:// URIs: the unsafe ones are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemotron.kit.artifacts import (
    Artifact,
    ArtURI,
    InvalidNameError,
    InvalidURIError,
    ModelArtifact,
    Registry,
    UserError,
    parse_uri,
)
from nemotron.kit.artifacts._names import parse_version


@pytest.mark.parametrize(
    "name",
    ["", "../x", "..", ".", "/", "a/b", "a\\b", ".hidden", "x" * 129, "a:b", "a b", "é", "-x"],
)
def test_unsafe_names_are_refused_everywhere(name: str, registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(InvalidNameError) as info:
        Artifact(path=tmp_path / "a").save(name=name)
    assert isinstance(info.value, UserError) and info.value.name == name
    with pytest.raises(InvalidNameError):
        registry.resolve(name)
    assert not any(tmp_path.parent.rglob("x"))  # nothing escaped the registry
    assert registry.list_names() == []


@pytest.mark.parametrize("alias", ["latest", "v3", "12", "../up", ""])
def test_reserved_or_unsafe_aliases(alias: str, registry: Registry, tmp_path: Path) -> None:
    ModelArtifact(path=tmp_path / "m").save(name="m")
    with pytest.raises(InvalidNameError):
        registry.alias("m", 1, alias)


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("art://Model", ArtURI(name="Model", selector="latest")),
        ("art://Model:latest", ArtURI(name="Model", selector="latest")),
        ("art://Model:v3", ArtURI(name="Model", selector=3)),
        ("art://Model:7", ArtURI(name="Model", selector=7)),
        ("art://Model-pre.train_1:best", ArtURI(name="Model-pre.train_1", selector="best")),
        ("art://Model:best", ArtURI(name="Model", selector="best")),
        ("art://Model-pre.train_1:best", ArtURI(name="Model-pre.train_1", selector="best")),
        ("art:///abs/path/ckpt", ArtURI(path="/abs/path/ckpt")),
        ("art:///abs/path:v3", ArtURI(path="/abs/path:v3")),  # a path: ':' is not a selector
    ],
)
def test_uri_forms(uri: str, parsed: ArtURI) -> None:
    assert parse_uri(uri) == parsed


def test_a_path_uri_has_no_name() -> None:
    parsed = parse_uri("art:///abs/path")
    assert parsed.name is None and parsed.path == "/abs/path"
    named = parse_uri("art://Name:v3")
    assert (named.name, named.selector, named.path) == ("Name", 3, None)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("s3://bucket/x", "does not start with art://"),
        ("art://", "empty"),
        ("art://../etc:latest", "path separators"),
        ("art://..:latest", "must not start with '.'"),
        ("art://a/b:v1", "path separators"),
        ("art://Model:v0", "versions start at 1"),
        ("art://Model:../x", "path separators"),
        ("art:///", "the path is empty"),
        ("art://Model:", "the selector after ':' is empty"),
        ("art://:v3", "it is empty"),
        ("art://Model:v3:x", "characters outside"),
        ("art:/Model", "does not start with art://"),
        ("Model:v3", "does not start with art://"),
    ],
)
def test_bad_uris(uri: str, reason: str) -> None:
    with pytest.raises(InvalidURIError) as info:
        parse_uri(uri)
    assert reason in info.value.reason and info.value.uri == uri
    message = str(info.value)
    assert isinstance(info.value, UserError) and "\n" not in message
    assert message.endswith("expected [art://]NAME[:latest|:vN|:ALIAS] or art:///absolute/path")


def test_version_selectors() -> None:
    assert parse_version(None) == parse_version("latest") == "latest"
    assert parse_version(3) == parse_version("v3") == parse_version("3") == 3
    assert parse_version("best") == "best"

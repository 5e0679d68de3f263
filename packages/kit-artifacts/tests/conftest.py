"""Fixtures for kit-artifacts tests (the root conftest already isolates the registry root)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nemotron.kit.artifacts import Registry, reset_run, set_lineage_tracker, set_registry


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    """Each test starts with no explicit registry, no tracker and a new run."""
    set_registry(None)
    set_lineage_tracker(None)
    reset_run()
    yield
    set_registry(None)
    set_lineage_tracker(None)
    reset_run()


@pytest.fixture
def registry() -> Registry:
    """The default registry (at $NEMOTRON_ARTIFACTS_ROOT, a fresh temp folder per test)."""
    return Registry(os.environ["NEMOTRON_ARTIFACTS_ROOT"])


@pytest.fixture
def memory_registry() -> Iterator[Registry]:
    """A registry on fsspec's in-memory file system, removed afterwards."""
    url = f"memory://reg-{uuid.uuid4().hex}"
    reg = Registry(url)
    yield reg
    reg.store.remove_tree("")  # type: ignore[union-attr]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A small data folder to publish."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"a" * 1000)
    (folder / "sub").mkdir()
    (folder / "sub" / "b.txt").write_text("hello")
    return folder

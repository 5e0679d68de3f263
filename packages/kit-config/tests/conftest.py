"""kit-config test set-up: every test starts a new run (no inputs, no config digest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nemotron.kit.artifacts import reset_run, set_lineage_tracker, set_registry


@pytest.fixture(autouse=True)
def _fresh_run() -> Iterator[None]:
    set_registry(None)
    set_lineage_tracker(None)
    reset_run()
    yield
    set_lineage_tracker(None)
    reset_run()

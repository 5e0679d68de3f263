"""docs/cli.md is generated from the app; this fails when it is stale."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_cli_reference_is_up_to_date() -> None:
    from nemotron.kit.cli.docs import render_markdown

    assert DOCS.read_text(encoding="utf-8") == render_markdown(), (
        "docs/cli.md is stale: run `uv run python -m nemotron.kit.cli.docs > docs/cli.md`"
    )

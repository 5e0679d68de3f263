"""Every file a stage run writes (job record, saved configs, logs, artifact metadata) is free of
the secrets its config holds, whatever the config's format and layout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]
SECRET = "sekret-value-0123456789"
BODY = "data: null\nlr: 0.5\nsteps: 1\noutput_dir: ${oc.env:NEMOTRON_DEMO_OUT}/s\n"
CONFIGS = {
    "flow.yaml": BODY + f"run: {{wandb: {{api_key: {SECRET}}}, servers: [{{token: {SECRET}}}]}}\n",
    "folded.yaml": BODY
    + f"run:\n  train:\n    tokenizer_extra:\n      hf_token: >\n        {SECRET}\n",
    "one-line.json": (
        '{"data": null, "lr": 0.5, "steps": 1, "output_dir": "${oc.env:NEMOTRON_DEMO_OUT}/s", '
        f'"run": {{"wandb": {{"api_key": "{SECRET}"}}}}}}'
    ),
    "inline.toml": (
        'data = ""\nlr = 0.5\nsteps = 1\noutput_dir = "${oc.env:NEMOTRON_DEMO_OUT}/s"\n'
        f'run = {{ wandb = {{ api_key = "{SECRET}" }} }}\n'
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_no_written_file_holds_the_configs_secret(
    cli: Cli, workdir: Path, cli_env: dict[str, str], name: str
) -> None:
    config = workdir / "configs" / name
    config.parent.mkdir()
    config.write_text(CONFIGS[name])
    result = cli("demo", "train", "-c", str(config))
    assert result.code == 0, result.err
    assert SECRET not in result.out + result.err
    written = [
        p
        for root in (
            workdir / ".nemotron",
            workdir / "out",
            Path(cli_env["NEMOTRON_ARTIFACTS_ROOT"]),
        )
        for p in root.rglob("*")
        if p.is_file()
    ]
    names = {p.name for p in written}
    assert {"resolved.yaml", f"original{config.suffix}", "metadata.json"} <= names, names
    leaks = [str(p) for p in written if SECRET.encode() in p.read_bytes()]
    assert leaks == []

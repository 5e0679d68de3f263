"""`save_resolved` and `redact`: what a run used, with secrets masked, and its digest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from nemotron.kit.artifacts import current_run
from nemotron.kit.config import (
    apply_hydra_overrides,
    is_secret_key,
    load_config,
    redact,
    redact_text,
    save_resolved,
)

WANDB_KEY = "wk-0123456789abcdef"
HF_TOKEN = "hf_abcdefghijklmnop"

CONFIG = """\
run:
  name: demo
wandb:
  project: nano
  api_key: plain-secret-in-file   # never saved
hf_token: ${oc.env:HF_TOKEN}
tokenizer:
  eos_token: </s>
  max_tokens: 4096
out: ${oc.env:PWD}/out
url: https://user:${oc.env:WANDB_API_KEY}@example.com
"""


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", WANDB_KEY)
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)


def test_the_secret_rule_is_kit_artifacts_one() -> None:
    # One rule for what a credential is (its cases are tested in kit-artifacts).
    from nemotron.kit.artifacts import secrets

    assert is_secret_key is secrets.is_secret_key
    assert is_secret_key("wandb.api_key") and not is_secret_key("max_tokens")


def test_redact_masks_secret_keys_and_env_values(secrets_env: None) -> None:
    data = {
        "wandb": {"api_key": "abc", "project": "p"},
        "note": f"token is {HF_TOKEN}!",
        "list": [{"password": "x"}, WANDB_KEY],
        "empty_token": None,
    }
    assert redact(data) == {
        "wandb": {"api_key": "***", "project": "p"},
        "note": "token is ***!",
        "list": [{"password": "***"}, "***"],
        "empty_token": None,
    }
    assert redact(f"--key {WANDB_KEY}") == "--key ***"
    assert redact(OmegaConf.create({"token": "t"})) == {"token": "***"}


def test_redact_text_keeps_layout() -> None:
    text = 'a = 1\napi_key = "xyz"  # comment\n  password: hunter22\nref: ${oc.env:HF_TOKEN}\n'
    assert redact_text(text, environ={}) == (
        'a = 1\napi_key = "***"  # comment\n  password: "***"\nref: ${oc.env:HF_TOKEN}\n'
    )


def test_save_resolved_writes_three_files_without_secrets(
    tmp_path: Path, secrets_env: None
) -> None:
    source = tmp_path / "config.yaml"
    source.write_text(CONFIG)
    overrides = ["wandb.project=other", f"wandb.api_key={WANDB_KEY}", "+extra=1"]
    cfg = apply_hydra_overrides(load_config(source), overrides)
    out = tmp_path / "job"
    digest = save_resolved(cfg, out, source=source, overrides=overrides)

    assert sorted(p.name for p in out.iterdir()) == [
        "original.yaml",
        "overrides.yaml",
        "resolved.yaml",
    ]
    everything = "".join(p.read_text() for p in out.iterdir())
    for secret in (WANDB_KEY, HF_TOKEN, "plain-secret-in-file"):
        assert secret not in everything

    resolved = yaml.safe_load((out / "resolved.yaml").read_text())
    assert resolved["wandb"] == {"project": "other", "api_key": "***"}
    assert resolved["hf_token"] == "***"
    assert resolved["url"] == "https://user:***@example.com"
    assert resolved["tokenizer"] == {"eos_token": "</s>", "max_tokens": 4096}
    assert resolved["extra"] == 1 and resolved["out"].endswith("/out")
    assert digest in (out / "resolved.yaml").read_text().splitlines()[0]

    original = (out / "original.yaml").read_text()
    assert 'api_key: "***"   # never saved' in original
    assert "hf_token: ${oc.env:HF_TOKEN}" in original
    assert yaml.safe_load((out / "overrides.yaml").read_text()) == [
        "wandb.project=other",
        "wandb.api_key=***",
        "+extra=1",
    ]
    assert current_run().config_digest == digest


def test_digest_is_canonical_and_changes_with_content(tmp_path: Path) -> None:
    a = save_resolved({"b": 1, "a": {"y": 2, "x": 1}}, tmp_path / "a")
    b = save_resolved(OmegaConf.create({"a": {"x": 1, "y": 2}, "b": 1}), tmp_path / "b")
    c = save_resolved({"a": {"x": 1, "y": 3}, "b": 1}, tmp_path / "c")
    assert a == b != c
    assert a.startswith("sha256:") and len(a) == len("sha256:") + 64


def test_typed_configs_can_be_saved(tmp_path: Path) -> None:
    @dataclass
    class C:
        path: Path
        secret: str

    save_resolved(C(Path("/x"), "s3cr3t"), tmp_path)
    assert yaml.safe_load((tmp_path / "resolved.yaml").read_text()) == {
        "path": "/x",
        "secret": "***",
    }


def test_a_launcher_saves_its_jobs_config_without_touching_its_own_run(tmp_path: Path) -> None:
    from nemotron.kit.artifacts import reset_run

    reset_run()
    digest = save_resolved({"a": 1}, tmp_path, into_run=False)
    assert digest.startswith("sha256:") and (tmp_path / "resolved.yaml").is_file()
    assert current_run().config_digest is None
    assert save_resolved({"a": 1}, tmp_path) == digest == current_run().config_digest


def test_saving_replaces_files_atomically(tmp_path: Path) -> None:
    save_resolved({"a": 1}, tmp_path)
    save_resolved({"a": 2}, tmp_path)
    assert yaml.safe_load((tmp_path / "resolved.yaml").read_text()) == {"a": 2}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


SECRET = "sekret-value-0123456789"
LAYOUTS = {
    "block.yaml": f"lr: 1\nwandb:\n  project: p  # kept\n  api_key: {SECRET}\n",
    "flow.yaml": f"lr: 1\nwandb: {{api_key: {SECRET}, project: p}}\n",
    "list.yaml": f"lr: 1\nservers:\n  - name: a\n    password: {SECRET}\n  - {{name: b, token: {SECRET}}}\n",
    "folded.yaml": f"lr: 1\nhf_token: >\n  {SECRET}\n",
    "literal.yaml": f"lr: 1\ntrain:\n  tokenizer_extra:\n    hf_token: |-\n      {SECRET}\n",
    "quoted-key.yaml": f'lr: 1\n"api_key": "{SECRET}"\n',
    "one-line.json": f'{{"lr": 1, "wandb": {{"api_key": "{SECRET}", "project": "p"}}}}',
    "pretty.json": f'{{\n  "lr": 1,\n  "hf_token": "{SECRET}"\n}}\n',
    "table.toml": f'lr = 1\n[wandb]\napi_key = "{SECRET}"  # x\nproject = "p"\n',
    "inline.toml": f'lr = 1\nwandb = {{ api_key = "{SECRET}", project = "p" }}\n',
    "array.toml": f'lr = 1\n[[servers]]\nname = "a"\npassword = """\n{SECRET}"""\n',
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_no_layout_hides_a_secret_from_saved_files(tmp_path: Path, name: str) -> None:
    source = tmp_path / name
    source.write_text(LAYOUTS[name])
    out = tmp_path / "saved"
    save_resolved(load_config(source), out, source=source, overrides=[f"+token={SECRET}"])
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(["resolved.yaml", "overrides.yaml", f"original{source.suffix}"])
    for file in out.iterdir():
        assert SECRET not in file.read_text(), f"{file.name} leaks the secret"
    original = load_config(out / f"original{source.suffix}")
    assert original.lr == 1  # still the same config, secrets masked
    assert "***" in (out / f"original{source.suffix}").read_text()


def test_plain_layouts_keep_comments_and_interpolations(tmp_path: Path) -> None:
    from nemotron.kit.config import redact_config_text

    text = f"a: 1  # note\nwandb:\n  api_key: {SECRET}\n  hf_token: ${{oc.env:HF_TOKEN}}\n"
    assert redact_config_text(text, "yaml") == text.replace(SECRET, '"***"')
    flow = redact_config_text(f"wandb: {{api_key: {SECRET}, k: '${{oc.env:X}}'}}\n", "yaml")
    assert flow.startswith("# secrets masked as ***; re-written") and "${oc.env:X}" in flow
    assert redact_config_text("not: [valid", "yaml") == "not: [valid"

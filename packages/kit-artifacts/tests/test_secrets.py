"""`nemotron.kit.artifacts.secrets`: the one rule for which names and values are credentials."""

from __future__ import annotations

import pytest

from nemotron.kit.artifacts.secrets import (
    MASK,
    is_secret_key,
    redact,
    redact_argv,
    redact_text,
    secret_values,
)

ENV = {"WANDB_API_KEY": "wandb-key-0123456789", "HF_TOKEN": "hf_abcdef123", "HOME": "/home/me"}


@pytest.mark.parametrize(
    "name",
    [
        "token",
        "hf_token",
        "HF_TOKEN",
        "WANDB_API_KEY",
        "api_key",
        "apikey",
        "apiKey",
        "wandb.api-key",
        "--hf-token",
        "password",
        "db_password",
        "db.password",
        "passphrase",
        "client_secret",
        "AWS_SECRET_ACCESS_KEY",
        "aws_access_key",
        "private_key",
        "auth_key",
        "credential",
        "credentials",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name",
    [
        "tokens",
        "max_tokens",
        "num_tokens",
        "total_tokens",
        "tokenizer",
        "eos_token",
        "bos_token",
        "pad_token",
        "eosToken",
        "text_key",
        "key",
        "keys",
        "api",
        "api_key_env",
        "client_secret_env",
        "password_file",
        "secretary",
        "secretary_name",
    ],
)
def test_not_secret_names(name: str) -> None:
    assert not is_secret_key(name)


def test_secret_values_are_secret_named_long_enough_and_longest_first() -> None:
    env = {**ENV, "MY_TOKEN": "short", "PLAIN": "not-a-secret-value"}
    assert secret_values(env) == ["wandb-key-0123456789", "hf_abcdef123"]


def test_redact_masks_keys_and_env_values_everywhere() -> None:
    data = {
        "wandb": {"api_key": "abc", "project": "p"},
        "note": "token is hf_abcdef123!",
        "list": [{"password": "x"}, "wandb-key-0123456789", 3],
        "tuple": ("hf_abcdef123",),
        "eos_token": "</s>",
        "empty_token": None,
        "blank_token": "",
    }
    assert redact(data, ENV) == {
        "wandb": {"api_key": MASK, "project": "p"},
        "note": "token is ***!",
        "list": [{"password": MASK}, MASK, 3],
        "tuple": [MASK],
        "eos_token": "</s>",
        "empty_token": None,
        "blank_token": "",
    }
    assert redact("--key wandb-key-0123456789", ENV) == "--key ***"
    assert data["wandb"] == {"api_key": "abc", "project": "p"}  # the input is not changed


def test_redact_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_shell")
    assert redact({"url": "https://u:hf_from_the_shell@h"}) == {"url": "https://u:***@h"}


def test_redact_text_keeps_layout_comments_and_interpolations() -> None:
    text = (
        'a = 1\napi_key = "abc"  # comment\n  password: x\r\n'
        "ref: ${oc.env:HF_TOKEN}\nmax_tokens: 5\nnote: hf_abcdef123\n"
    )
    assert redact_text(text, ENV) == (
        'a = 1\napi_key = "***"  # comment\n  password: "***"\r\n'
        "ref: ${oc.env:HF_TOKEN}\nmax_tokens: 5\nnote: ***\n"
    )


def test_redact_argv_forms() -> None:
    argv = [
        "train.py",
        "--token",
        "abc",
        "--hf-token=abc",
        "+wandb.api_key=abc",
        "max_tokens=5",
        "--note",
        "hf_abcdef123",
        "--lr",
        "1",
    ]
    assert redact_argv(argv, ENV) == [
        "train.py",
        "--token",
        MASK,
        "--hf-token=***",
        "+wandb.api_key=***",
        "max_tokens=5",
        "--note",
        MASK,
        "--lr",
        "1",
    ]

"""Loading YAML/TOML/JSON, `defaults:` inheritance, interpolation, and malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from nemotron.kit.config import load_config, load_omegaconf_yaml
from nemotron.kit.config._keys import sources_of
from nemotron.kit.config._resolve import resolve_to_container
from nemotron.kit.config.errors import (
    ConfigFileError,
    ConfigSyntaxError,
    InterpolationError,
    MissingEnvVarError,
)

EXPECTED = {
    "name": "nano3",
    "learning_rate": 0.0001,
    "steps": 10,
    "use_fp8": True,
    "tags": ["a", "b"],
    "model": {"layers": 4, "hidden": 256, "dropout": 0.1},
}

YAML = """\
name: nano3
learning_rate: 1e-4
steps: 10
use_fp8: true
tags: [a, b]
model:
  layers: 4
  hidden: 256
  dropout: 0.1
"""

TOML = """\
name = "nano3"
learning_rate = 1e-4
steps = 10
use_fp8 = true
tags = ["a", "b"]

[model]
layers = 4
hidden = 256
dropout = 0.1
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_yaml_toml_json_give_the_same_config(tmp_path: Path) -> None:
    files = [
        write(tmp_path, "c.yaml", YAML),
        write(tmp_path, "c.yml", YAML),
        write(tmp_path, "c.toml", TOML),
        write(tmp_path, "c.json", json.dumps(EXPECTED, indent=2)),
    ]
    loaded = [OmegaConf.to_container(load_config(f)) for f in files]
    assert all(c == EXPECTED for c in loaded)


def test_sources_record_file_and_line_for_each_format(tmp_path: Path) -> None:
    y = write(tmp_path, "c.yaml", YAML)
    t = write(tmp_path, "c.toml", TOML)
    j = write(tmp_path, "c.json", json.dumps(EXPECTED, indent=2))
    assert sources_of(load_config(y)).lookup(("model", "hidden")) == f"{y}:8"
    assert sources_of(load_config(t)).lookup(("model", "hidden")) == f"{t}:9"
    line = j.read_text().splitlines().index('    "hidden": 256,') + 1
    assert sources_of(load_config(j)).lookup(("model", "hidden")) == f"{j}:{line}"


def test_unknown_suffix_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "c.ini", "[x]\n")
    with pytest.raises(ConfigFileError, match=r"c\.ini: unknown config format '\.ini'; use \.yaml"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match=r"nope\.yaml: no such config file"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("name", "text", "where", "what"),
    [
        ("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n", ":3:2", "invalid YAML"),
        ("dup.yaml", "a: 1\na: 2\n", ":2:1", "duplicate key a"),
        ("bad.toml", 'a = 1\nb = "x\n', ":2:7", "invalid TOML: Illegal character"),
        ("bad.json", '{\n  "a": 1,\n  "b": \n}\n', ":4:1", "invalid JSON: Expecting value"),
    ],
)
def test_malformed_files_name_file_line_and_column(
    tmp_path: Path, name: str, text: str, where: str, what: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigSyntaxError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}{where}: ")
    assert what in message
    assert "\n" not in message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="top level must be a mapping"):
        load_config(write(tmp_path, "l.yaml", "- 1\n- 2\n"))


def test_empty_yaml_is_an_empty_config(tmp_path: Path) -> None:
    assert OmegaConf.to_container(load_config(write(tmp_path, "e.yaml", ""))) == {}


def test_load_omegaconf_yaml_keeps_interpolations(tmp_path: Path) -> None:
    cfg = load_omegaconf_yaml(write(tmp_path, "c.yaml", "a: 1\nb: ${a}\n"))
    assert OmegaConf.to_container(cfg) == {"a": 1, "b": "${a}"}
    assert cfg.b == 1


def test_defaults_inheritance_merges_bases_then_file(tmp_path: Path) -> None:
    write(tmp_path, "base/model.yaml", "model: {layers: 2, hidden: 64}\nlr: 1.0\n")
    write(tmp_path, "base/optim.toml", "lr = 0.5\nwarmup = 10\n")
    child = write(
        tmp_path,
        "exp.yaml",
        "defaults: [base/model, base/optim.toml]\nmodel:\n  layers: 8\n",
    )
    cfg = load_config(child)
    assert OmegaConf.to_container(cfg) == {
        "model": {"layers": 8, "hidden": 64},
        "lr": 0.5,
        "warmup": 10,
    }
    sources = sources_of(cfg)
    assert sources.lookup(("model", "layers")) == f"{child}:3"
    assert sources.lookup(("model", "hidden")) == f"{tmp_path / 'base/model.yaml'}:1"
    assert sources.lookup(("warmup",)) == f"{tmp_path / 'base/optim.toml'}:2"


def test_defaults_chain_of_three_with_string_entry(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "x: 1\ny: 1\nz: 1\n")
    write(tmp_path, "b.yaml", "defaults: a.yaml\ny: 2\n")
    c = write(tmp_path, "c.yaml", "defaults: b\nz: 3\n")
    assert OmegaConf.to_container(load_config(c)) == {"x": 1, "y": 2, "z": 3}


def test_defaults_cycle_names_the_chain(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "defaults: b.yaml\nx: 1\n")
    write(tmp_path, "b.yaml", "defaults: c.yaml\n")
    write(tmp_path, "c.yaml", "defaults: a.yaml\n")
    with pytest.raises(ConfigFileError, match="cycle") as info:
        load_config(a)
    assert "a.yaml -> " in str(info.value) and "b.yaml -> " in str(info.value)
    assert str(info.value).count("a.yaml") >= 2


@pytest.mark.parametrize(
    ("defaults", "message"),
    [
        ("missing.yaml", "entry 'missing.yaml' not found"),
        ("[{model: big}]", "Hydra config groups are not supported"),
        ("[_self_, a.yaml]", "`_self_` is not supported"),
    ],
)
def test_bad_defaults(tmp_path: Path, defaults: str, message: str) -> None:
    write(tmp_path, "a.yaml", "x: 1\n")
    child = write(tmp_path, "c.yaml", f"defaults: {defaults}\n")
    with pytest.raises(ConfigFileError, match=message):
        load_config(child)


def test_env_interpolation_with_default_and_key_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIT_TEST_ROOT", "/scratch")
    monkeypatch.delenv("KIT_TEST_UNSET", raising=False)
    cfg = load_config(
        write(
            tmp_path,
            "c.yaml",
            "root: ${oc.env:KIT_TEST_ROOT}\n"
            "nodes: ${oc.env:KIT_TEST_UNSET,4}\n"
            "out: ${root}/run\n"
            "pwd: ${oc.env:PWD}/output\n",
        )
    )
    resolved = resolve_to_container(cfg)
    assert resolved["root"] == "/scratch"
    assert resolved["nodes"] == "4"
    assert resolved["out"] == "/scratch/run"
    assert resolved["pwd"].endswith("/output") and resolved["pwd"] != "/output"


def test_missing_env_var_names_key_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIT_TEST_UNSET", raising=False)
    cfg = load_config(write(tmp_path, "c.yaml", "train:\n  data: ${oc.env:KIT_TEST_UNSET}\n"))
    with pytest.raises(MissingEnvVarError) as info:
        resolve_to_container(cfg)
    assert info.value.key == "train.data"
    assert info.value.variable == "KIT_TEST_UNSET"
    assert "${oc.env:KIT_TEST_UNSET,<default>}" in str(info.value)


def test_reference_to_missing_key(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "c.yaml", "a: ${nope.key}\n"))
    with pytest.raises(InterpolationError, match=r"config key 'a': .*nope\.key"):
        resolve_to_container(cfg)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.toml", "a = 1\nb = '${a}'\n"),
        ("c.json", '{"a": 1, "b": "${a}"}'),
        ("c.cfg", "a: 1\nb: ${a}\n"),
    ],
)
def test_load_omegaconf_yaml_reads_every_listed_format(
    tmp_path: Path, name: str, text: str
) -> None:
    cfg = load_omegaconf_yaml(write(tmp_path, name, text))
    assert cfg.b == 1

"""The Hydra override grammar, strict keys, and every override error path."""

from __future__ import annotations

from typing import Any

import pytest
from omegaconf import DictConfig, OmegaConf

from nemotron.kit.config import apply_hydra_overrides, parse_override
from nemotron.kit.config._keys import sources_of
from nemotron.kit.config.errors import OverrideError, OverrideParseError, UnknownKeyError


@pytest.fixture
def cfg() -> DictConfig:
    return OmegaConf.create(
        {
            "lr": 1e-4,
            "name": "nano3",
            "paths": ["/a", "/b"],
            "model": {"layers": 4, "hidden": 256, "attn.dropout": 0.1, "act": None},
            "train": {"steps": 100, "seed": 1},
        }
    )


def apply(cfg: DictConfig, *overrides: str) -> dict[str, Any]:
    result = OmegaConf.to_container(apply_hydra_overrides(cfg, overrides))
    assert isinstance(result, dict)
    return result


@pytest.mark.parametrize(
    ("override", "key", "value"),
    [
        ("lr=5e-5", "lr", 5e-5),
        ("train.steps=20", "train.steps", 20),
        ("name=null", "name", None),
        ("name=true", "name", True),
        ("name=False", "name", False),
        ("name=3.5", "name", 3.5),
        ("name=-7", "name", -7),
        ("name=inf", "name", float("inf")),
        ("name='hello world'", "name", "hello world"),
        ('name="a=b c"', "name", "a=b c"),
        ("name=some words here", "name", "some words here"),
        ("name=", "name", ""),
        ("name='42'", "name", "42"),
        ("name=str(42)", "name", "42"),
        ("paths=[1,2,3]", "paths", [1, 2, 3]),
        ("paths=[]", "paths", []),
        ("paths=['x y', 2.5, null]", "paths", ["x y", 2.5, None]),
        ("paths.1=/c", "paths", ["/a", "/c"]),
        ("model.act={name: gelu, approx: true}", "model.act", {"name": "gelu", "approx": True}),
        ("model.act={a: [1, {b: 2}]}", "model.act", {"a": [1, {"b": 2}]}),
        ("model[attn.dropout]=0.2", "model[attn.dropout]", 0.2),
        ("model.[attn.dropout]=0.3", "model[attn.dropout]", 0.3),
        ("model['attn.dropout']=0.4", "model[attn.dropout]", 0.4),
    ],
)
def test_change_values(cfg: DictConfig, override: str, key: str, value: Any) -> None:
    result = apply_hydra_overrides(cfg, [override])
    assert OmegaConf.select(result, key) == value or (
        isinstance(value, list | dict)
        and OmegaConf.to_container(OmegaConf.select(result, key)) == value
    )


def test_input_config_is_not_changed(cfg: DictConfig) -> None:
    apply_hydra_overrides(cfg, ["lr=1", "~name", "+new=1"])
    assert cfg.lr == 1e-4 and "name" in cfg and "new" not in cfg


def test_interpolation_values_stay_interpolations(cfg: DictConfig) -> None:
    result = apply_hydra_overrides(
        cfg, ["name=${train.steps}", "+out=${name}/x", "+mixed=run-${train.seed}-${name}"]
    )
    raw = OmegaConf.to_container(result)
    assert isinstance(raw, dict)
    assert raw["name"] == "${train.steps}" and raw["out"] == "${name}/x"
    assert result.out == "100/x"
    assert result.mixed == "run-1-100"


def test_dict_value_merges_into_existing_mapping(cfg: DictConfig) -> None:
    result = apply(cfg, "model={layers: 8}")
    assert result["model"] == {"layers": 8, "hidden": 256, "attn.dropout": 0.1, "act": None}


def test_add(cfg: DictConfig) -> None:
    result = apply(cfg, "+model.norm=rms", "+extra.deep.key=[1]")
    assert result["model"]["norm"] == "rms"
    assert result["extra"] == {"deep": {"key": [1]}}


def test_add_existing_key_is_an_error(cfg: DictConfig) -> None:
    with pytest.raises(OverrideError, match=r"key 'lr' already exists; to change it use lr=1"):
        apply(cfg, "+lr=1")
    with pytest.raises(OverrideError, match="already exists"):
        apply(cfg, "+model.act=relu")  # present even though its value is null


def test_force_add_sets_or_adds(cfg: DictConfig) -> None:
    result = apply(cfg, "++lr=0.5", "++brand.new=1")
    assert result["lr"] == 0.5 and result["brand"] == {"new": 1}


def test_delete(cfg: DictConfig) -> None:
    result = apply(cfg, "~train.seed", "~model[attn.dropout]", "~paths.0")
    assert result["train"] == {"steps": 100}
    assert "attn.dropout" not in result["model"]
    assert result["paths"] == ["/b"]


def test_delete_with_value_checks_the_value(cfg: DictConfig) -> None:
    assert "steps" not in apply(cfg, "~train.steps=100")["train"]
    with pytest.raises(OverrideError, match=r"not deleted: 'train.steps' is 100, not 5"):
        apply(cfg, "~train.steps=5")


def test_delete_missing_key_suggests(cfg: DictConfig) -> None:
    with pytest.raises(UnknownKeyError, match=r"no key 'train.sed'.*did you mean 'train.seed'"):
        apply(cfg, "~train.sed")


def test_unknown_key_is_strict_with_did_you_mean(cfg: DictConfig) -> None:
    with pytest.raises(UnknownKeyError) as info:
        apply(cfg, "model.hiden=1")
    assert info.value.suggestions[0] == "model.hidden"
    assert str(info.value) == (
        "override 'model.hiden=1': no key 'model.hiden' in the config; did you mean 'model.hidden'?"
    )


def test_unknown_key_without_suggestion_hints_at_add(cfg: DictConfig) -> None:
    with pytest.raises(UnknownKeyError, match=r"to add it use \+zzzqqq=1"):
        apply(cfg, "zzzqqq=1")


def test_list_index_out_of_range(cfg: DictConfig) -> None:
    with pytest.raises(UnknownKeyError, match=r"no key 'paths\.5'"):
        apply(cfg, "paths.5=x")


def test_cannot_descend_into_a_value(cfg: DictConfig) -> None:
    with pytest.raises(OverrideError, match="'lr' is a value, not a mapping or list"):
        apply(cfg, "++lr.x=1")


@pytest.mark.parametrize(
    ("override", "column", "reason"),
    [
        ("lr=[1,2", 7, "no viable alternative"),
        ("a b=1", 1, "token recognition error"),
        ("lr=1)", 4, "extraneous input ')'"),
        ("lr={k:", 6, "no viable alternative"),
        ("model[attn.dropout=1", 5, "unclosed '['"),
        ("a..b=1", 1, "token recognition error"),
        ("lr=1=2", 4, "mismatched input '='"),
    ],
)
def test_parse_errors_show_where(cfg: DictConfig, override: str, column: int, reason: str) -> None:
    with pytest.raises(OverrideParseError) as info:
        apply(cfg, override)
    err = info.value
    assert err.override == override
    assert err.position == column
    assert reason in err.reason
    first, shown, caret = str(err).splitlines()
    assert first.startswith(f"override '{override}': syntax error at column {column + 1}")
    assert shown.strip() == override
    assert caret.index("^") - shown.index(override[0]) == column


def test_unknown_grammar_function(cfg: DictConfig) -> None:
    with pytest.raises(OverrideParseError, match="nosuchfn"):
        apply(cfg, "lr=nosuchfn(1)")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("lr=1,2", "sweeps"),
        ("lr=choice(1,2)", "sweeps"),
        ("lr=range(1,3)", "sweeps"),
        ("lr=interval(0,1)", "sweeps"),
        ("hydra.run.dir=/x", "`hydra.*` keys"),
        ("db/mysql=x", "config groups"),
        ("model@pkg=x", "config groups"),
    ],
)
def test_hydra_only_features_are_refused(cfg: DictConfig, override: str, message: str) -> None:
    with pytest.raises(OverrideError, match=message):
        apply(cfg, override)


def test_parse_override_structure() -> None:
    parsed = parse_override("++a.b[c.d]=[1, 'x y']")
    assert parsed.path == ("a", "b", "c.d")
    assert parsed.value == [1, "x y"]
    assert parse_override("~a").has_value is False


def test_sources_follow_overrides(cfg: DictConfig) -> None:
    result = apply_hydra_overrides(cfg, ["train.steps=5", "model={layers: 8}"])
    sources = sources_of(result)
    assert sources.lookup(("train", "steps")) == "override 'train.steps=5'"
    assert sources.lookup(("model", "layers")) == "override 'model={layers: 8}'"
    assert sources.lookup(("model", "hidden")) is None


def test_struct_mode_configs_accept_add_and_delete(cfg: DictConfig) -> None:
    OmegaConf.set_struct(cfg, True)
    result = apply(cfg, "+train.new=1", "~train.seed")
    assert result["train"] == {"steps": 100, "new": 1}


def test_plain_dict_input_and_no_overrides() -> None:
    result = apply_hydra_overrides({"a": {"b": 1}}, ["a.b=2"])
    assert isinstance(result, DictConfig) and result.a.b == 2
    assert OmegaConf.to_container(apply_hydra_overrides({"a": 1}, [])) == {"a": 1}

"""Run inside .venvs/megatron: build a stage's real ConfigContainer from its hand-off and validate it.

    python megatron_bridge_check.py CASES_JSON RESULT_JSON

CASES_JSON: {"cases": {name: {"handoff": handoff.yaml path, "world_size": GPUs}}, "classes": [dotted
class paths], "recipes": [recipe functions]}. RESULT_JSON gets, per case, what Megatron-Bridge built
(or the error it raised: type and message) and whether it would resume from `checkpoint.load`;
which of the classes import, and every key of each recipe's ConfigContainer (what our shipped key
list must equal).

The ConfigContainer comes from our own hand-off code (`_megatron.build_config_container`: the
recipe function, our `train:` section, the `train.` overrides, Megatron-Bridge's
`apply_overrides`), then `ConfigContainer.validate()` runs: every dataset/model/optimizer
`finalize`, megatron-core's `TransformerConfig.__post_init__`, batch and parallelism checks.
`WORLD_SIZE` is each case's GPU count (validate derives the data-parallel size from it).

Only the checks that need transformer-engine or CUDA are turned off first (`CPU_SKIPS`); the
result lists each one that was on, so a test can say exactly what was not checked.
"""

# ruff: noqa: TID253  (this script runs only inside .venvs/megatron, where these are the point)
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import sys
from pathlib import Path

import megatron_shim  # noqa: F401  (first: the test-only stand-ins)
from megatron.bridge.training.config import runtime_config_update

from nemotron.recipes.nano3.train._handoff import Handoff
from nemotron.recipes.nano3.train._megatron import build_config_container

# (section, field, CPU value, why it cannot be checked here). Exactly the checks that fail on a
# machine without transformer-engine and CUDA (each one was found by removing it); the rest of the
# recipes' settings (CUDA graphs, TE layers, grouped GEMM, comm overlap, ...) is validated as is.
CPU_SKIPS = [
    (
        "model",
        "apply_rope_fusion",
        False,
        "fused RoPE is a transformer-engine kernel (TransformerConfig: 'Please install TE >= 1.4')",
    ),
    (
        "model",
        "moe_token_dispatcher_type",
        "alltoall",
        "the flex dispatcher (DeepEP/HybridEP) asserts CUDA ('Torch not compiled with CUDA')",
    ),
    (
        "model",
        "moe_permute_fusion",
        False,
        "fused permutation is a transformer-engine kernel ('Please install TE >= 2.1.0')",
    ),
]


def _apply_cpu_skips(config: object) -> list[dict[str, object]]:
    skipped: list[dict[str, object]] = []
    for section, name, value, why in CPU_SKIPS:
        owner = getattr(config, section)
        before = getattr(owner, name, value)
        if before != value:
            setattr(owner, name, value)
            skipped.append({"key": f"{section}.{name}", "was": repr(before), "why": why})
    return skipped


def _plain(value: object) -> object:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value):
        return type(value).__module__ + "." + type(value).__qualname__
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return repr(value)


def _fields(obj: object) -> dict[str, object]:
    return {f.name: _plain(getattr(obj, f.name, None)) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]


def check(handoff_file: str, world_size: int) -> dict[str, object]:
    """Build and validate one hand-off; what Megatron-Bridge made of it."""
    os.environ["WORLD_SIZE"] = str(world_size)
    handoff = Handoff.read(handoff_file)
    config = build_config_container(handoff)
    skipped = _apply_cpu_skips(config)
    runtime_config_update(config)  # what pretrain()/finetune() run first: ends in validate()
    dataset = config.dataset
    specs = getattr(dataset, "offline_packing_specs", None)
    return {
        "skipped": skipped,
        "data_parallel_size": config.data_parallel_size,
        "dataset_type": type(dataset).__module__ + "." + type(dataset).__qualname__,
        "dataset": _fields(dataset),
        "packing": _fields(specs) if specs is not None else None,
        "model_type": type(config.model).__module__ + "." + type(config.model).__qualname__,
        "model": _fields(config.model),
        "train": _fields(config.train),
        "checkpoint": _fields(config.checkpoint),
        "tokenizer": _fields(config.tokenizer),
        "resume": resume(config),
    }


def resume(config: object) -> dict[str, object]:
    """What Megatron-Bridge decides at start about resuming (its own functions, as `setup` and
    `load_checkpoint` call them): is there a checkpoint in `checkpoint.load`, and which
    iteration would it load (-1: none, the run starts from scratch)."""
    from megatron.bridge.training.checkpointing import _resolve_checkpoint_iteration
    from megatron.bridge.training.utils.checkpoint_utils import checkpoint_exists

    checkpoint = config.checkpoint  # type: ignore[attr-defined]
    iteration, _release = _resolve_checkpoint_iteration(checkpoint.load, checkpoint.ckpt_step)
    return {"exists": checkpoint_exists(checkpoint.load), "iteration": iteration}


def _importable(path: str) -> bool:
    module, _, name = path.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def _key_tree(value: object, owner: object) -> object:
    """The keys of the dataclasses in Megatron-Bridge's override dict; None where any key goes
    (a plain dict field such as `env_vars`, a leaf, or a section the recipe leaves None)."""
    if isinstance(value, dict) and dataclasses.is_dataclass(owner):
        return {
            str(k): _key_tree(v, getattr(owner, str(k), None)) for k, v in sorted(value.items())
        }
    return None


def recipe_keys(recipe: str) -> object:
    """Every key of the recipe's ConfigContainer, as `create_omegaconf_dict_config` lays it out."""
    from megatron.bridge.training.utils.omegaconf_utils import create_omegaconf_dict_config
    from omegaconf import OmegaConf

    from nemotron.recipes.nano3.train._megatron import recipe_function

    config = recipe_function(recipe)()
    omega, _excluded = create_omegaconf_dict_config(config)
    return _key_tree(OmegaConf.to_container(omega, resolve=False), config)


def hf_model(folder: str) -> dict[str, object]:
    """The model Megatron-Bridge makes of a Hugging Face config (as NeMo-RL does for it)."""
    from megatron.bridge import AutoBridge
    from transformers import AutoConfig

    provider = AutoBridge.from_hf_config(AutoConfig.from_pretrained(folder))
    return _fields(provider.to_megatron_provider(load_weights=False))


def main(cases_file: str, result_file: str) -> None:
    spec = json.loads(Path(cases_file).read_text())
    results: dict[str, object] = {
        "classes": {path: _importable(path) for path in spec["classes"]},
        "keys": {recipe: recipe_keys(recipe) for recipe in spec["recipes"]},
        "hf_models": {name: hf_model(path) for name, path in spec["hf_models"].items()},
    }
    for name, case in spec["cases"].items():
        try:
            results[name] = {"ok": True, **check(case["handoff"], case["world_size"])}
        except Exception as err:  # reported per case; the test names the case and the error
            results[name] = {"ok": False, "error": f"{type(err).__name__}: {err}"}
    Path(result_file).write_text(json.dumps(results, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

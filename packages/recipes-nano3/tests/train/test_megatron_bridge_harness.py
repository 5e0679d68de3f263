"""Every pretrain/SFT stage config, handed to the real Megatron-Bridge 0.6.2 config code on CPU.

For each case our own code resolves the stage config (`prepare_stage`: artifacts, overrides) and
writes `handoff.yaml`; inside .venvs/megatron (`scripts/megatron-venv.sh`), `megatron_bridge_check.py`
builds the recipe's ConfigContainer from it through `_megatron.build_config_container` (recipe
function, our `train:`, the `train.` overrides, Megatron-Bridge's `apply_overrides`) and calls
`ConfigContainer.validate()`. The SFT recipe reads the model's Hugging Face config from HF_HOME with
HF_HUB_OFFLINE=1, as on an offline compute node (a config.json in assets/, see its README).

Not checked here, because they fail without transformer-engine or CUDA (the check turns them off
first and each case lists which were on): fused RoPE, the flex (DeepEP/HybridEP) token dispatcher,
fused permutation. Everything else of the recipes (CUDA graph settings, TE layers, grouped GEMM,
communication overlap, ...) is validated as configured.
Megatron-Bridge's own test-only stand-ins for Python 3.11 are in megatron_shim.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from nemotron.recipes.nano3.train import Handoff, prepare_stage
from nemotron.recipes.nano3.train._train_keys import BRIDGE_VERSION, KEYS_FILE

from .bridge_run import bridge_missing, run_bridge_check

HERE = Path(__file__).resolve().parent
CONFIGS = HERE.parents[1] / "src/nemotron/recipes/nano3/configs"
HF_MODEL = "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"
SNAPSHOT = "0" * 40

# what fixes the shapes of the weights a generation engine is refit with
TINY_ARCHITECTURE = (
    "num_layers",
    "hybrid_layer_pattern",
    "hidden_size",
    "ffn_hidden_size",
    "num_attention_heads",
    "num_query_groups",
    "kv_channels",
)

# case -> (stage, config, overrides, GPUs it is meant for)
CASES: dict[str, tuple[str, str, list[str], int]] = {
    "pretrain-default": ("pretrain", "default", [], 8),
    "pretrain-tiny": ("pretrain", "tiny", [], 1),
    "sft-default": ("sft", "default", [], 8),
    "sft-tiny": ("sft", "tiny", [], 1),
    "pretrain-tiny-overrides": (
        "pretrain",
        "tiny",
        [
            "train.train.train_iters=3",
            "train.train.global_batch_size=4",
            "train.model.num_layers=2",
            "train.model.hybrid_layer_pattern=*-",
        ],
        1,
    ),
}


def _hf_home(root: Path) -> Path:
    """An HF_HOME holding only the model's config.json, laid out as `hf download` leaves it."""
    repo = root / "hub" / ("models--" + HF_MODEL.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs/main").write_text(SNAPSHOT)
    snapshot = repo / "snapshots" / SNAPSHOT
    snapshot.mkdir(parents=True)
    shutil.copy(HERE / "assets/nemotron-3-nano-config/config.json", snapshot / "config.json")
    return root


def _publish_inputs(tmp: Path) -> dict[str, Any]:
    """The artifacts the stage configs read: real packed SFT data (npy), a blend, parent models."""
    from nemotron.kit.artifacts import ModelArtifact, PretrainBlendsArtifact, SplitJsonlDataArtifact
    from nemotron.kit.config import cli
    from nemotron.recipes.nano3.data_prep import SFTDataConfig, run_sft

    pretrain = tmp / "pretrain-data"
    pretrain.mkdir()
    blend = pretrain / "blend.json"
    blend.write_text(json.dumps({"train": ["1.0", "a_train"], "valid": ["a_valid"], "test": []}))
    PretrainBlendsArtifact(path=str(pretrain), blend_path=str(blend)).save(
        name="nano3-pretrain-data"
    )
    sft_config = cli(
        SFTDataConfig,
        argv=[
            "--config",
            str(CONFIGS / "data_prep/sft/tiny.yaml"),
            "format=npy",
            f"output_dir={tmp / 'sft-data'}",
        ],
    )
    sft_data = run_sft(sft_config)
    checkpoint = tmp / "checkpoints/iter_0000020"
    checkpoint.mkdir(parents=True)
    (checkpoint / "run_config.yaml").write_text("model: {num_layers: 4}\n")
    for name in ("nano3-pretrain-model", "nano3-tiny-pretrain-model", "nano3-tiny-sft-model"):
        ModelArtifact(path=str(checkpoint), step=20).save(name=name)
    rl_data = tmp / "rl-data"
    rl_data.mkdir()
    for split in ("train", "val"):
        (rl_data / f"{split}.jsonl").write_text('{"question": "1+1?", "expected_answer": "2"}\n')
    SplitJsonlDataArtifact(
        path=str(rl_data),
        train_path=str(rl_data / "train.jsonl"),
        val_path=str(rl_data / "val.jsonl"),
    ).save(name="nano3-rl-data")
    return {"sft_data": sft_data.path, "reader": sft_data.metadata["reader"]}


@pytest.fixture(scope="module")
def bridge_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run every case through Megatron-Bridge once (one interpreter start: ~20 s of imports)."""
    missing = bridge_missing()
    if missing:
        pytest.skip(missing)
    tmp = tmp_path_factory.mktemp("bridge")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEMOTRON_ARTIFACTS_ROOT", str(tmp / "registry"))
        mp.setenv("NEMOTRON_OUTPUT_DIR", str(tmp / "out"))
        inputs = _publish_inputs(tmp)
        cases = {}
        for name, (stage, config, overrides, gpus) in CASES.items():
            handoff = prepare_stage(
                stage, ["--config", str(CONFIGS / stage / f"{config}.yaml"), *overrides]
            )
            cases[name] = {
                "handoff": str(handoff.write(tmp / "handoffs" / name)),
                "world_size": gpus,
            }
        # the Hugging Face config tiny RL gives vLLM (policy.model_name), as the hand-off has it
        tiny_rl = prepare_stage("rl", ["--config", str(CONFIGS / "rl/tiny.yaml")])
    recipes = sorted({Handoff.read(case["handoff"]).recipe for case in cases.values()})
    spec = {
        "cases": cases,
        "classes": [inputs["reader"]],
        "recipes": recipes,
        "hf_models": {"rl-tiny": tiny_rl.train["policy"]["model_name"]},
    }
    results = run_bridge_check(spec, tmp, hf_home=_hf_home(tmp / "hf-home"))
    return {**results, "inputs": inputs, "output_dir": str(tmp / "out")}


@pytest.mark.parametrize("case", list(CASES))
def test_megatron_bridge_validates_the_stage_config(bridge_results, case: str) -> None:
    result = bridge_results[case]
    assert result["ok"], f"{case}: {result.get('error')}"
    assert result["data_parallel_size"] == CASES[case][3]  # TP = PP = CP = 1 in every config
    # Only the transformer-engine/CUDA-only checks were turned off for the CPU, each named with why.
    expected = {
        "pretrain-default": {
            "model.apply_rope_fusion",
            "model.moe_token_dispatcher_type",
            "model.moe_permute_fusion",
        },
        "sft-default": {"model.moe_token_dispatcher_type", "model.moe_permute_fusion"},
    }.get(case, {"model.apply_rope_fusion"} if case.startswith("pretrain") else set())
    assert {s["key"] for s in result["skipped"]} == expected


def test_tiny_pretrain_clears_every_moe_size(bridge_results) -> None:
    model = bridge_results["pretrain-tiny"]["model"]
    assert model["num_moe_experts"] is None
    assert model["moe_ffn_hidden_size"] is None
    assert model["moe_shared_expert_intermediate_size"] is None
    assert (model["num_layers"], model["hidden_size"], model["hybrid_layer_pattern"]) == (
        4,
        128,
        "*-*-",
    )


def test_sft_uses_only_our_packed_data(bridge_results) -> None:
    sft_data = bridge_results["inputs"]["sft_data"]
    for case in ("sft-default", "sft-tiny"):
        result = bridge_results[case]
        assert result["dataset_type"] == "megatron.bridge.data.builders.gpt_sft.GPTSFTDatasetConfig"
        dataset, packing = result["dataset"], result["packing"]
        assert dataset["hf_dataset"] is None and dataset["hf_validation_proportion"] is None
        assert dataset["dataset_root"] == sft_data
        assert packing["packed_train_data_path"] == f"{sft_data}/training.npy"
        # format: npy -> Bridge is pointed at the packing metadata our data prep wrote
        assert packing["packed_metadata_path"] == f"{sft_data}/packing_metadata.json"
        assert Path(packing["packed_metadata_path"]).is_file()
        assert packing["packed_sequence_size"] == dataset["seq_length"] == 1024


def test_packed_sft_reader_recorded_by_data_prep_exists_in_megatron_bridge(bridge_results) -> None:
    reader = bridge_results["inputs"]["reader"]
    assert reader == "megatron.bridge.data.packing.gpt_sft.GPTSFTPackedDataset"
    assert bridge_results["classes"] == {reader: True}


def test_tiny_sft_builds_the_tiny_pretrain_model_on_one_gpu(bridge_results) -> None:
    sft, pretrain = bridge_results["sft-tiny"]["model"], bridge_results["pretrain-tiny"]["model"]
    architecture = (
        "hybrid_layer_pattern",
        "num_layers",
        "hidden_size",
        "ffn_hidden_size",
        "num_attention_heads",
        "num_query_groups",
        "kv_channels",
        "num_moe_experts",
    )
    assert {k: sft[k] for k in architecture} == {k: pretrain[k] for k in architecture}
    assert sft["expert_model_parallel_size"] == 1
    assert bridge_results["sft-tiny"]["checkpoint"]["pretrained_checkpoint"].endswith(
        "iter_0000020"
    )


def test_sft_recipe_reads_the_hugging_face_config_offline_from_hf_home(bridge_results) -> None:
    # HF_HUB_OFFLINE=1: the 30B architecture can only have come from the config.json in HF_HOME
    model = bridge_results["sft-default"]["model"]
    assert (model["num_layers"], model["hidden_size"], model["num_moe_experts"]) == (52, 2688, 128)
    assert model["expert_model_parallel_size"] == 8


def test_tiny_rl_generation_model_is_the_tiny_model(bridge_results) -> None:
    # vLLM builds its model from tiny RL's policy.model_name and is refit with the policy's weights
    # (the tiny SFT model, whose parent is tiny pretrain): Megatron-Bridge's own Hugging Face
    # conversion of that config (AutoBridge.from_hf_config, as NeMo-RL uses it) must give the
    # tiny pretrain architecture, not the 30B one.
    from_hf = bridge_results["hf_models"]["rl-tiny"]
    tiny = bridge_results["pretrain-tiny"]["model"]
    for key in TINY_ARCHITECTURE:
        assert from_hf[key] == tiny[key], key
    assert from_hf["hybrid_layer_pattern"] == "*-*-" and from_hf["num_layers"] == 4


def test_train_overrides_reach_megatron_bridge(bridge_results) -> None:
    result = bridge_results["pretrain-tiny-overrides"]
    assert result["train"]["train_iters"] == 3 and result["train"]["global_batch_size"] == 4
    assert (result["model"]["num_layers"], result["model"]["hybrid_layer_pattern"]) == (2, "*-")


def test_shipped_key_list_is_megatron_bridges_own(bridge_results, tmp_path) -> None:
    """The key list our pre-submit check uses (no Megatron-Bridge there) equals the real one."""
    fresh = {"megatron_bridge": BRIDGE_VERSION, "recipes": bridge_results["keys"]}
    if json.loads(KEYS_FILE.read_text()) != fresh:
        (tmp_path / KEYS_FILE.name).write_text(json.dumps(fresh, indent=1, sort_keys=True) + "\n")
        pytest.fail(
            f"{KEYS_FILE} differs from Megatron-Bridge's keys: see {tmp_path / KEYS_FILE.name}"
        )


def test_a_rerun_resumes_from_its_own_checkpoints(bridge_results) -> None:
    """checkpoint.load is checkpoint.save (under NEMOTRON_OUTPUT_DIR, the shared storage in a
    cluster job): a resubmitted job resumes. Nothing saved yet, so Megatron-Bridge starts fresh
    (the box's resubmit test: tests/cluster/test_box_resume.py)."""
    for case, folder in (("pretrain-tiny", "nano3-tiny/pretrain"), ("sft-tiny", "nano3-tiny/sft")):
        checkpoint = bridge_results[case]["checkpoint"]
        expected = f"{bridge_results['output_dir']}/{folder}/checkpoints"
        assert checkpoint["load"] == checkpoint["save"] == expected
        assert bridge_results[case]["resume"] == {"exists": False, "iteration": -1}

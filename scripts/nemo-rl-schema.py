#!/usr/bin/env python3
"""Write NeMo-RL's config schema (its TypedDict / pydantic config classes) as data, with source lines.

    python scripts/nemo-rl-schema.py /path/to/NeMo-RL-checkout v0.7.0 > \
        packages/recipes-nano3/src/nemotron/recipes/nano3/train/nemo_rl_schema.json

NeMo-RL cannot be installed here (Python >=3.13, CUDA), so the RL stage checks its `train:` keys
against these facts: GRPO's `MasterConfig` (nemo_rl/algorithms/grpo.py) and every class it reaches
through field types and base classes, each annotated field with its type text, file and line, at
the tag's commit (read with `git show`).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys


def _git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", repo, *args], check=True, capture_output=True, text=True
    ).stdout


# The base configs our RL stage configs inherit (`defaults:`: tiny the math example, default the
# Nano 3 recipe of NeMo-RL's guide), and the values of them our configs must override or rely on
# (train/_nemo_rl_rules.py merges them as NeMo-RL does before checking its rules).
BASE_CONFIGS = ("examples/configs/grpo_math_1B.yaml", "examples/nemo_gym/grpo_nanov3.yaml")
BASE_KEYS = (
    "grpo.num_prompts_per_step",
    "grpo.num_generations_per_prompt",
    "policy.model_name",
    "policy.train_global_batch_size",
    "policy.train_micro_batch_size",
    "policy.dtensor_cfg.enabled",
    "policy.megatron_cfg.enabled",
    "policy.megatron_cfg.tensor_model_parallel_size",
    "policy.megatron_cfg.pipeline_model_parallel_size",
    "policy.megatron_cfg.context_parallel_size",
    "policy.megatron_cfg.expert_model_parallel_size",
    "policy.sequence_packing.enabled",
    "policy.dynamic_batching.enabled",
    "data.train.dataset_name",
    "data.train.data_path",
    "data.validation.data_path",
    "data.default.dataset_name",
    "data.train.split_validation_size",
    "data.validation",
    "data.default.prompt_file",
    "data.default.processor",
    "data.default.env_name",
    "checkpointing.metric_name",
    "checkpointing.higher_is_better",
    "cluster.gpus_per_node",
    "cluster.num_nodes",
    "checkpointing.checkpoint_dir",
    "logger.log_dir",
    "env.should_use_nemo_gym",
)


def _base_facts(text: str) -> dict[str, dict[str, object]]:
    """Each of BASE_KEYS with its value and line in the base config."""
    import yaml

    facts: dict[str, dict[str, object]] = {}

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, key.value))
            return  # a section: its keys are facts of their own
        dotted = ".".join(path)
        if dotted in BASE_KEYS:
            value = yaml.safe_load(yaml.serialize(node))
            facts[dotted] = {"value": value, "line": node.start_mark.line + 1}

    walk(yaml.compose(text), ())
    return facts


def main(repo: str, tag: str) -> None:
    commit = _git(repo, "rev-parse", f"{tag}^{{commit}}").strip()
    files = [
        f
        for f in _git(repo, "ls-tree", "-r", "--name-only", commit, "nemo_rl").split()
        if f.endswith(".py")
    ]
    found: dict[str, list[dict[str, object]]] = {}
    for path in sorted(files):
        for node in ast.walk(ast.parse(_git(repo, "show", f"{commit}:{path}"))):
            if isinstance(node, ast.ClassDef):
                fields = {
                    item.target.id: {"type": ast.unparse(item.annotation), "line": item.lineno}
                    for item in node.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                }
                bases = [ast.unparse(b).split("[")[0].rsplit(".", 1)[-1] for b in node.bases]
                found.setdefault(node.name, []).append(
                    {"file": path, "line": node.lineno, "bases": bases, "fields": fields}
                )
    # GRPO's MasterConfig and every class it reaches (field types, base classes, subclasses).
    classes = {
        "MasterConfig": [
            e for e in found["MasterConfig"] if e["file"] == "nemo_rl/algorithms/grpo.py"
        ]
    }
    while True:
        refs: set[str] = set()
        for entries in classes.values():
            for entry in entries:
                types = " ".join(f["type"] for f in entry["fields"].values())  # type: ignore[attr-defined]
                refs |= set(re.findall(r"[A-Z][A-Za-z0-9_]*", types)) | set(entry["bases"])  # type: ignore[arg-type]
        subclasses = {
            n for n, es in found.items() if any(set(e["bases"]) & set(classes) for e in es)
        }  # type: ignore[arg-type]
        new = {n for n in (refs | subclasses) if n in found and n not in classes}
        if not new:
            break
        classes.update({n: found[n] for n in new})
    bases = [
        {"file": path, "values": _base_facts(_git(repo, "show", f"{commit}:{path}"))}
        for path in BASE_CONFIGS
    ]
    json.dump(
        {
            "repository": "NVIDIA-NeMo/RL",
            "tag": tag,
            "commit": commit,
            "classes": classes,
            "base_configs": bases,
        },
        sys.stdout,
        indent=1,
        sort_keys=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

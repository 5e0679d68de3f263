"""Tiny GPT pretraining with megatron-core alone: the GPU smoke test of our pretrain artifact.

    python -m nemotron.recipes.nano3.train._mcore_tiny --blend BLEND_JSON --out DIR [--iters 40]

Not the recipe's training path (that is Megatron-Bridge, `_megatron.py`); this proves, where
Megatron-Bridge and transformer-engine cannot be installed, that megatron-core trains on the
blend our data prep wrote and that the checkpoint it saves publishes as a ModelArtifact
(`nemotron nano3 model import pretrain DIR`). Public megatron-core API only (0.19): local layer
spec, `BlendedMegatronDatasetBuilder(GPTDataset)` over `blend_per_split`, `dist_checkpointing.save`.
One process on one GPU (NCCL); it writes the layout Megatron-Bridge writes (tracker file, `iter_%07d/`)
plus our `nemotron_train_summary.json` (last step and loss). Needs torch and megatron-core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from nemotron.recipes.nano3.train._blend import read_blend_per_split
from nemotron.recipes.nano3.train._checkpoints import MEGATRON_TRACKER_FILE, write_train_summary

__all__ = ["main", "train"]

_TOKENIZER = Path(__file__).resolve().parent.parent / "assets" / "tokenizer" / "tokenizer.json"


class _Vocab:
    """What GPTDataset reads of a tokenizer: vocab size, end-of-document and pad ids, identity."""

    def __init__(self, tokenizer_json: Path) -> None:
        spec = json.loads(tokenizer_json.read_text())
        ids = list(spec["model"]["vocab"].values()) + [
            t["id"] for t in spec.get("added_tokens", [])
        ]
        self.vocab_size = max(ids) + 1
        special = {t["content"]: t["id"] for t in spec.get("added_tokens", [])}
        self.eod = next(
            (v for k, v in special.items() if "endoftext" in k or k in ("</s>", "<eos>")),
            self.vocab_size - 1,
        )
        self.pad = self.eod
        # Identifies the tokenizer in megatron-core's dataset cache descriptions.
        self.unique_identifiers = {"class": "tokenizer.json", "path": str(tokenizer_json)}


def train(
    blend_file: str, out: str, iters: int, seq_length: int, batch: int, tokenizer_json: Path
) -> tuple[int, float]:
    """Train `iters` steps, save the final checkpoint under `out`, return (step, last loss)."""
    import torch
    import torch.distributed as dist
    from megatron.core import dist_checkpointing, parallel_state, tensor_parallel
    from megatron.core.datasets.blended_megatron_dataset_builder import (
        BlendedMegatronDatasetBuilder,
    )
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
    from megatron.core.models.gpt import GPTModel
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
    from megatron.core.transformer.transformer_config import TransformerConfig

    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29511")
    if not torch.cuda.is_available():
        # megatron-core 0.19's local attention allocates its buffer with torch.cuda.current_device()
        raise SystemExit(
            "error: megatron-core tiny pretrain needs a CUDA GPU (see scripts/gpu-smoke.sh)"
        )
    device = torch.device("cuda", 0)
    dist.init_process_group("nccl", world_size=1, rank=0)
    torch.cuda.set_device(0)
    parallel_state.initialize_model_parallel(1, 1)
    tensor_parallel.model_parallel_cuda_manual_seed(1234)

    vocab = _Vocab(tokenizer_json)
    data_config = GPTDatasetConfig(
        random_seed=1234,
        sequence_length=seq_length,
        blend_per_split=read_blend_per_split(blend_file),
        tokenizer=vocab,
        reset_position_ids=False,
        reset_attention_mask=False,
        eod_mask_loss=False,
        create_attention_mask=False,
    )
    train_ds, _valid, _test = BlendedMegatronDatasetBuilder(
        GPTDataset, [iters * batch, 0, 0], lambda: True, data_config
    ).build()
    loader = torch.utils.data.DataLoader(train_ds, batch_size=batch, shuffle=False)

    model_config = TransformerConfig(
        num_layers=2,
        hidden_size=128,
        num_attention_heads=4,
        ffn_hidden_size=512,
        use_cpu_initialization=True,
        pipeline_dtype=torch.float32,
    )
    model = GPTModel(
        config=model_config,
        transformer_layer_spec=get_gpt_layer_local_spec(),
        vocab_size=vocab.vocab_size,
        max_sequence_length=seq_length,
        position_embedding_type="learned_absolute",
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    step, loss_value = 0, float("nan")
    for step, sample in enumerate(loader, start=1):
        tokens = sample["tokens"].to(device)
        losses = model(
            tokens, sample["position_ids"].to(device), None, labels=sample["labels"].to(device)
        )
        mask = sample["loss_mask"].to(device)
        loss = (losses.float() * mask).sum() / mask.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_value = float(loss.item())
        if step == 1 or step % 10 == 0:
            print(f"step {step:4d}  loss {loss_value:.4f}", flush=True)

    iteration = Path(out) / f"iter_{step:07d}"
    iteration.mkdir(parents=True, exist_ok=True)
    dist_checkpointing.save(model.sharded_state_dict(prefix="model."), str(iteration))
    (Path(out) / MEGATRON_TRACKER_FILE).write_text(str(step))
    write_train_summary(out, step, loss_value)
    dist.destroy_process_group()
    return step, loss_value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blend", required=True, help="blend.json of a PretrainBlendsArtifact")
    parser.add_argument("--out", required=True, help="checkpoint folder to write")
    parser.add_argument("--iters", type=int, default=40)
    parser.add_argument("--seq-length", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokenizer", type=Path, default=_TOKENIZER)
    args = parser.parse_args(argv)
    step, loss = train(
        args.blend, args.out, args.iters, args.seq_length, args.batch, args.tokenizer
    )
    print(f"megatron-core tiny pretrain: step {step}, final loss {loss:.4f}, checkpoint {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

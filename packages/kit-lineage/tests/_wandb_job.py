"""A two-stage job run by test_wandb_offline.py in a subprocess (inside a network namespace).

    python _wandb_job.py prep DATA_DIR     data prep: sources + tokenizer -> Blends
    python _wandb_job.py train CKPT_DIR    pretrain: Blends -> Base (via ${art:}-style use)

Before any W&B call it proves that outgoing connections fail here, and prints `probe: blocked`.
"""

from __future__ import annotations

import socket
import sys

from nemotron.kit.artifacts import InputDatasetInfo, ModelArtifact, PretrainBlendsArtifact
from nemotron.kit.lineage import (
    add_wandb_tags,
    finish_wandb,
    get_lineage_tracker,
    init_wandb_if_configured,
)


def probe() -> None:
    try:
        socket.create_connection(("93.184.215.14", 443), timeout=3).close()
    except OSError as err:
        print(f"probe: blocked ({err})", flush=True)
    else:
        raise SystemExit("probe: an outgoing connection succeeded; the test would prove nothing")


def main(stage: str, folder: str) -> None:
    probe()
    cfg = {
        "wandb": {"project": "nano3-test", "entity": "kit-team"},
        "run": {"wandb": {"group": "exp-1", "tags": ["nano3"]}},
        "train": {"lr": 3e-4, "hf_token": "hf_SECRET_SHOULD_NOT_LEAK"},
    }
    run = init_wandb_if_configured(cfg, job_type=stage, tags=[stage])
    assert run is not None and run.offline, run
    add_wandb_tags(["extra-tag"])
    tracker = get_lineage_tracker()
    if stage == "prep":
        PretrainBlendsArtifact(
            path=folder,
            blend_path=f"{folder}/blend.json",
            total_tokens=12345,
            tokenizer="nvidia/Nemotron-Tokenizer",
            source_datasets=[
                InputDatasetInfo(uri="hf://nvidia/Nemotron-CC", name="nemotron-cc", revision="r1"),
            ],
            inputs=[
                InputDatasetInfo(uri="/raw/code-jsonl", name="code", split="train"),
                # how recipes list the tokenizer (the `tokenizer` field names it too)
                InputDatasetInfo(uri="hf://nvidia/Nemotron-Tokenizer", name="tokenizer"),
            ],
        ).save(name="Blends")
    else:
        assert tracker is not None
        blends = tracker.use_artifact("art://Blends:latest", PretrainBlendsArtifact)  # type: ignore[attr-defined]
        ModelArtifact(path=folder, step=500, loss=1.25, metadata={"blend": blends.uri}).save(
            name="Base"
        )
    finish_wandb(0)
    print(f"run-dir: {run.dir}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

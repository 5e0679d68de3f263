"""Read what Megatron-Bridge and NeMo-RL leave on disk: which step, which folder, what loss.

Layouts (checked against the sources, see docs/training.md):

Megatron-Bridge 0.6 (`training/checkpointing.py::save_checkpoint`,
`training/utils/checkpoint_utils.py`)::

    <checkpoint.save>/
        latest_checkpointed_iteration.txt   "<step>" (or "release"): the tracker file
        latest_train_state.pt
        iter_<step:07d>/                     run_config.yaml, train_state.pt, and the
                                             distributed checkpoint (metadata.json, .metadata,
                                             common.pt, __<rank>_<n>.distcp)

NeMo-RL 0.7 (`nemo_rl/utils/checkpoint.py::CheckpointManager`, `algorithms/grpo.py`)::

    <checkpointing.checkpoint_dir>/
        step_<N>/                            training_info.json (total_steps, val_reward, ...),
                                             config.yaml, policy/{weights,optimizer,tokenizer}/,
                                             train_dataloader.pt
        tmp_step_<N>/                        a save in progress (never published)

The final training loss is not part of a Megatron-Bridge checkpoint, and NeMo-RL saves it only when
it is the checkpoint metric; the stages record it beside the checkpoints in
`nemotron_train_summary.json` (see `_megatron.py`, `_nemo_rl.py`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nemotron.recipes.nano3.train.errors import CheckpointNotFoundError

__all__ = [
    "MEGATRON_TRACKER_FILE",
    "TRAIN_SUMMARY_FILE",
    "CheckpointInfo",
    "read_megatron_bridge_checkpoint",
    "read_nemo_rl_checkpoint",
    "write_train_summary",
]

MEGATRON_TRACKER_FILE = "latest_checkpointed_iteration.txt"
TRAIN_SUMMARY_FILE = "nemotron_train_summary.json"
_NEMO_RL_STEP = re.compile(r"step_(\d+)")


@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint found on disk: the folder to publish and what it says about itself."""

    root: Path
    """The folder the library saves into (holds the tracker file / the step folders)."""
    path: Path
    """The checkpoint of this step (`iter_0000100/`, `step_3/`)."""
    step: int
    format: str
    loss: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def read_megatron_bridge_checkpoint(root: str | Path, step: int | None = None) -> CheckpointInfo:
    """The checkpoint Megatron-Bridge wrote under `root`: `step`, else the tracker file's step."""
    root = Path(root).absolute()
    tracker = root / MEGATRON_TRACKER_FILE
    if step is None:
        if not tracker.is_file():
            raise CheckpointNotFoundError(
                str(root),
                f"no {MEGATRON_TRACKER_FILE} (not a Megatron-Bridge checkpoint folder)",
                "give the folder set as checkpoint.save, or pass --step N",
            )
        step = _tracker_step(tracker)
    path = root / f"iter_{step:07d}"
    if not path.is_dir():
        found = sorted(p.name for p in root.glob("iter_*") if p.is_dir())
        raise CheckpointNotFoundError(
            str(root),
            f"no {path.name}/ for step {step} (found: {', '.join(found) or 'none'})",
            "pass --step with one of the steps found",
        )
    return CheckpointInfo(
        root=root,
        path=path,
        step=step,
        format=_megatron_format(path),
        loss=_summary_loss(root, step),
        metadata={"library": "megatron-bridge", "tracker_step": _maybe_tracker_step(tracker)},
    )


def read_nemo_rl_checkpoint(root: str | Path, step: int | None = None) -> CheckpointInfo:
    """The `step_N/` checkpoint NeMo-RL wrote under `root`: `step`, else the highest finished."""
    root = Path(root).absolute()
    steps = {
        int(m.group(1)): p
        for p in (root.iterdir() if root.is_dir() else ())
        if p.is_dir() and (m := _NEMO_RL_STEP.fullmatch(p.name))
    }
    if not steps:
        raise CheckpointNotFoundError(
            str(root),
            "no step_<N>/ folder (not a NeMo-RL checkpoint folder, or no save finished)",
            "give the folder set as checkpointing.checkpoint_dir",
        )
    chosen = max(steps) if step is None else step
    if chosen not in steps:
        raise CheckpointNotFoundError(
            str(root),
            f"no step_{chosen}/ (found steps: {', '.join(map(str, sorted(steps)))})",
            "pass --step with one of the steps found",
        )
    path = steps[chosen]
    info_file = path / "training_info.json"
    try:
        info = json.loads(info_file.read_text())
    except (OSError, ValueError) as err:
        raise CheckpointNotFoundError(
            str(info_file), f"unreadable NeMo-RL training info ({err})", "check the checkpoint"
        ) from err
    recorded = int(info.get("total_steps", chosen))
    if recorded != chosen:
        raise CheckpointNotFoundError(
            str(info_file),
            f"total_steps is {recorded} but the folder is step_{chosen}",
            "the checkpoint is inconsistent; pick another step",
        )
    loss = info.get("train:loss")  # only there when the checkpoint metric is train:loss
    return CheckpointInfo(
        root=root,
        path=path,
        step=recorded,
        format=_nemo_rl_format(path),
        loss=float(loss) if isinstance(loss, int | float) else _summary_loss(root, recorded),
        metadata={
            "library": "nemo-rl",
            "training_info": {k: v for k, v in info.items() if isinstance(v, int | float | str)},
        },
    )


def write_train_summary(root: str | Path, step: int, loss: float | None) -> Path:
    """Record the last step and its training loss beside the checkpoints (atomic write)."""
    target = Path(root) / TRAIN_SUMMARY_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"step": step, "loss": loss}) + "\n")
    tmp.replace(target)
    return target


def _tracker_step(tracker: Path) -> int:
    text = tracker.read_text().strip()
    if not text.isdigit() or int(text) <= 0:
        raise CheckpointNotFoundError(
            str(tracker),
            f"tracker holds {text!r}, not a positive step (a 'release' checkpoint has no step)",
            "pass --step N",
        )
    return int(text)


def _maybe_tracker_step(tracker: Path) -> int | None:
    text = tracker.read_text().strip() if tracker.is_file() else ""
    return int(text) if text.isdigit() else None


def _megatron_format(path: Path) -> str:
    try:
        meta = json.loads((path / "metadata.json").read_text())
    except (OSError, ValueError):
        return "megatron-bridge"
    backend = meta.get("sharded_backend") if isinstance(meta, dict) else None
    return f"megatron-bridge/{backend}" if backend else "megatron-bridge"


def _summary_loss(root: Path, step: int) -> float | None:
    try:
        summary = json.loads((root / TRAIN_SUMMARY_FILE).read_text())
    except (OSError, ValueError):
        return None
    loss = summary.get("loss")
    if summary.get("step") != step or not isinstance(loss, int | float):
        return None
    return float(loss)


def _nemo_rl_format(path: Path) -> str:
    import yaml  # PyYAML comes with omegaconf (kit-config)

    try:
        config = yaml.safe_load((path / "config.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return "nemo-rl"
    policy = config.get("policy") or {}
    backend = "megatron" if (policy.get("megatron_cfg") or {}).get("enabled") else "dtensor"
    return f"nemo-rl/{backend}"

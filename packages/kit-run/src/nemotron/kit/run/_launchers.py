"""How a job's processes start, as the stage declares it: one task, torchrun, or a Ray cluster.

The profile says where and how big (nodes, GPUs, partition); the stage says what kind of
program it is. `for_launcher(profile, kind)` returns the profile the executor is built from:

- `task`: exactly one process (one node, one task, no torchrun, no Ray). A data prep never
  runs N copies writing one folder, whatever `ntasks_per_node` or `gpus_per_node` say.
- `torchrun`: torchrun over the profile's nodes x GPUs. A profile without GPUs has no rank
  layout for it: the job runs as one task.
- `ray`: a Ray cluster over the profile's nodes (NeMo-Run's Ray template) on a Slurm profile
  with `ray = true`; elsewhere one process, which starts its own local Ray.

`None` keeps the profile's own `launcher`/`ray` keys (the `launch()` API for scripts).
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

import msgspec

from nemotron.kit.run._backends import can_start_ray
from nemotron.kit.run._profiles import BaseProfile

__all__ = ["LAUNCHERS", "Launcher", "for_launcher"]

Launcher = Literal["task", "torchrun", "ray"]
LAUNCHERS: tuple[str, ...] = get_args(Launcher)

P = TypeVar("P", bound=BaseProfile)


def _one_task(profile: P) -> P:
    return msgspec.structs.replace(profile, nodes=1, ntasks_per_node=1, launcher="none", ray=False)


def for_launcher(profile: P, kind: Launcher | None) -> P:
    """The profile a job of launcher `kind` is built from (see the module docstring)."""
    if kind is None:
        return profile
    if kind not in LAUNCHERS:
        raise ValueError(f"unknown launcher {kind!r}; use one of {', '.join(LAUNCHERS)}")
    if kind == "task":
        return _one_task(profile)
    if kind == "torchrun":
        if profile.gpus_per_node < 1:
            return _one_task(profile)
        return msgspec.structs.replace(profile, ntasks_per_node=1, launcher="torchrun", ray=False)
    if can_start_ray(profile):
        return msgspec.structs.replace(profile, ntasks_per_node=1, launcher="none")
    return _one_task(profile)
